// A worker killed with SIGKILL in the middle of provisioning, twice, and started again: every accepted signup must
// still end in exactly one database, and no temporary file may be left behind. The worker runs as a child process
// (`node --import tsx src/worker.ts`), as in production.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Client, Connection } from '@temporalio/client';
import pino from 'pino';

import { buildDeliveries } from '../../bench/lib/load';
import type { NodeChild } from '../../bench/lib/processes';
import {
  checkDatabases,
  countWorkflows,
  createWorkerProcess,
  describeAll,
  startWorkerProcess,
  waitForReady,
} from '../../bench/lib/system';
import { createApp } from '../../src/api/app';
import { createTemporalProvisioning } from '../../src/api/provisioning';
import { signHookdeck } from '../../src/api/signature';
import { TASK_QUEUE } from '../../src/shared';
import { freePort, RestartableDevServer } from '../helpers/dev-server';
import { SIGNING_SECRET } from '../helpers/system';

const SIGNUPS = 30;
// Generous, because an activity cut off by a kill is retried only after its start-to-close timeout (1 minute).
const CLOSE_TIMEOUT_MS = 150_000;

let dataDir: string;
let devServer: RestartableDevServer;
let worker: NodeChild;
let client: Client;
let baseUrl: string;
let closeApi: () => Promise<void>;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-crash-'));
  devServer = new RestartableDevServer(await freePort(), path.join(dataDir, 'dev-server.sqlite'));
  await devServer.start();

  worker = createWorkerProcess(devServer.address, dataDir, path.join(dataDir, 'worker.log'));
  await startWorkerProcess(worker);

  client = new Client({ connection: Connection.lazy({ address: devServer.address }) });
  const app = createApp({
    hookdeck: { signingSecret: SIGNING_SECRET, requireVerified: true },
    maxBodyBytes: 1024 * 1024,
    seedSchema: true,
    provisioning: createTemporalProvisioning(client, { taskQueue: TASK_QUEUE, timeoutMs: 5000 }),
    logger: pino({ level: 'silent' }),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeApi = () => new Promise((resolve) => server.close(() => resolve()));
});

after(async () => {
  await closeApi?.();
  await worker?.stop();
  await client?.connection.close();
  await devServer?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Kills the worker with SIGKILL and starts it again. */
async function crashWorker(): Promise<void> {
  await worker.stop('SIGKILL');
  await startWorkerProcess(worker);
}

/** Resolves once at least `count` workflows are ready, or after `timeoutMs`, whichever comes first. */
async function readyAtLeast(count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await countWorkflows(client)).ready < count) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('signups survive two worker kills', async () => {
  const deliveries = buildDeliveries(SIGNUPS);
  const userIds = deliveries.map((delivery) => delivery.userId);

  const responses = await Promise.all(
    deliveries.map((delivery) =>
      fetch(`${baseUrl}/webhooks/clerk`, {
        method: 'POST',
        body: delivery.body,
        headers: { 'x-hookdeck-signature': signHookdeck(delivery.body, SIGNING_SECRET), 'x-hookdeck-verified': 'true' },
      }),
    ),
  );
  assert.deepEqual(
    responses.map((response) => response.status),
    deliveries.map(() => 202),
  );

  // The first kill lands while the worker works through the batch, the second soon after it started again.
  await readyAtLeast(1, 10_000);
  await crashWorker();
  await readyAtLeast(SIGNUPS / 2, 10_000);
  await crashWorker();

  const counts = await waitForReady(client, SIGNUPS, CLOSE_TIMEOUT_MS);
  assert.equal(counts.timedOut, false, `still provisioning: ${counts.inFlight}`);
  assert.equal(counts.failed, 0);

  const outcomes = await describeAll(client, userIds);
  assert.deepEqual(
    outcomes.filter((outcome) => outcome.status !== 'ready'),
    [],
  );

  const databases = checkDatabases(dataDir, userIds);
  assert.equal(databases.once, SIGNUPS);
  assert.equal(databases.missing, 0);
  assert.equal(databases.duplicated, 0);
  assert.equal(databases.temporaryFiles, 0);
  assert.deepEqual(databases.otherFiles, []);
});
