// The main job end to end with each provider besides SQLite. A signed signup over HTTP ends in a database with the
// schema applied: a real one on the test Postgres server (postgres, xata) or one in the legacy Xata Lite fake.
// A repeated delivery is a duplicate, and user.deleted with no grace period removes the database. The
// Postgres-backed cases need PER_USER_DB_TEST_POSTGRES_URL, and fail without it under CI=true.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { postgresDatabaseName } from '../../src/activities/providers/postgres';
import { FakeXataApi, FakeXataLiteApi } from '../helpers/fake-xata';
import { postgresTestServer, queryRows, uniqueUserId, withDatabase } from '../helpers/postgres';
import { readFixture, type RunningSystem, startSystem, waitForReady } from '../helpers/system';

const TENANT_TABLES = ['document_tags', 'documents', 'schema_migrations', 'settings', 'tags'];

const server = postgresTestServer();
const skip = 'missing' in server && !server.mustFail ? server.missing : undefined;

async function databaseExists(url: string, database: string): Promise<boolean> {
  const rows = await queryRows(url, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  return rows.length === 1;
}

async function tablesIn(url: string, database: string): Promise<string[]> {
  const rows = await queryRows<{ tablename: string }>(
    withDatabase(url, database),
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  return rows.map((row) => row.tablename);
}

/**
 * Returns a fixture's event with another user id. With the postgres provider the tenant catalog lives on the
 * shared test server and keeps each deleted user's tombstone, so every run needs user ids of its own.
 */
function eventFor(fixture: string, userId: string): Buffer {
  const event = JSON.parse(readFixture(fixture).toString('utf8')) as { data: { id: string } };
  event.data.id = userId;
  return Buffer.from(JSON.stringify(event));
}

/** Sends the signup and returns the database ref once the workflow reports ready. */
async function signUp(system: RunningSystem, userId: string) {
  const response = await system.deliver(eventFor('user-created-eu.json', userId));
  assert.equal(response.status, 202);
  const status = await waitForReady(system.env.client, userId);
  assert.equal(status.schemaVersion, 2);
  assert.ok(status.database, 'the ready status has no database ref');
  return status.database;
}

async function deleteUser(system: RunningSystem, userId: string): Promise<void> {
  const response = await system.deliver(eventFor('user-deleted.json', userId));
  assert.equal(response.status, 202);
  assert.deepEqual(await response.json(), { status: 'deletion-requested', workflowId: userId });

  const result = await system.env.client.workflow.getHandle(userId).result();
  assert.equal(result.deleted, true);
}

async function assertDuplicate(system: RunningSystem, userId: string): Promise<void> {
  const response = await system.deliver(eventFor('user-created-eu.json', userId));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'duplicate', workflowId: userId });
}

describe('postgres provider end to end', { skip }, () => {
  if (!('url' in server)) {
    test('server configured', () => assert.fail(server.missing));
    return;
  }
  const url = server.url;
  const userId = uniqueUserId('e2epg');
  const database = postgresDatabaseName(userId);
  let system: RunningSystem;

  before(async () => {
    system = await startSystem({
      deletionGracePeriodMs: 0,
      env: { DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: `*=${url}` },
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('signup creates seeded database', async () => {
    const ref = await signUp(system, userId);
    assert.equal(ref.provider, 'postgres');
    assert.equal(ref.region, 'eu-west-1');
    assert.equal(ref.name, database);

    assert.equal(await databaseExists(url, database), true);
    assert.deepEqual(await tablesIn(url, database), TENANT_TABLES);
  });

  test('duplicate signup gets 200', async () => {
    await assertDuplicate(system, userId);
    assert.equal(await databaseExists(url, database), true);
  });

  test('user.deleted drops database', async () => {
    await deleteUser(system, userId);
    assert.equal(await databaseExists(url, database), false);
  });
});

describe('xata provider end to end', { skip }, () => {
  if (!('url' in server)) {
    test('server configured', () => assert.fail(server.missing));
    return;
  }
  const url = server.url;
  const userId = uniqueUserId('e2exata');
  const branchName = postgresDatabaseName(userId).replaceAll('_', '-');
  let fake: FakeXataApi;
  let system: RunningSystem;

  before(async () => {
    fake = new FakeXataApi({ postgresUrl: url });
    const baseUrl = await fake.start();
    system = await startSystem({
      deletionGracePeriodMs: 0,
      env: {
        DATABASE_PROVIDER: 'xata',
        XATA_API_KEY: fake.apiKey,
        XATA_ORGANIZATION: fake.organizationId,
        XATA_PROJECT: fake.projectId,
        XATA_API_BASE_URL: baseUrl,
      },
    });
  });

  after(async () => {
    await system?.stop();
    await fake?.stop();
  });

  test('signup creates seeded branch', async () => {
    const ref = await signUp(system, userId);
    assert.equal(ref.provider, 'xata');
    assert.equal(ref.name, branchName);

    const branch = fake.branches.get(branchName);
    assert.ok(branch, `the fake has no branch ${branchName}`);
    assert.equal(branch.region, 'eu-west-1');
    assert.equal(await databaseExists(url, branch.database), true);
    assert.deepEqual(await tablesIn(url, branch.database), TENANT_TABLES);
  });

  test('duplicate signup gets 200', async () => {
    await assertDuplicate(system, userId);
    assert.equal(fake.branches.size, 1);
  });

  test('user.deleted deletes branch', async () => {
    const database = fake.branches.get(branchName)?.database;
    assert.ok(database, `the fake has no branch ${branchName}`);

    await deleteUser(system, userId);
    assert.equal(fake.branches.has(branchName), false);
    assert.equal(await databaseExists(url, database), false);
  });
});

describe('xata-lite provider end to end', () => {
  const userId = uniqueUserId('e2elite');
  let fake: FakeXataLiteApi;
  let system: RunningSystem;

  before(async () => {
    fake = new FakeXataLiteApi();
    const baseUrl = await fake.start();
    system = await startSystem({
      deletionGracePeriodMs: 0,
      env: {
        DATABASE_PROVIDER: 'xata-lite',
        XATA_API_KEY: fake.apiKey,
        XATA_WORKSPACE_SLUG: fake.workspaceId,
        XATA_API_BASE_URL: baseUrl,
      },
    });
  });

  after(async () => {
    await system?.stop();
    await fake?.stop();
  });

  test('signup creates database in region', async () => {
    const ref = await signUp(system, userId);
    assert.equal(ref.provider, 'xata-lite');
    assert.equal(ref.region, 'eu-west-1');
    assert.deepEqual([...fake.databases.entries()], [[ref.name, 'eu-west-1']]);
  });

  test('duplicate signup gets 200', async () => {
    await assertDuplicate(system, userId);
    assert.equal(fake.databases.size, 1);
  });

  test('user.deleted deletes database', async () => {
    await deleteUser(system, userId);
    assert.equal(fake.databases.size, 0);
  });

  test('no database list was requested', () => {
    const listCalls = fake.requests.filter((request) => /\/dbs\/?$/.test(request.path));
    assert.deepEqual(listCalls, []);
  });
});
