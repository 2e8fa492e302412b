// While Temporal is down, deliveries must get 503 with Retry-After, never a 2xx and never a hang. Once it is
// back, the same delivery must succeed, as it would on Hookdeck's next retry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';

import { createActivities } from '../../src/activities';
import { buildActivityDependencies } from '../../src/activities/dependencies';
import { signHookdeck } from '../../src/api/signature';
import { loadCommonConfig } from '../../src/config';
import { buildWorkflowBundle } from '../../src/workflow-bundle';
import { createWorkers, type WorkerPair } from '../../src/workers';
import { startTestApi, type TestApi } from '../helpers/api';
import { freePort, RestartableDevServer } from '../helpers/dev-server';
import { listFiles, readFixture, SIGNING_SECRET, waitForReady } from '../helpers/system';

const START_TIMEOUT_MS = 2000;
// A bound well above the start deadline, so that only a hanging request fails the test.
const REQUEST_TIMEOUT_MS = 15_000;

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

let dataDir: string;
let devServer: RestartableDevServer;
let workers: WorkerPair;
let workersRun: Promise<void>;
let api: TestApi;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-outage-'));
  devServer = new RestartableDevServer(await freePort(), path.join(dataDir, 'dev-server.sqlite'));
  await devServer.start();

  const config = loadCommonConfig({ DATA_DIR: dataDir, NODE_ENV: 'test', TEMPORAL_ADDRESS: devServer.address });
  const logger = pino({ level: 'silent' });
  workers = await createWorkers({
    connection: await NativeConnection.connect({ address: devServer.address }),
    taskQueue: config.temporal.taskQueue,
    workflows: { workflowBundle: await buildWorkflowBundle() },
    activities: createActivities(await buildActivityDependencies(config, logger)),
  });
  workersRun = workers.run();

  // The API's connection is lazy, so it outlives the server's restart.
  api = await startTestApi({
    temporalAddress: devServer.address,
    taskQueue: config.temporal.taskQueue,
    startTimeoutMs: START_TIMEOUT_MS,
  });
});

after(async () => {
  await api?.close();
  // The worker shuts down cleanly only while it can reach the server.
  if (devServer && !devServer.running) await devServer.start();
  workers?.shutdown();
  await workersRun;
  await devServer?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function deliver(body: Buffer): Promise<Response> {
  return fetch(`${api.baseUrl}/webhooks/clerk`, {
    method: 'POST',
    body,
    headers: { 'x-hookdeck-signature': signHookdeck(body, SIGNING_SECRET), 'x-hookdeck-verified': 'true' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

test('outage gives 503, then the retry succeeds', async () => {
  const body = readFixture('user-created-oceania.json');
  const userId = (JSON.parse(body.toString('utf8')) as { data: { id: string } }).data.id;

  await devServer.stop();
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await deliver(body);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '10');
    assert.deepEqual(await response.json(), { error: 'Temporal is unavailable; retry later' });
  }
  assert.deepEqual(listFiles(path.join(dataDir, 'databases')), []);

  await devServer.start();
  // Hookdeck keeps retrying; the gRPC channel may need a moment to reconnect, and until then only 503 is allowed.
  let response = await deliver(body);
  for (let attempt = 0; response.status === 503 && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    response = await deliver(body);
  }
  assert.equal(response.status, 202);

  const status = await waitForReady(api.client, userId);
  assert.equal(status.decision?.region, 'ap-southeast-2');
  assert.deepEqual(listFiles(path.join(dataDir, 'databases')), [`ap-southeast-2/${userId}.sqlite`]);
});
