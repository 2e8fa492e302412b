// Postgres provider cases beyond the shared contract: names, configuration, fault classification and the role
// per user. The cases under "postgres server" need PER_USER_DB_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import { loadCommonConfig } from '../../src/config';
import { RetryableErrorType } from '../../src/activities/providers/errors';
import { migrationsFor, type Migration } from '../../src/activities/migrations';
import { createPostgresProvider, postgresDatabaseName } from '../../src/activities/providers/postgres';
import type { DatabaseProvider } from '../../src/activities/providers/provider';
import { parseServerUrls } from '../../src/activities/providers/server-urls';
import { ErrorType, type DatabaseRef } from '../../src/shared';
import { postgresTestServer, queryRows, uniqueUserId, withDatabase } from '../helpers/postgres';

const REGION = 'eu-west-1';

/** Asserts that `promise` rejects with an ApplicationFailure of `type` and the given retry behaviour. */
async function assertFailure(promise: Promise<unknown>, type: string, nonRetryable: boolean): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, nonRetryable);
    return true;
  });
}

/** Returns a loopback port that nothing listens on: one the system just assigned and released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null);
  assert.ok(typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('postgresDatabaseName', () => {
  test('deterministic', () => {
    assert.equal(postgresDatabaseName('user_2abcDEF123'), postgresDatabaseName('user_2abcDEF123'));
  });

  test('lowercase with hash', () => {
    assert.match(postgresDatabaseName('user_2abcDEF123'), /^user_2abcdef123_[0-9a-f]{12}$/);
  });

  test('letter case kept apart', () => {
    assert.notEqual(postgresDatabaseName('user_abc'), postgresDatabaseName('user_ABC'));
  });

  test('longest id fits 63 bytes', () => {
    const name = postgresDatabaseName(`user_${'A'.repeat(64)}`);
    assert.ok(Buffer.byteLength(name) <= 63, `${name} has ${Buffer.byteLength(name)} bytes`);
  });

  test('ids past the cut kept apart', () => {
    const prefix = 'a'.repeat(60);
    assert.notEqual(postgresDatabaseName(`user_${prefix}1`), postgresDatabaseName(`user_${prefix}2`));
  });

  test('invalid id rejected', () => {
    assert.throws(
      () => postgresDatabaseName('user_x"; DROP DATABASE postgres'),
      (error: unknown) => error instanceof ApplicationFailure && error.type === ErrorType.INVALID_INPUT,
    );
  });
});

describe('parseServerUrls', () => {
  test('pairs', () => {
    assert.deepEqual(parseServerUrls('eu-west-1=postgres://a@eu:5432/postgres, *=postgresql://a@any/postgres'), {
      'eu-west-1': 'postgres://a@eu:5432/postgres',
      '*': 'postgresql://a@any/postgres',
    });
  });

  test('JSON', () => {
    assert.deepEqual(parseServerUrls('{"us-east-1": "postgres://a@us/postgres"}'), {
      'us-east-1': 'postgres://a@us/postgres',
    });
  });

  const invalid: { name: string; value: string; message: RegExp }[] = [
    { name: 'bad region', value: 'europe=postgres://a@h/db', message: /invalid region "europe"/ },
    { name: 'http scheme', value: '*=http://a@h/db', message: /postgres:\/\// },
    { name: 'no separator', value: 'postgres://a@h/db', message: /not region=url/ },
    { name: 'duplicate region', value: '*=postgres://h/a,*=postgres://h/b', message: /appears twice/ },
    { name: 'broken JSON', value: '{"*": ', message: /invalid JSON/ },
    { name: 'JSON array', value: '["postgres://h/a"]', message: /expected a JSON object/ },
    { name: 'not a URL', value: '*=postgres//h', message: /is invalid/ },
  ];
  for (const { name, value, message } of invalid) {
    test(name, () => assert.throws(() => parseServerUrls(value), message));
  }

  test('password kept out of message', () => {
    assert.throws(
      () => parseServerUrls('*=mysql://admin:hunter2secret@h/db'),
      (error: unknown) => error instanceof Error && !error.message.includes('hunter2secret'),
    );
  });
});

describe('postgres configuration', () => {
  const URLS = 'eu-west-1=postgres://u:p@eu.internal/postgres,*=postgres://u:p@any.internal/postgres';

  test('selects postgres', () => {
    const config = loadCommonConfig({ DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: URLS });
    assert.equal(config.database.provider, 'postgres');
  });

  test('parses URLs', () => {
    const config = loadCommonConfig({ DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: URLS });
    assert.deepEqual(config.database.postgres?.urls, {
      'eu-west-1': 'postgres://u:p@eu.internal/postgres',
      '*': 'postgres://u:p@any.internal/postgres',
    });
  });

  test('role per user off by default', () => {
    const config = loadCommonConfig({ DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: URLS });
    assert.equal(config.database.postgres?.rolePerUser, false);
  });

  test('role per user on', () => {
    const env = { DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: URLS, POSTGRES_ROLE_PER_USER: 'true' };
    assert.equal(loadCommonConfig(env).database.postgres?.rolePerUser, true);
  });

  test('URLs required', () => {
    assert.throws(() => loadCommonConfig({ DATABASE_PROVIDER: 'postgres' }), /POSTGRES_URLS: missing/);
  });

  test('invalid URLs named', () => {
    assert.throws(
      () => loadCommonConfig({ DATABASE_PROVIDER: 'postgres', POSTGRES_URLS: '*=ftp://u:secretpw@h/db' }),
      (error: unknown) =>
        error instanceof Error && /POSTGRES_URLS: /.test(error.message) && !error.message.includes('secretpw'),
    );
  });
});

describe('postgres faults without a server', () => {
  let provider: DatabaseProvider | undefined;

  afterEach(async () => {
    await provider?.close?.();
    provider = undefined;
  });

  test('connection refused retryable', async () => {
    const port = await closedPort();
    provider = createPostgresProvider({ servers: { '*': `postgres://u:p@127.0.0.1:${port}/postgres` } });

    await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );
  });

  test('connect timeout retryable', async () => {
    // Accepts connections and never responds, like a server behind a stalled network path.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null);
    assert.ok(typeof address === 'object');

    try {
      provider = createPostgresProvider({
        servers: { '*': `postgres://u:p@127.0.0.1:${address.port}/postgres` },
        connectTimeoutMs: 200,
      });
      await assertFailure(
        provider.ensureDatabase(uniqueUserId(), REGION),
        RetryableErrorType.PROVIDER_UNAVAILABLE,
        false,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('unconfigured region non-retryable', async () => {
    provider = createPostgresProvider({ servers: { 'us-east-1': 'postgres://u:p@127.0.0.1:1/postgres' } });

    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.REGION_NOT_AVAILABLE, true);
  });

  test('moved region ref rejected', async () => {
    provider = createPostgresProvider({ servers: { '*': 'postgres://u:p@127.0.0.1:1/postgres' } });
    const ref: DatabaseRef = {
      provider: 'postgres',
      region: REGION,
      name: postgresDatabaseName('user_abc'),
      location: `old.internal:5432/${postgresDatabaseName('user_abc')}`,
    };

    await assertFailure(provider.describe(ref), ErrorType.INVALID_INPUT, true);
  });

  test('non-postgres URL rejected', () => {
    assert.throws(() => createPostgresProvider({ servers: { '*': 'mysql://u:p@127.0.0.1/db' } }), /scheme/);
  });
});

const server = postgresTestServer();

describe('postgres server', () => {
  if ('missing' in server) {
    const reason = server.missing;
    if (server.mustFail) test('server configured', () => assert.fail(reason));
    else test('server configured', { skip: reason }, () => undefined);
    return;
  }
  const url = server.url;

  test('bad password non-retryable', async () => {
    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const provider = createPostgresProvider({ servers: { '*': wrong.href } });
    try {
      await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_AUTHENTICATION, true);
    } finally {
      await provider.close?.();
    }
  });

  test('missing maintenance database non-retryable', async () => {
    const provider = createPostgresProvider({ servers: { '*': withDatabase(url, 'no_such_database') } });
    try {
      await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.CONFIGURATION, true);
    } finally {
      await provider.close?.();
    }
  });

  describe('schema', () => {
    const provider = createPostgresProvider({ servers: { '*': url } });
    let ref: DatabaseRef;

    before(async () => {
      ref = (await provider.ensureDatabase(uniqueUserId('schema'), REGION)).ref;
    });

    after(async () => {
      await provider.deleteDatabase(ref);
      await provider.close?.();
    });

    test('creates tenant tables', async () => {
      await provider.applySchema(ref, migrationsFor('postgres'));
      const rows = await queryRows<{ tablename: string }>(
        withDatabase(url, ref.name),
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );

      assert.deepEqual(
        rows.map((row) => row.tablename),
        ['document_tags', 'documents', 'schema_migrations', 'settings', 'tags'],
      );
    });

    test('records migration names', async () => {
      await provider.applySchema(ref, migrationsFor('postgres'));
      const rows = await queryRows<{ version: number; name: string }>(
        withDatabase(url, ref.name),
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );

      assert.deepEqual(
        rows,
        migrationsFor('postgres').map(({ version, name }) => ({ version, name })),
      );
    });

    test('broken migration non-retryable', async () => {
      const broken: Migration = { version: 900, name: 'broken', sql: 'CREATE TABLE broken (id intgr);' };

      await assertFailure(provider.applySchema(ref, [broken]), ErrorType.CONFIGURATION, true);
    });

    test('broken migration rolled back', async () => {
      const broken: Migration = { version: 901, name: 'half', sql: 'CREATE TABLE half (id int); SELECT 1/0;' };
      await provider.applySchema(ref, [broken]).catch(() => undefined);
      const rows = await queryRows(withDatabase(url, ref.name), "SELECT to_regclass('public.half') AS half");

      assert.deepEqual(rows, [{ half: null }]);
    });

    test('older migration non-retryable', async () => {
      const newer: Migration = { version: 20, name: 'newer', sql: 'CREATE TABLE newer (id int);' };
      const older: Migration = { version: 15, name: 'older', sql: 'CREATE TABLE older (id int);' };
      await provider.applySchema(ref, [newer]);

      await assertFailure(provider.applySchema(ref, [newer, older]), ErrorType.CONFIGURATION, true);
    });
  });

  describe('role per user', () => {
    const provider = createPostgresProvider({ servers: { '*': url }, rolePerUser: true });
    let ref: DatabaseRef;

    before(async () => {
      ref = (await provider.ensureDatabase(uniqueUserId('role'), REGION)).ref;
      await provider.applySchema(ref, migrationsFor('postgres'));
    });

    after(async () => {
      await provider.deleteDatabase(ref);
      await provider.close?.();
    });

    test('role owns database', async () => {
      const rows = await queryRows<{ owner: string }>(
        url,
        'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
        [ref.name],
      );
      assert.deepEqual(rows, [{ owner: ref.name }]);
    });

    test('role owns tables', async () => {
      const rows = await queryRows<{ tableowner: string }>(
        withDatabase(url, ref.name),
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
      );
      assert.deepEqual(rows, [{ tableowner: ref.name }]);
    });

    test('PUBLIC cannot connect', async () => {
      const rows = await queryRows<{ allowed: boolean }>(
        url,
        "SELECT has_database_privilege('pg_monitor', $1, 'CONNECT') AS allowed",
        [ref.name],
      );
      assert.deepEqual(rows, [{ allowed: false }]);
    });

    test('delete drops role', async () => {
      const userId = uniqueUserId('roledrop');
      const { ref: dropped } = await provider.ensureDatabase(userId, REGION);
      await provider.deleteDatabase(dropped);
      const rows = await queryRows(url, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [dropped.name]);

      assert.equal(rows.length, 0);
    });
  });
});
