// Xata and Xata Lite provider cases beyond the shared contract: fault classification against local fakes of the
// two APIs, region checks, point lookups only, and configuration. The `xata` cases that apply the schema need
// PER_USER_DB_TEST_POSTGRES_URL; the fault cases do not, because they fail before any Postgres connection.
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import { ConfigError, loadCommonConfig } from '../../src/config';
import { RetryableErrorType } from '../../src/activities/providers/errors';
import { migrationsFor } from '../../src/activities/migrations';
import type { DatabaseProvider } from '../../src/activities/providers/provider';
import { createXataProvider, xataBranchName } from '../../src/activities/providers/xata';
import { createXataLiteProvider } from '../../src/activities/providers/xata-lite';
import { ErrorType } from '../../src/shared';
import { FakeXataApi, FakeXataLiteApi, type Fault } from '../helpers/fake-xata';
import { postgresTestServer, queryRows, uniqueUserId, withDatabase } from '../helpers/postgres';

const REGION = 'eu-west-1';

/** Asserts that `promise` rejects with an ApplicationFailure of `type` and the given retry behaviour. */
async function assertFailure(
  promise: Promise<unknown>,
  type: string,
  nonRetryable: boolean,
): Promise<ApplicationFailure> {
  let failure: ApplicationFailure | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, nonRetryable);
    failure = error;
    return true;
  });
  assert.ok(failure);
  return failure;
}

/** Fails like Node's fetch does when a host name does not resolve, without sending any DNS query. */
const unresolvableFetch: typeof fetch = async () => {
  const cause = Object.assign(new Error('getaddrinfo ENOTFOUND api.example.invalid'), { code: 'ENOTFOUND' });
  throw new TypeError('fetch failed', { cause });
};

/** Returns a loopback port that nothing listens on: one the system just assigned and released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('xataBranchName', () => {
  test('hyphens for underscores', () => {
    assert.match(xataBranchName('user_2abcDEF123'), /^user-2abcdef123-[0-9a-f]{12}$/);
  });

  test('letter case kept apart', () => {
    assert.notEqual(xataBranchName('user_abc'), xataBranchName('user_ABC'));
  });

  test('invalid id rejected', () => {
    assert.throws(
      () => xataBranchName('user_../x'),
      (error: unknown) => error instanceof ApplicationFailure,
    );
  });
});

describe('xata provider faults', () => {
  let fake: FakeXataApi;

  afterEach(async () => {
    await fake.stop();
  });

  /** Starts a fake without a Postgres server: these cases fail before a branch database is needed. */
  async function open(options: { apiKey?: string; requestTimeoutMs?: number } = {}): Promise<DatabaseProvider> {
    fake = new FakeXataApi({ postgresUrl: 'postgres://unused@127.0.0.1:1/postgres' });
    const baseUrl = await fake.start();
    return createXataProvider({
      apiKey: options.apiKey ?? fake.apiKey,
      organizationId: fake.organizationId,
      projectId: fake.projectId,
      baseUrl,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    });
  }

  async function ensureAfter(...faults: Fault[]): Promise<unknown> {
    const provider = await open({ requestTimeoutMs: 300 });
    fake.inject(...faults);
    return provider.ensureDatabase(uniqueUserId('fault'), REGION);
  }

  test('429 retried after Retry-After', async () => {
    const failure = await assertFailure(
      ensureAfter({ status: 429, headers: { 'retry-after': '7' } }),
      RetryableErrorType.PROVIDER_RATE_LIMITED,
      false,
    );
    assert.equal(failure.nextRetryDelay, 7000);
  });

  test('500 retryable', async () => {
    await assertFailure(ensureAfter({ status: 500 }), RetryableErrorType.PROVIDER_UNAVAILABLE, false);
  });

  test('hanging response times out', async () => {
    await assertFailure(ensureAfter({ hang: true }), RetryableErrorType.PROVIDER_UNAVAILABLE, false);
  });

  test('401 is authentication', async () => {
    await assertFailure(ensureAfter({ status: 401 }), ErrorType.PROVIDER_AUTHENTICATION, true);
  });

  test('wrong key rejected', async () => {
    const provider = await open({ apiKey: 'xau_wrong' });
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_AUTHENTICATION, true);
  });

  test('403 is authentication', async () => {
    await assertFailure(ensureAfter({ status: 403 }), ErrorType.PROVIDER_AUTHENTICATION, true);
  });

  test('410 is retired', async () => {
    await assertFailure(ensureAfter({ status: 410 }), ErrorType.PROVIDER_RETIRED, true);
  });

  test('unknown region', async () => {
    const provider = await open();
    await assertFailure(provider.ensureDatabase(uniqueUserId(), 'ap-south-1'), ErrorType.REGION_NOT_AVAILABLE, true);
  });

  test('unknown region creates nothing', async () => {
    const provider = await open();
    await provider.ensureDatabase(uniqueUserId(), 'ap-south-1').catch(() => undefined);
    assert.equal(fake.requests.filter((request) => request.method === 'POST').length, 0);
  });

  test('region list failure not cached', async () => {
    const provider = await open();
    fake.inject({ status: 503 });
    await assertFailure(
      provider.ensureDatabase(uniqueUserId(), 'ap-south-1'),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );

    await assertFailure(provider.ensureDatabase(uniqueUserId(), 'ap-south-1'), ErrorType.REGION_NOT_AVAILABLE, true);
  });

  test('unresolvable host is retired', async () => {
    const provider = createXataProvider({
      apiKey: 'xau_test',
      organizationId: 'org_test',
      projectId: 'prj_test',
      baseUrl: 'http://127.0.0.1:9',
      fetch: unresolvableFetch,
    });
    fake = new FakeXataApi({ postgresUrl: 'postgres://unused@127.0.0.1:1/postgres' });
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_RETIRED, true);
  });

  test('refused connection retryable', async () => {
    const provider = createXataProvider({
      apiKey: 'xau_test',
      organizationId: 'org_test',
      projectId: 'prj_test',
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
    });
    fake = new FakeXataApi({ postgresUrl: 'postgres://unused@127.0.0.1:1/postgres' });
    await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );
  });

  test('API key not in messages', async () => {
    const provider = await open({ requestTimeoutMs: 300 });
    fake.inject({ status: 500, body: { message: 'internal error' } });
    const failure = await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );
    assert.ok(!failure.message.includes(fake.apiKey), failure.message);
  });
});

const postgres = postgresTestServer();

describe(
  'xata provider branches',
  { skip: 'missing' in postgres && !postgres.mustFail ? postgres.missing : undefined },
  () => {
    if (!('url' in postgres)) {
      test('server configured', () => assert.fail(postgres.missing));
      return;
    }
    const postgresUrl = postgres.url;
    let fake: FakeXataApi;

    afterEach(async () => {
      await fake.stop();
    });

    async function open(): Promise<DatabaseProvider> {
      fake = new FakeXataApi({ postgresUrl });
      const baseUrl = await fake.start();
      const { apiKey, organizationId, projectId } = fake;
      return createXataProvider({ apiKey, organizationId, projectId, baseUrl });
    }

    test('schema lands in branch database', async () => {
      const provider = await open();
      const { ref } = await provider.ensureDatabase(uniqueUserId('tables'), REGION);
      await provider.applySchema(ref, migrationsFor('postgres'));

      const branch = fake.branches.get(ref.name);
      assert.ok(branch);
      const rows = await queryRows<{ version: number }>(
        withDatabase(postgresUrl, branch.database),
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map((row) => row.version),
        migrationsFor('postgres').map((migration) => migration.version),
      );
    });

    test('branch created in region', async () => {
      const provider = await open();
      const { ref } = await provider.ensureDatabase(uniqueUserId('region'), 'us-east-1');
      assert.equal(fake.branches.get(ref.name)?.region, 'us-east-1');
    });

    test('branches never listed', async () => {
      const provider = await open();
      const { ref } = await provider.ensureDatabase(uniqueUserId('nolist'), REGION);
      await provider.describe(ref);
      await provider.deleteDatabase(ref);

      const collection = `/organizations/${fake.organizationId}/projects/${fake.projectId}/branches`;
      const listCalls = fake.requests.filter((request) => request.method === 'GET' && request.path === collection);
      assert.deepEqual(listCalls, []);
    });

    test('ref has no secret', async () => {
      const provider = await open();
      const { ref } = await provider.ensureDatabase(uniqueUserId('secret'), REGION);
      assert.ok(!JSON.stringify(ref).includes(fake.apiKey));
      assert.ok(!JSON.stringify(ref).includes(new URL(postgresUrl).password));
    });
  },
);

describe('xata-lite provider', () => {
  let fake: FakeXataLiteApi;

  afterEach(async () => {
    await fake.stop();
  });

  async function open(
    options: { maxDatabases?: number; callTimeoutMs?: number; apiKey?: string } = {},
  ): Promise<DatabaseProvider> {
    fake = new FakeXataLiteApi({ maxDatabases: options.maxDatabases });
    const baseUrl = await fake.start();
    return createXataLiteProvider({
      apiKey: options.apiKey ?? fake.apiKey,
      workspaceId: fake.workspaceId,
      baseUrl,
      callTimeoutMs: options.callTimeoutMs ?? 5000,
    });
  }

  test('database created in region', async () => {
    const provider = await open();
    const { ref } = await provider.ensureDatabase(uniqueUserId(), 'us-east-1');
    assert.equal(fake.databases.get(ref.name), 'us-east-1');
  });

  test('databases never listed', async () => {
    const provider = await open();
    const { ref } = await provider.ensureDatabase(uniqueUserId(), REGION);
    await provider.describe(ref);
    await provider.deleteDatabase(ref);

    const collection = `/workspaces/${fake.workspaceId}/dbs`;
    assert.deepEqual(
      fake.requests.filter((request) => request.path === collection),
      [],
    );
  });

  test('409 on create is success', async () => {
    const provider = await open();
    await provider.ensureDatabase(uniqueUserId(), REGION);
    fake.inject({ status: 404, body: { message: 'not found' } }, { status: 409, body: { message: 'conflict' } });

    const result = await provider.ensureDatabase(uniqueUserId(), REGION);
    assert.equal(result.created, false);
  });

  test('quota exceeded', async () => {
    const provider = await open({ maxDatabases: 1 });
    await provider.ensureDatabase(uniqueUserId(), REGION);
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_QUOTA_EXCEEDED, true);
  });

  test('410 is retired', async () => {
    const provider = await open();
    fake.inject({ status: 410, body: { message: 'this API has been retired' } });
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_RETIRED, true);
  });

  test('unresolvable host is retired', async () => {
    fake = new FakeXataLiteApi();
    const provider = createXataLiteProvider({
      apiKey: 'xau_test',
      workspaceId: 'ws',
      baseUrl: 'http://127.0.0.1:9',
      fetch: unresolvableFetch,
    });
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_RETIRED, true);
  });

  test('401 is authentication', async () => {
    const provider = await open({ apiKey: 'xau_wrong' });
    await assertFailure(provider.ensureDatabase(uniqueUserId(), REGION), ErrorType.PROVIDER_AUTHENTICATION, true);
  });

  test('500 retryable', async () => {
    const provider = await open();
    fake.inject({ status: 500 });
    await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );
  });

  test('endless 429 bounded', async () => {
    const provider = await open({ callTimeoutMs: 300 });
    const rateLimited: Fault = { status: 429, headers: { 'retry-after': '1', 'x-ratelimit-reset': '1' } };
    fake.inject(rateLimited, rateLimited, rateLimited);

    const started = Date.now();
    const failure = await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_RATE_LIMITED,
      false,
    );
    assert.ok(Date.now() - started < 1000, `failed after ${Date.now() - started} ms`);
    assert.equal(failure.nextRetryDelay, 1000);
  });

  test('hanging response times out', async () => {
    const provider = await open({ callTimeoutMs: 300 });
    fake.inject({ hang: true });
    await assertFailure(
      provider.ensureDatabase(uniqueUserId(), REGION),
      RetryableErrorType.PROVIDER_UNAVAILABLE,
      false,
    );
  });

  test('unknown region', async () => {
    const provider = await open();
    await assertFailure(provider.ensureDatabase(uniqueUserId(), 'ap-south-1'), ErrorType.REGION_NOT_AVAILABLE, true);
  });
});

describe('xata configuration', () => {
  const XATA = { DATABASE_PROVIDER: 'xata', XATA_API_KEY: 'xau_k', XATA_ORGANIZATION: 'org1', XATA_PROJECT: 'prj1' };

  test('selects xata', () => {
    assert.equal(loadCommonConfig(XATA).database.xata?.projectId, 'prj1');
  });

  test('base URL optional', () => {
    assert.equal(loadCommonConfig(XATA).database.xata?.baseUrl, undefined);
  });

  for (const variable of ['XATA_API_KEY', 'XATA_ORGANIZATION', 'XATA_PROJECT']) {
    test(`xata needs ${variable}`, () => {
      const env: Record<string, string> = { ...XATA };
      delete env[variable];
      assert.throws(
        () => loadCommonConfig(env),
        (error: unknown) =>
          error instanceof ConfigError && error.problems[0]?.startsWith(`${variable}: missing`) === true,
      );
    });
  }

  test('xata-lite needs workspace', () => {
    assert.throws(
      () => loadCommonConfig({ DATABASE_PROVIDER: 'xata-lite', XATA_API_KEY: 'xau_k' }),
      /XATA_WORKSPACE_SLUG: missing/,
    );
  });

  test('selects xata-lite', () => {
    const env = { DATABASE_PROVIDER: 'xata-lite', XATA_API_KEY: 'xau_k', XATA_WORKSPACE_SLUG: 'ws-1' };
    assert.equal(loadCommonConfig(env).database.xataLite?.workspaceId, 'ws-1');
  });

  test('key not in messages', () => {
    const env = { ...XATA, XATA_API_BASE_URL: 'not a url' };
    assert.throws(
      () => loadCommonConfig(env),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('xau_k'),
    );
  });
});
