// A worker killed with SIGKILL in the middle of provisioning, twice, and started again: every accepted signup must
// still end in exactly one database, and no temporary file may be left behind. The worker runs as a child process
// (`node --import tsx src/worker.ts`), as in production.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

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
import { signHookdeck } from '../../src/api/signature';
import { TASK_QUEUE } from '../../src/shared';
import { startTestApi, type TestApi } from '../helpers/api';
import { freePort, RestartableDevServer } from '../helpers/dev-server';
import { SIGNING_SECRET } from '../helpers/system';

const SIGNUPS = 30;
// Generous: a workflow task cut off by a kill is retried after its 10 s timeout, and a regular activity after its
// 1-minute start-to-close timeout.
const CLOSE_TIMEOUT_MS = 150_000;

let dataDir: string;
let devServer: RestartableDevServer;
let worker: NodeChild;
let api: TestApi;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-crash-'));
  devServer = new RestartableDevServer(await freePort(), path.join(dataDir, 'dev-server.sqlite'));
  await devServer.start();

  worker = createWorkerProcess(devServer.address, dataDir, path.join(dataDir, 'worker.log'));
  await startWorkerProcess(worker);

  api = await startTestApi({ temporalAddress: devServer.address, taskQueue: TASK_QUEUE, startTimeoutMs: 5000 });
});

after(async () => {
  await api?.close();
  await worker?.stop();
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
  while (Date.now() < deadline && (await countWorkflows(api.client)).ready < count) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('signups survive two worker kills', async () => {
  const deliveries = buildDeliveries(SIGNUPS);
  const userIds = deliveries.map((delivery) => delivery.userId);

  const responses = await Promise.all(
    deliveries.map((delivery) =>
      fetch(`${api.baseUrl}/webhooks/clerk`, {
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

  const counts = await waitForReady(api.client, SIGNUPS, CLOSE_TIMEOUT_MS);
  assert.equal(counts.timedOut, false, `still provisioning: ${counts.inFlight}`);
  assert.equal(counts.failed, 0);

  const outcomes = await describeAll(api.client, userIds);
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
