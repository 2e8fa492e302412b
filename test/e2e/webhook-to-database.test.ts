// The main job end to end: signed Hookdeck deliveries over HTTP, a real dev server, a real worker and
// real SQLite files.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import Database from 'better-sqlite3';

import { type ProvisioningStatus, searchAttributes, statusQuery } from '../../src/shared';
import { listFiles, readFixture, type RunningSystem, startSystem, waitForReady } from '../helpers/system';

const EU_USER = 'user_2pQfEuExample7Hk3LmN9xRtVw1';

let system: RunningSystem;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

function userIdOf(fixture: string): string {
  return (JSON.parse(readFixture(fixture).toString('utf8')) as { data: { id: string } }).data.id;
}

async function resultOf(userId: string): Promise<ProvisioningStatus> {
  return waitForReady(system.env.client, userId);
}

function tablesIn(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((row) => row.name);
  } finally {
    db.close();
  }
}

describe('webhook to database', () => {
  test('signup gets 202 and a seeded database', async () => {
    const response = await system.deliver(readFixture('user-created-eu.json'), { 'svix-id': 'msg_e2e_1' });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { status: string; workflowId: string; runId: string };
    assert.equal(body.status, 'started');
    assert.equal(body.workflowId, EU_USER);
    assert.match(body.runId, /^[0-9a-f-]{36}$/);

    const result = await resultOf(EU_USER);
    assert.equal(result.decision?.region, 'eu-west-1');
    assert.equal(result.decision?.source, 'ip-country');
    assert.equal(result.decision?.country, 'NL');

    const file = path.join(system.dataDir, 'databases', 'eu-west-1', `${EU_USER}.sqlite`);
    const tables = tablesIn(file);
    assert.ok(tables.includes('schema_migrations'), `tables: ${tables.join(', ')}`);
    assert.ok(tables.includes('documents'), `tables: ${tables.join(', ')}`);
    assert.ok(tables.includes('settings'), `tables: ${tables.join(', ')}`);
    assert.equal(result.schemaVersion, 2);
  });

  test('same delivery again is a duplicate', async () => {
    const before = listFiles(path.join(system.dataDir, 'databases'));
    const response = await system.deliver(readFixture('user-created-eu.json'), { 'svix-id': 'msg_e2e_1' });

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'duplicate', workflowId: EU_USER });
    assert.deepEqual(listFiles(path.join(system.dataDir, 'databases')), before);
  });

  test('status query and search attributes show ready', async () => {
    const handle = system.env.client.workflow.getHandle(EU_USER);
    const status = await handle.query(statusQuery);
    assert.equal(status.step, 'ready');
    assert.equal(status.decision?.region, 'eu-west-1');
    assert.equal(status.database?.location, `databases/eu-west-1/${EU_USER}.sqlite`);

    const description = await handle.describe();
    assert.equal(description.type, 'provisionUserDatabase');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.status), 'ready');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.region), 'eu-west-1');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.provider), 'sqlite');
  });

  test('session event is acknowledged and ignored', async () => {
    const before = listFiles(path.join(system.dataDir, 'databases'));
    const response = await system.deliver(readFixture('session-created.json'));

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ignored: 'session.created' });
    assert.deepEqual(listFiles(path.join(system.dataDir, 'databases')), before);
  });

  const regionCases = [
    { fixture: 'user-created-oceania.json', region: 'ap-southeast-2', source: 'ip-country', reason: 'country-AU' },
    { fixture: 'user-created-us.json', region: 'us-east-1', source: 'ip-country', reason: 'country-US' },
    { fixture: 'user-created-chosen-region.json', region: 'eu-west-1', source: 'user-choice', reason: 'requested' },
    { fixture: 'user-created-no-request-info.json', region: 'us-east-1', source: 'default', reason: 'ip-missing' },
  ];
  for (const { fixture, region, source, reason } of regionCases) {
    test(`${fixture} lands in ${region}`, async () => {
      const userId = userIdOf(fixture);
      const response = await system.deliver(readFixture(fixture));
      assert.equal(response.status, 202);

      const result = await resultOf(userId);
      assert.equal(result.decision?.region, region);
      assert.equal(result.decision?.source, source);
      assert.equal(result.decision?.reason, reason);
      assert.ok(listFiles(path.join(system.dataDir, 'databases')).includes(`${region}/${userId}.sqlite`));
    });
  }

  test('concurrent duplicates provision once', async () => {
    const userId = 'user_2pQfConcurrentExample000000';
    const fixture = JSON.parse(readFixture('user-created-eu.json').toString('utf8')) as { data: { id: string } };
    fixture.data.id = userId;
    const body = Buffer.from(JSON.stringify(fixture));

    const responses = await Promise.all(Array.from({ length: 20 }, () => system.deliver(body)));
    const statuses = responses.map((response) => response.status);

    assert.equal(statuses.filter((status) => status === 202).length, 1, `statuses: ${statuses.join(', ')}`);
    assert.equal(statuses.filter((status) => status === 200).length, 19, `statuses: ${statuses.join(', ')}`);
    await resultOf(userId);
    const files = listFiles(path.join(system.dataDir, 'databases')).filter((file) => file.includes(userId));
    assert.deepEqual(files, [`eu-west-1/${userId}.sqlite`]);
  });
});
