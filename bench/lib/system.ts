// The real system for a benchmark: a Temporal dev server from .temporal/, the worker (src/worker.ts) and the API
// (src/api/server.ts), each in its own process, so that their memory can be read apart and a crash of one can
// be staged. The load generator and a Temporal client for checks run in the bench process.
import fs from 'node:fs';
import path from 'node:path';

import { Client, Connection } from '@temporalio/client';

import { freePort, RestartableDevServer } from '../../test/helpers/dev-server';
import { SIGNING_SECRET } from './load';
import { childEnv, NodeChild, REPO_ROOT, sleep, waitForHealthy } from './processes';

export interface BenchSystem {
  dataDir: string;
  devServer: RestartableDevServer;
  worker: NodeChild;
  api: NodeChild;
  apiUrl: string;
  client: Client;
  /** Starts the worker, or starts it again after a kill, and resolves once it polls the task queue. */
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

export type DevServerStore = 'file' | 'memory';

export interface BenchSystemOptions {
  /** Folder for the tenant databases, the dev server's state file and the process logs. */
  dataDir: string;
  /**
   * Dev server state storage: `file`, as `npm start` runs it, or `memory`. Only `file` survives a restart of the
   * dev server.
   */
  store: DevServerStore;
  /** TEMPORAL_START_TIMEOUT_MS of the API; the API's default when unset. */
  startTimeoutMs?: number;
  /** Whether to start the worker (default true). Without it, the dev server only records workflow starts. */
  startWorker?: boolean;
}

export async function startBenchSystem(options: BenchSystemOptions): Promise<BenchSystem> {
  const { dataDir } = options;
  const port = await freePort();
  const stateFile = options.store === 'memory' ? undefined : path.join(dataDir, 'dev-server.sqlite');
  const devServer = new RestartableDevServer(port, stateFile);
  await devServer.start();

  const worker = createWorkerProcess(devServer.address, dataDir, path.join(dataDir, 'worker.log'));
  const startWorker = () => startWorkerProcess(worker);
  if (options.startWorker !== false) await startWorker();

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = new NodeChild(
    'API',
    path.join(REPO_ROOT, 'src/api/server.ts'),
    childEnv({
      TEMPORAL_ADDRESS: devServer.address,
      DATA_DIR: dataDir,
      PORT: String(apiPort),
      HOOKDECK_WEBHOOK_SECRET: SIGNING_SECRET,
      ...(options.startTimeoutMs ? { TEMPORAL_START_TIMEOUT_MS: String(options.startTimeoutMs) } : {}),
    }),
    path.join(dataDir, 'api.log'),
  );
  await api.start(() => waitForHealthy(apiUrl));

  // Lazy, like the API's connection, so that it survives a restart of the dev server.
  const connection = Connection.lazy({ address: devServer.address });
  const client = new Client({ connection });

  return {
    dataDir,
    devServer,
    worker,
    api,
    apiUrl,
    client,
    startWorker,
    async stop() {
      await api.stop();
      if (!devServer.running) await devServer.start();
      await worker.stop();
      await connection.close();
      await devServer.stop();
    },
  };
}

/** The worker entry point as a child process, configured for the embedded SQLite provider. */
export function createWorkerProcess(temporalAddress: string, dataDir: string, logFile: string): NodeChild {
  return new NodeChild(
    'worker',
    path.join(REPO_ROOT, 'src/worker.ts'),
    childEnv({ TEMPORAL_ADDRESS: temporalAddress, DATA_DIR: dataDir }),
    logFile,
  );
}

/** Starts the worker process and resolves once it has logged that it runs. */
export async function startWorkerProcess(worker: NodeChild): Promise<void> {
  const from = worker.logSize();
  await worker.start(() => worker.waitForLog('Worker started', from));
}

export interface ProvisioningCounts {
  /** Workflows whose ProvisioningStatus search attribute is `ready`. */
  ready: number;
  /** Workflows whose ProvisioningStatus is `failed`. */
  failed: number;
  /**
   * Workflows started and not yet ready or failed. With local activities a workflow goes from no status straight to
   * `ready` in one workflow task, so counting the intermediate steps would miss every workflow still queued.
   */
  inFlight: number;
}

/**
 * Counts workflows by their ProvisioningStatus search attribute through the visibility store. Readiness comes from
 * the attribute and not from the workflow's close, because a workflow may stay open after its database is ready to
 * handle the user's later deletion.
 */
export async function countWorkflows(client: Client): Promise<ProvisioningCounts> {
  const queries = [
    'ProvisioningStatus = "ready"',
    'ProvisioningStatus = "failed"',
    'WorkflowType = "provisionUserDatabase"',
  ];
  const [ready = 0, failed = 0, started = 0] = await Promise.all(
    queries.map(async (query) => (await client.workflow.count(query)).count),
  );
  return { ready, failed, inFlight: Math.max(0, started - ready - failed) };
}

/**
 * Polls until at least `expected` workflows are ready or failed, or until `timeoutMs` has passed, and returns the
 * last counts. `onPoll` runs after each poll, such as to track the number in flight.
 */
export async function waitForReady(
  client: Client,
  expected: number,
  timeoutMs: number,
  onPoll?: (counts: ProvisioningCounts) => void,
): Promise<ProvisioningCounts & { timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await countWorkflows(client);
    onPoll?.(counts);
    if (counts.ready + counts.failed >= expected) return { ...counts, timedOut: false };
    if (Date.now() > deadline) return { ...counts, timedOut: true };
    await sleep(250);
  }
}

export interface WorkflowOutcome {
  userId: string;
  /** The ProvisioningStatus search attribute, such as `ready`, or `not-found` when no workflow has this id. */
  status: string;
  /** When the workflow set ProvisioningStatus to `ready`, from its history. */
  readyAt?: Date;
}

/** Reads the time of the history event that set ProvisioningStatus to `ready`. */
async function readyTime(client: Client, userId: string): Promise<Date | undefined> {
  const history = await client.workflow.getHandle(userId).fetchHistory();
  for (const event of history.events ?? []) {
    const field =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.ProvisioningStatus;
    if (field?.data && Buffer.from(field.data).toString('utf8') === '"ready"' && event.eventTime) {
      const { seconds, nanos } = event.eventTime;
      return new Date(Number(seconds ?? 0) * 1000 + Math.floor((nanos ?? 0) / 1e6));
    }
  }
  return undefined;
}

/** Describes the workflow of each user id, `concurrency` at a time, with the time it became ready. */
export async function describeAll(client: Client, userIds: string[], concurrency = 16): Promise<WorkflowOutcome[]> {
  const outcomes: WorkflowOutcome[] = new Array(userIds.length);
  let next = 0;
  const describeNext = async (): Promise<void> => {
    while (next < userIds.length) {
      const index = next++;
      const userId = userIds[index] as string;
      try {
        const description = await client.workflow.getHandle(userId).describe();
        const status = String(description.searchAttributes.ProvisioningStatus?.[0] ?? 'unknown');
        const readyAt = status === 'ready' ? await readyTime(client, userId) : undefined;
        outcomes[index] = { userId, status, readyAt };
      } catch (error) {
        if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
        outcomes[index] = { userId, status: 'not-found' };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, describeNext));
  return outcomes;
}

/**
 * Lists everything below `databases/` as paths relative to it, such as `<region>/<file>`, including temporary and
 * SQLite companion files in nested folders. An empty folder is listed with a trailing slash, so that a folder
 * left behind counts as a leftover too.
 */
export function listDatabaseFiles(dataDir: string): string[] {
  const databasesDir = path.join(dataDir, 'databases');
  if (!fs.existsSync(databasesDir)) return [];
  const listFolder = (folder: string): string[] =>
    fs.readdirSync(path.join(databasesDir, folder), { withFileTypes: true }).flatMap((entry) => {
      const entryPath = path.posix.join(folder, entry.name);
      if (!entry.isDirectory()) return [entryPath];

      const contents = listFolder(entryPath);
      return contents.length > 0 ? contents : [`${entryPath}/`];
    });
  return fs
    .readdirSync(databasesDir)
    .flatMap((region) => listFolder(region))
    .sort();
}

export interface DatabaseCheck {
  /** Users with exactly one `.sqlite` file, in any region. */
  once: number;
  /** Users with no database file. */
  missing: number;
  /** Users with database files in more than one region. */
  duplicated: number;
  /** `.tmp` files that an interrupted create left behind, at any depth. */
  temporaryFiles: number;
  /** Files that are neither a user's database nor a `.tmp` file, such as a leftover `-wal`. */
  otherFiles: string[];
}

/** Checks that each of `userIds` has exactly one database file and that nothing else is in `databases/`. */
export function checkDatabases(dataDir: string, userIds: string[]): DatabaseCheck {
  const perUser = new Map<string, number>(userIds.map((id) => [id, 0]));
  const check: DatabaseCheck = { once: 0, missing: 0, duplicated: 0, temporaryFiles: 0, otherFiles: [] };
  for (const file of listDatabaseFiles(dataDir)) {
    const name = path.posix.basename(file);
    const userId = name.endsWith('.sqlite') ? name.slice(0, -'.sqlite'.length) : undefined;
    if (userId !== undefined && perUser.has(userId)) perUser.set(userId, (perUser.get(userId) as number) + 1);
    else if (name.endsWith('.tmp')) check.temporaryFiles++;
    else check.otherFiles.push(file);
  }
  for (const count of perUser.values()) {
    if (count === 0) check.missing++;
    else if (count === 1) check.once++;
    else check.duplicated++;
  }
  return check;
}

export function describeDatabaseCheck(check: DatabaseCheck): string {
  const other = check.otherFiles.length > 0 ? `, other files: ${check.otherFiles.slice(0, 5).join(' ')}` : '';
  return (
    `databases: ${check.once} once, ${check.missing} missing, ${check.duplicated} duplicated, ` +
    `${check.temporaryFiles} .tmp left${other}`
  );
}
