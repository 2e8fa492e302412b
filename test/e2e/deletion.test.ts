// Deprovisioning end to end with DELETION_GRACE_PERIOD=0s: user.deleted removes the database within seconds,
// the catalog keeps a tombstone, and the tenant status API reports the lifecycle.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { statusQuery } from '../../src/shared';
import {
  listFiles,
  readFixture,
  type RunningSystem,
  startSystem,
  STATUS_API_TOKEN,
  waitForReady,
} from '../helpers/system';

const EU_USER = 'user_2pQfEuExample7Hk3LmN9xRtVw1';

let system: RunningSystem;

before(async () => {
  system = await startSystem({ deletionGracePeriodMs: 0 });
});

after(async () => {
  await system?.stop();
});

/** A Clerk event body from a fixture, with another user id. */
function eventFor(fixture: string, userId: string): Buffer {
  const event = JSON.parse(readFixture(fixture).toString('utf8')) as { data: { id: string } };
  event.data.id = userId;
  return Buffer.from(JSON.stringify(event));
}

async function waitForStep(userId: string, step: string): Promise<void> {
  const handle = system.env.client.workflow.getHandle(userId);
  for (let attempt = 0; (await handle.query(statusQuery)).step !== step; attempt += 1) {
    if (attempt > 500) assert.fail(`${userId} did not reach ${step}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tenantStatus(userId: string, token = STATUS_API_TOKEN): Promise<Response> {
  return fetch(`${system.baseUrl}/tenants/${userId}`, { headers: { authorization: `Bearer ${token}` } });
}

const databases = () => listFiles(path.join(system.dataDir, 'databases'));

describe('deletion end to end', () => {
  test('user.deleted removes the database', async () => {
    assert.equal((await system.deliver(readFixture('user-created-eu.json'))).status, 202);
    await waitForReady(system.env.client, EU_USER);
    assert.deepEqual(databases(), [`eu-west-1/${EU_USER}.sqlite`]);

    const response = await system.deliver(readFixture('user-deleted.json'));
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { status: 'deletion-requested', workflowId: EU_USER });

    const result = await system.env.client.workflow.getHandle(EU_USER).result();
    assert.equal(result.deleted, true);
    assert.deepEqual(databases(), []);
  });

  test('status API reports the deletion', async () => {
    const response = await tenantStatus(EU_USER);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;

    assert.equal(body.status, 'deleted');
    assert.equal(body.region, 'eu-west-1');
    assert.equal(body.regionSource, 'ip-country');
    assert.equal(body.provider, 'sqlite');
    assert.equal(typeof body.provisionedAt, 'string');
    assert.equal(typeof body.deletionRequestedAt, 'string');
    assert.equal(typeof body.deletedAt, 'string');
  });

  test('signup and deletion retried later change nothing', async () => {
    const created = await system.deliver(readFixture('user-created-eu.json'));
    assert.equal(created.status, 200);
    assert.deepEqual(await created.json(), { status: 'duplicate', workflowId: EU_USER });

    const deleted = await system.deliver(readFixture('user-deleted.json'));
    assert.equal(deleted.status, 200);
    assert.deepEqual(await deleted.json(), { status: 'duplicate', workflowId: EU_USER });
    assert.deepEqual(databases(), []);
  });

  test('tombstone outlives the workflow history', async () => {
    // Temporal drops closed workflows after the namespace's retention; removing this one simulates that.
    const { workflowService } = system.env.client;
    const execution = (await system.env.client.workflow.getHandle(EU_USER).describe()).runId;
    await workflowService.deleteWorkflowExecution({
      namespace: system.env.namespace ?? 'default',
      workflowExecution: { workflowId: EU_USER, runId: execution },
    });
    for (let attempt = 0; ; attempt += 1) {
      try {
        await system.env.client.workflow.getHandle(EU_USER).describe();
      } catch {
        break;
      }
      // The dev server removes a closed execution in the background, about 30 s after the request here.
      if (attempt > 600) assert.fail('the workflow execution was not removed within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const response = await system.deliver(readFixture('user-created-eu.json'));
    assert.equal(response.status, 202);
    const result = await system.env.client.workflow.getHandle(EU_USER).result();

    assert.equal(result.deleted, true);
    assert.equal(result.database, undefined);
    assert.deepEqual(databases(), []);
  });

  test('deleted before created makes nothing', async () => {
    const userId = 'user_2pQfDeletedFirstExample0001';
    const deleted = await system.deliver(eventFor('user-deleted.json', userId));
    assert.equal(deleted.status, 202);
    await waitForStep(userId, 'deleted');

    const created = await system.deliver(eventFor('user-created-oceania.json', userId));
    assert.equal(created.status, 200);
    assert.deepEqual(databases(), []);
    assert.equal(((await (await tenantStatus(userId)).json()) as { status: string }).status, 'deleted');
  });
});

describe('tenant status API', () => {
  test('live tenant reports ready', async () => {
    const userId = 'user_2pQfStatusApiExample000001';
    await system.deliver(eventFor('user-created-us.json', userId));
    await waitForReady(system.env.client, userId);

    const response = await tenantStatus(userId);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ready');
    assert.equal(body.region, 'us-east-1');
    assert.equal(body.deletedAt, null);
  });

  const rejections = [
    { name: 'no token', headers: {} as Record<string, string>, status: 401 },
    { name: 'wrong token', headers: { authorization: 'Bearer not-the-token-0123456789' }, status: 401 },
    { name: 'basic auth', headers: { authorization: `Basic ${STATUS_API_TOKEN}` }, status: 401 },
  ];
  for (const { name, headers, status } of rejections) {
    test(`${name} gets ${status}`, async () => {
      const response = await fetch(`${system.baseUrl}/tenants/${EU_USER}`, { headers });
      assert.equal(response.status, status);
      assert.deepEqual(await response.json(), { error: 'missing or invalid bearer token' });
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    });
  }

  test('unknown tenant gets 404', async () => {
    const response = await tenantStatus('user_2pQfNobodyExample0000000001');
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: 'tenant not found' });
  });

  test('invalid id gets 400', async () => {
    const response = await tenantStatus('not-a-user');
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid user id: expected a Clerk user id such as user_2pQfEu...',
    });
  });
});
