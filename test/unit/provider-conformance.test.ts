// The same contract cases for every database provider. A provider joins the suite by adding a subject below.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import { migrationsFor } from '../../src/activities/migrations';
import { createPostgresProvider } from '../../src/activities/providers/postgres';
import { ProviderErrorType, type DatabaseProvider } from '../../src/activities/providers/provider';
import { createSqliteProvider } from '../../src/activities/providers/sqlite';
import { createXataProvider } from '../../src/activities/providers/xata';
import { createXataLiteProvider } from '../../src/activities/providers/xata-lite';
import { ErrorType, type DatabaseRef } from '../../src/shared';
import { FakeXataApi, FakeXataLiteApi } from '../helpers/fake-xata';
import { postgresTestServer, uniqueUserId } from '../helpers/postgres';

const REGION = 'eu-west-1';
const CONCURRENT_CALLS = 10;

/** One provider under test: `open` builds a fresh provider for a test, and `close` removes what the test left. */
interface Subject {
  name: string;
  /** Why the subject cannot run here; set only where skipping is allowed. */
  skip?: string;
  /** Why the subject cannot run under CI=true, which fails the suite instead of skipping it. */
  fail?: string;
  open(): DatabaseProvider | Promise<DatabaseProvider>;
  close(): Promise<void>;
  /** False for a provider whose applySchema is a documented no-op that records no version. */
  recordsSchema?: boolean;
  /** Number of databases at the provider's fake API, for subjects that run against one. */
  databaseCount?(): number;
}

function sqliteSubject(): Subject {
  let root = '';
  return {
    name: 'sqlite',
    open() {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-conformance-'));
      return createSqliteProvider({ dataDir: root });
    },
    async close() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function postgresSubject(): Subject {
  const server = postgresTestServer();
  let provider: DatabaseProvider | undefined;
  return {
    name: 'postgres',
    skip: 'missing' in server && !server.mustFail ? server.missing : undefined,
    fail: 'missing' in server && server.mustFail ? server.missing : undefined,
    open() {
      if (!('url' in server)) throw new Error('unreachable: the subject is skipped without a URL');
      provider = createPostgresProvider({ servers: { '*': server.url } });
      return provider;
    },
    async close() {
      await provider?.close?.();
    },
  };
}

function xataSubject(): Subject {
  const server = postgresTestServer();
  let fake: FakeXataApi | undefined;
  return {
    name: 'xata',
    skip: 'missing' in server && !server.mustFail ? server.missing : undefined,
    fail: 'missing' in server && server.mustFail ? server.missing : undefined,
    async open() {
      if (!('url' in server)) throw new Error('unreachable: the subject is skipped without a URL');
      fake = new FakeXataApi({ postgresUrl: server.url });
      const baseUrl = await fake.start();
      const { apiKey, organizationId, projectId } = fake;
      return createXataProvider({ apiKey, organizationId, projectId, baseUrl, requestTimeoutMs: 5000 });
    },
    async close() {
      await fake?.stop();
    },
    databaseCount: () => fake?.branches.size ?? 0,
  };
}

function xataLiteSubject(): Subject {
  let fake: FakeXataLiteApi | undefined;
  return {
    name: 'xata-lite',
    recordsSchema: false,
    async open() {
      fake = new FakeXataLiteApi();
      const baseUrl = await fake.start();
      return createXataLiteProvider({ apiKey: fake.apiKey, workspaceId: fake.workspaceId, baseUrl });
    },
    async close() {
      await fake?.stop();
    },
    databaseCount: () => fake?.databases.size ?? 0,
  };
}

/** Asserts that `promise` rejects with a non-retryable ApplicationFailure of `type`. */
async function assertNonRetryable(promise: Promise<unknown>, type: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    return true;
  });
}

const UNSAFE_USER_IDS: unknown[] = [
  '',
  'user_',
  'user_abc"; DROP DATABASE postgres; --',
  "user_abc' OR '1'='1",
  'user_../../etc',
  'user_abc\u0000',
  'user_ab c',
  'USER_abc',
  `user_${'a'.repeat(65)}`,
  42,
  null,
];

const UNSAFE_REGIONS: unknown[] = ['', '*', '../eu-west-1', 'eu-west-1"', 'EU-WEST-1', 'eu west 1', null];

for (const subject of [sqliteSubject(), postgresSubject(), xataSubject(), xataLiteSubject()]) {
  describe(`${subject.name} conformance`, { skip: subject.skip }, () => {
    if (subject.fail) {
      const reason = subject.fail;
      test('server configured', () => assert.fail(reason));
      return;
    }

    let provider: DatabaseProvider;
    const refs: DatabaseRef[] = [];

    beforeEach(async () => {
      provider = await subject.open();
    });

    afterEach(async () => {
      for (const ref of refs.splice(0)) await provider.deleteDatabase(ref);
      await subject.close();
    });

    async function create(userId: string): Promise<DatabaseRef> {
      const { ref } = await provider.ensureDatabase(userId, REGION);
      refs.push(ref);
      return ref;
    }

    test('create twice', async () => {
      const userId = uniqueUserId('twice');
      const first = await provider.ensureDatabase(userId, REGION);
      refs.push(first.ref);
      const second = await provider.ensureDatabase(userId, REGION);

      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.deepEqual(second.ref, first.ref);
    });

    test('concurrent create', async () => {
      const userId = uniqueUserId('race');
      const results = await Promise.all(
        Array.from({ length: CONCURRENT_CALLS }, () => provider.ensureDatabase(userId, REGION)),
      );
      const first = results[0];
      assert.ok(first);
      refs.push(first.ref);

      assert.equal(results.filter((result) => result.created).length, 1);
      for (const result of results) assert.deepEqual(result.ref, first.ref);
      assert.deepEqual(await provider.describe(first.ref), { exists: true, schemaVersion: 0 });
    });

    const { databaseCount } = subject;
    if (databaseCount) {
      test('concurrent create makes one', async () => {
        const userId = uniqueUserId('once');
        const results = await Promise.all(
          Array.from({ length: CONCURRENT_CALLS }, () => provider.ensureDatabase(userId, REGION)),
        );
        refs.push(...results.slice(0, 1).map((result) => result.ref));

        assert.equal(databaseCount(), 1);
      });
    }

    test('ref names user and region', async () => {
      const ref = await create(uniqueUserId('ref'));

      assert.equal(ref.provider, provider.name);
      assert.equal(ref.region, REGION);
      assert.ok(ref.location.includes(ref.name), `location ${ref.location} contains ${ref.name}`);
    });

    if (subject.recordsSchema === false) {
      test('schema is a no-op', async () => {
        const ref = await create(uniqueUserId('schemanoop'));
        const migrations = migrationsFor(provider.dialect);
        const latest = Math.max(...migrations.map((migration) => migration.version));

        const result = await provider.applySchema(ref, migrations);

        assert.deepEqual(result.applied, []);
        assert.equal(result.version, latest);
        assert.deepEqual(await provider.describe(ref), { exists: true, schemaVersion: 0 });
      });
    } else {
      test('schema applied once', async () => {
        const ref = await create(uniqueUserId('schema'));
        const migrations = migrationsFor(provider.dialect);
        const versions = migrations.map((migration) => migration.version);
        const latest = Math.max(...versions);

        const first = await provider.applySchema(ref, migrations);
        const second = await provider.applySchema(ref, migrations);

        assert.deepEqual(first.applied, versions);
        assert.equal(first.version, latest);
        assert.deepEqual(second.applied, []);
        assert.equal(second.version, latest);
        assert.deepEqual(await provider.describe(ref), { exists: true, schemaVersion: latest });
      });

      test('concurrent schema applies', async () => {
        const ref = await create(uniqueUserId('schemarace'));
        const migrations = migrationsFor(provider.dialect);

        const results = await Promise.all(Array.from({ length: 5 }, () => provider.applySchema(ref, migrations)));
        const applied = results.flatMap((result) => result.applied).sort((a, b) => a - b);

        assert.deepEqual(
          applied,
          migrations.map((migration) => migration.version),
        );
      });
    }

    test('schema on missing database', async () => {
      const ref = await create(uniqueUserId('gone'));
      await provider.deleteDatabase(ref);

      await assertNonRetryable(
        provider.applySchema(ref, migrationsFor(provider.dialect)),
        ProviderErrorType.DATABASE_NOT_FOUND,
      );
    });

    test('delete twice', async () => {
      const ref = await create(uniqueUserId('delete'));

      const first = await provider.deleteDatabase(ref);
      const second = await provider.deleteDatabase(ref);

      assert.equal(first.deleted, true);
      assert.equal(second.deleted, false);
      assert.deepEqual(await provider.describe(ref), { exists: false });
    });

    test('create after delete', async () => {
      const userId = uniqueUserId('again');
      const ref = await create(userId);
      await provider.deleteDatabase(ref);

      const again = await provider.ensureDatabase(userId, REGION);
      refs.push(again.ref);

      assert.equal(again.created, true);
      assert.deepEqual(await provider.describe(again.ref), { exists: true, schemaVersion: 0 });
    });

    for (const userId of UNSAFE_USER_IDS) {
      test(`user id ${JSON.stringify(userId)} rejected`, async () => {
        await assertNonRetryable(provider.ensureDatabase(userId as string, REGION), ErrorType.INVALID_INPUT);
      });
    }

    for (const region of UNSAFE_REGIONS) {
      test(`region ${JSON.stringify(region)} rejected`, async () => {
        await assertNonRetryable(provider.ensureDatabase(uniqueUserId(), region as string), ErrorType.INVALID_INPUT);
      });
    }

    test('foreign ref rejected', async () => {
      const ref = await create(uniqueUserId('foreign'));

      await assertNonRetryable(provider.describe({ ...ref, provider: 'other' }), ErrorType.INVALID_INPUT);
    });

    test('tampered location rejected', async () => {
      const ref = await create(uniqueUserId('tamper'));

      await assertNonRetryable(
        provider.deleteDatabase({ ...ref, location: `${ref.location}x` }),
        ErrorType.INVALID_INPUT,
      );
    });
  });
}
