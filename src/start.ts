// `npm start`: runs the whole system on one machine. Unless TEMPORAL_ADDRESS is set, it starts a Temporal
// dev server (with the Web UI) from the binary that scripts/setup.mjs installed, then the worker and the
// API as child processes. Ctrl-C stops the API, then the worker, then the dev server.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Connection } from '@temporalio/client';

import { loadApiConfig } from './config';
import { exitWithError, loadEnvFile, loggerFor } from './process';
import { ALL_SEARCH_ATTRIBUTES } from './shared';
import { DEV_SERVER_SQLITE_PRAGMAS, isInstalled, TEMPORAL_CLI } from './temporal-binaries';

const ROOT = path.resolve(__dirname, '..');

const DEV_SERVER_START_TIMEOUT_MS = 60_000;

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  // A process group of its own keeps Ctrl-C from reaching every child at once, so they stop in order.
  const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit', detached: true });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, process: child, exited };
}

async function waitForFrontend(address: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`The Temporal dev server did not respond on ${address} within 60 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function main(): Promise<void> {
  loadEnvFile();
  // Parsing the API's configuration first stops a missing secret before anything is started.
  const config = loadApiConfig();
  const logger = loggerFor(config, 'start');
  const children: Child[] = [];
  let stopping = false;

  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of [...children].reverse()) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGINT');
      await child.exited;
    }
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  let address = config.temporal.address;
  if (!address) {
    if (!isInstalled(TEMPORAL_CLI)) throw new Error('The Temporal CLI is missing from .temporal/: run `npm run setup`');
    const { port, uiPort } = config.temporal.devServer;
    const stateDir = path.join(config.dataDir, 'temporal');
    fs.mkdirSync(stateDir, { recursive: true });
    address = `127.0.0.1:${port}`;

    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
    args.push('--namespace', config.temporal.namespace, '--db-filename', path.join(stateDir, 'dev-server.sqlite'));
    args.push('--log-level', 'warn', ...DEV_SERVER_SQLITE_PRAGMAS);
    for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);

    children.push(startChild('temporal', TEMPORAL_CLI, args, process.env));
    await waitForFrontend(address, Date.now() + DEV_SERVER_START_TIMEOUT_MS);
    logger.info(`Temporal dev server on ${address}, Web UI on http://localhost:${uiPort}`);
  }

  const env = { ...process.env, TEMPORAL_ADDRESS: address };
  const tsx = ['--import', 'tsx'];
  children.push(startChild('worker', process.execPath, [...tsx, 'src/worker.ts'], env));
  children.push(startChild('api', process.execPath, [...tsx, 'src/api/server.ts'], env));

  for (const child of children) {
    void child.exited.then((code) => {
      if (stopping) return;
      logger.error({ child: child.name, code }, `${child.name} exited unexpectedly; stopping everything`);
      void stopAll(1);
    });
  }
  logger.info(`Webhook endpoint: http://localhost:${config.port}/webhooks/clerk (Ctrl-C stops everything)`);
}

main().catch((error: unknown) => exitWithError(error));
