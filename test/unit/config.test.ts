import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';

import { loadApiConfig, loadCommonConfig } from '../../src/config';
import { CONFIG_CWD, configError } from '../helpers/config';

const SECRET = 'config-test-secret';
const BASE_ENV = { HOOKDECK_WEBHOOK_SECRET: SECRET };
const CWD = CONFIG_CWD;

describe('loadApiConfig secret', () => {
  test('missing secret', () => {
    const error = configError(() => loadApiConfig({}, CWD));
    assert.match(error.message, /HOOKDECK_WEBHOOK_SECRET: missing/);
    assert.equal(error.problems.length, 1);
  });

  test('empty secret', () => {
    const error = configError(() => loadApiConfig({ HOOKDECK_WEBHOOK_SECRET: '' }, CWD));
    assert.match(error.message, /HOOKDECK_WEBHOOK_SECRET: missing/);
  });

  test('missing secret names the fix', () => {
    const error = configError(() => loadApiConfig({}, CWD));
    assert.match(error.message, /signing secret/);
  });

  for (const secret of [' padded-secret', 'padded-secret ', 'padded-secret\n', ' ']) {
    test(`secret with white space ${JSON.stringify(secret)}`, () => {
      const error = configError(() => loadApiConfig({ HOOKDECK_WEBHOOK_SECRET: secret }, CWD));
      assert.match(error.message, /HOOKDECK_WEBHOOK_SECRET: must not start or end with white space/);
    });
  }

  test('error message omits secret value', () => {
    const error = configError(() => loadApiConfig({ HOOKDECK_WEBHOOK_SECRET: ' leaked-value ' }, CWD));
    assert.equal(error.message.includes('leaked-value'), false);
  });

  test('secret stored as given', () => {
    assert.equal(loadApiConfig(BASE_ENV, CWD).hookdeck?.signingSecret, SECRET);
  });

  test('every bad variable listed', () => {
    const error = configError(() => loadApiConfig({ PORT: 'abc', TEMPORAL_ADDRESS: 'localhost' }, CWD));
    const names = error.problems.map((problem) => problem.split(':')[0]).sort();
    assert.deepEqual(names, ['HOOKDECK_WEBHOOK_SECRET', 'PORT', 'TEMPORAL_ADDRESS']);
  });
});

describe('loadApiConfig defaults', () => {
  const config = loadApiConfig(BASE_ENV, CWD);

  test('port 3000', () => assert.equal(config.port, 3000));
  test('dataDir under cwd', () => assert.equal(config.dataDir, path.join(CWD, 'data')));
  test('namespace default', () => assert.equal(config.temporal.namespace, 'default'));
  test('task queue per-user-db', () => assert.equal(config.temporal.taskQueue, 'per-user-db'));
  test('address unset', () => assert.equal(config.temporal.address, undefined));
  test('TLS off', () => assert.equal(config.temporal.tls, false));
  test('API key unset', () => assert.equal(config.temporal.apiKey, undefined));
  test('dev server ports', () => assert.deepEqual(config.temporal.devServer, { port: 7233, uiPort: 8233 }));
  test('requireVerified true', () => assert.equal(config.hookdeck?.requireVerified, true));
  test('maxBodyBytes 1 MiB', () => assert.equal(config.maxBodyBytes, 1048576));
  test('seedSchema true', () => assert.equal(config.database.seedSchema, true));
  test('provider sqlite', () => assert.equal(config.database.provider, 'sqlite'));
  test('start timeout 5 s', () => assert.equal(config.startTimeoutMs, 5000));
  test('env development', () => assert.equal(config.env, 'development'));
  test('log level info', () => assert.equal(config.logLevel, 'info'));
  test('geoip database unset', () => assert.equal(config.geoipDatabase, undefined));

  test('dataDir uses process cwd', () => {
    assert.equal(loadApiConfig(BASE_ENV).dataDir, path.resolve(process.cwd(), 'data'));
  });

  test('empty values mean unset', () => {
    const empty = loadApiConfig(
      { ...BASE_ENV, PORT: '', TEMPORAL_ADDRESS: '', SEED_SCHEMA: '', MAX_BODY_BYTES: '' },
      CWD,
    );
    assert.equal(empty.port, 3000);
    assert.equal(empty.temporal.address, undefined);
    assert.equal(empty.database.seedSchema, true);
    assert.equal(empty.maxBodyBytes, 1048576);
  });

  test('test env logs warnings', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, NODE_ENV: 'test' }, CWD).logLevel, 'warn');
  });
});

describe('loadApiConfig overrides', () => {
  const config = loadApiConfig(
    {
      ...BASE_ENV,
      PORT: '8080',
      DATA_DIR: 'state/dbs',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_TASK_QUEUE: 'provisioning',
      HOOKDECK_REQUIRE_VERIFIED: 'false',
      MAX_BODY_BYTES: '2048',
      SEED_SCHEMA: 'no',
      TEMPORAL_START_TIMEOUT_MS: '250',
      GEOIP_DATABASE: 'geo/country.mmdb',
      LOG_LEVEL: 'debug',
    },
    CWD,
  );

  test('port', () => assert.equal(config.port, 8080));
  test('relative dataDir resolved', () => assert.equal(config.dataDir, path.join(CWD, 'state/dbs')));
  test('address', () => assert.equal(config.temporal.address, 'temporal.internal:7233'));
  test('namespace', () => assert.equal(config.temporal.namespace, 'prod'));
  test('task queue', () => assert.equal(config.temporal.taskQueue, 'provisioning'));
  test('requireVerified', () => assert.equal(config.hookdeck?.requireVerified, false));
  test('maxBodyBytes', () => assert.equal(config.maxBodyBytes, 2048));
  test('seedSchema', () => assert.equal(config.database.seedSchema, false));
  test('start timeout', () => assert.equal(config.startTimeoutMs, 250));
  test('geoip database resolved', () => assert.equal(config.geoipDatabase, path.join(CWD, 'geo/country.mmdb')));
  test('log level', () => assert.equal(config.logLevel, 'debug'));

  test('absolute dataDir kept', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, DATA_DIR: '/var/lib/dbs' }, CWD).dataDir, path.resolve('/var/lib/dbs'));
  });

  test('port 0 allowed', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, PORT: '0' }, CWD).port, 0);
  });

  test('port 65535 allowed', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, PORT: '65535' }, CWD).port, 65535);
  });

  const booleans: Array<{ value: string; expected: boolean }> = [
    { value: 'true', expected: true },
    { value: '1', expected: true },
    { value: 'yes', expected: true },
    { value: 'false', expected: false },
    { value: '0', expected: false },
    { value: 'no', expected: false },
  ];
  for (const { value, expected } of booleans) {
    test(`boolean ${value}`, () => {
      assert.equal(loadApiConfig({ ...BASE_ENV, SEED_SCHEMA: value }, CWD).database.seedSchema, expected);
    });
  }
});

describe('loadApiConfig invalid values', () => {
  const cases: Array<{ name: string; env: Record<string, string>; variable: string; message: RegExp }> = [
    { name: 'PORT abc', env: { PORT: 'abc' }, variable: 'PORT', message: /expected a port number/ },
    { name: 'PORT 70000', env: { PORT: '70000' }, variable: 'PORT', message: /expected 0 to 65535/ },
    { name: 'PORT 65536', env: { PORT: '65536' }, variable: 'PORT', message: /expected 0 to 65535/ },
    { name: 'PORT -1', env: { PORT: '-1' }, variable: 'PORT', message: /expected a port number/ },
    { name: 'PORT 80.5', env: { PORT: '80.5' }, variable: 'PORT', message: /expected a port number/ },
    { name: 'PORT space', env: { PORT: ' ' }, variable: 'PORT', message: /expected a port number/ },
    { name: 'PORT 1e3', env: { PORT: '1e3' }, variable: 'PORT', message: /expected a port number/ },
    { name: 'PORT 0x50', env: { PORT: '0x50' }, variable: 'PORT', message: /expected a port number/ },
    {
      name: 'address without port',
      env: { TEMPORAL_ADDRESS: 'localhost' },
      variable: 'TEMPORAL_ADDRESS',
      message: /expected host:port/,
    },
    {
      name: 'address with scheme',
      env: { TEMPORAL_ADDRESS: 'http://localhost:7233' },
      variable: 'TEMPORAL_ADDRESS',
      message: /expected host:port/,
    },
    {
      name: 'address with text port',
      env: { TEMPORAL_ADDRESS: 'localhost:grpc' },
      variable: 'TEMPORAL_ADDRESS',
      message: /expected host:port/,
    },
    {
      name: 'address with space',
      env: { TEMPORAL_ADDRESS: 'local host:7233' },
      variable: 'TEMPORAL_ADDRESS',
      message: /expected host:port/,
    },
    {
      name: 'boolean maybe',
      env: { HOOKDECK_REQUIRE_VERIFIED: 'maybe' },
      variable: 'HOOKDECK_REQUIRE_VERIFIED',
      message: /expected true or false/,
    },
    { name: 'boolean on', env: { SEED_SCHEMA: 'on' }, variable: 'SEED_SCHEMA', message: /expected true or false/ },
    { name: 'boolean TLS y', env: { TEMPORAL_TLS: 'y' }, variable: 'TEMPORAL_TLS', message: /expected true or false/ },
    {
      name: 'max body below 1 KiB',
      env: { MAX_BODY_BYTES: '1000' },
      variable: 'MAX_BODY_BYTES',
      message: /expected at least 1024 bytes/,
    },
    { name: 'max body text', env: { MAX_BODY_BYTES: 'lots' }, variable: 'MAX_BODY_BYTES', message: /expected number/ },
    {
      name: 'start timeout too high',
      env: { TEMPORAL_START_TIMEOUT_MS: '60000' },
      variable: 'TEMPORAL_START_TIMEOUT_MS',
      message: /30000/,
    },
    { name: 'NODE_ENV staging', env: { NODE_ENV: 'staging' }, variable: 'NODE_ENV', message: /production/ },
    { name: 'LOG_LEVEL verbose', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL', message: /debug/ },
    {
      name: 'provider mysql',
      env: { DATABASE_PROVIDER: 'mysql' },
      variable: 'DATABASE_PROVIDER',
      message: /expected sqlite or postgres/,
    },
    {
      name: 'dev server port text',
      env: { TEMPORAL_DEV_SERVER_PORT: 'seven' },
      variable: 'TEMPORAL_DEV_SERVER_PORT',
      message: /expected a port number/,
    },
  ];

  for (const { name, env, variable, message } of cases) {
    test(name, () => {
      const error = configError(() => loadApiConfig({ ...BASE_ENV, ...env }, CWD));
      assert.equal(error.problems.length, 1);
      assert.ok(error.problems[0]?.startsWith(`${variable}: `), `problem names ${variable}: ${error.problems[0]}`);
      assert.match(error.problems[0] ?? '', message);
    });
  }
});

describe('loadCommonConfig', () => {
  test('needs no secret', () => {
    const config = loadCommonConfig({}, CWD);
    assert.equal(config.temporal.taskQueue, 'per-user-db');
  });

  test('has no hookdeck section', () => {
    assert.equal('hookdeck' in loadCommonConfig({ ...BASE_ENV }, CWD), false);
  });

  test('defaults match the API', () => {
    const { port, hookdeck, svix, maxBodyBytes, startTimeoutMs, deletionGracePeriodMs, statusApiToken, ...common } =
      loadApiConfig(BASE_ENV, CWD);
    assert.deepEqual(loadCommonConfig({}, CWD), common);
    assert.equal(typeof port, 'number');
    assert.equal(typeof hookdeck, 'object');
    assert.equal(svix, undefined);
    assert.equal(deletionGracePeriodMs, 72 * 3_600_000);
    assert.equal(statusApiToken, undefined);
    assert.equal(typeof maxBodyBytes, 'number');
    assert.equal(typeof startTimeoutMs, 'number');
  });

  test('ignores a bad API-only PORT', () => {
    assert.equal(loadCommonConfig({ PORT: 'abc' }, CWD).temporal.namespace, 'default');
  });

  test('bad address named', () => {
    const error = configError(() => loadCommonConfig({ TEMPORAL_ADDRESS: 'localhost' }, CWD));
    assert.match(error.message, /TEMPORAL_ADDRESS: expected host:port/);
  });

  test('bad dev server port named', () => {
    const error = configError(() => loadCommonConfig({ TEMPORAL_UI_PORT: '99999' }, CWD));
    assert.match(error.message, /TEMPORAL_UI_PORT: expected 0 to 65535/);
  });
});

describe('Temporal TLS', () => {
  test('on with API key', () => {
    const config = loadCommonConfig({ TEMPORAL_API_KEY: 'key-123' }, CWD);
    assert.equal(config.temporal.tls, true);
    assert.equal(config.temporal.apiKey, 'key-123');
  });

  test('off without API key', () => {
    assert.equal(loadCommonConfig({}, CWD).temporal.tls, false);
  });

  test('off with empty API key', () => {
    assert.equal(loadCommonConfig({ TEMPORAL_API_KEY: '' }, CWD).temporal.tls, false);
  });

  test('explicit false wins over API key', () => {
    assert.equal(loadCommonConfig({ TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }, CWD).temporal.tls, false);
  });

  test('explicit true without API key', () => {
    assert.equal(loadCommonConfig({ TEMPORAL_TLS: 'true' }, CWD).temporal.tls, true);
  });

  test('API config too', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, TEMPORAL_API_KEY: 'key-123' }, CWD).temporal.tls, true);
  });
});

describe('loadApiConfig webhook sources', () => {
  const SVIX_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
  const ROTATED_SECRET = 'whsec_' + Buffer.alloc(32, 8).toString('base64');

  test('hookdeck is the default', () => {
    const config = loadApiConfig(BASE_ENV, CWD);
    assert.equal(typeof config.hookdeck, 'object');
    assert.equal(config.svix, undefined);
  });

  test('svix alone needs no Hookdeck secret', () => {
    const config = loadApiConfig({ WEBHOOK_SOURCES: 'svix', CLERK_WEBHOOK_SECRETS: SVIX_SECRET }, CWD);
    assert.equal(config.hookdeck, undefined);
    assert.equal(config.svix?.keys.length, 1);
  });

  test('both sources with two Svix secrets', () => {
    const env = {
      ...BASE_ENV,
      WEBHOOK_SOURCES: 'hookdeck, svix',
      CLERK_WEBHOOK_SECRETS: `${SVIX_SECRET},${ROTATED_SECRET}`,
    };
    const config = loadApiConfig(env, CWD);
    assert.equal(config.hookdeck?.signingSecret, SECRET);
    assert.equal(config.svix?.keys.length, 2);
  });

  test('svix without secrets names the variable', () => {
    const error = configError(() => loadApiConfig({ WEBHOOK_SOURCES: 'svix' }, CWD));
    assert.match(error.message, /CLERK_WEBHOOK_SECRETS: missing/);
  });

  test('malformed Svix secret is rejected', () => {
    const error = configError(() => loadApiConfig({ WEBHOOK_SOURCES: 'svix', CLERK_WEBHOOK_SECRETS: 'whsec_!!' }, CWD));
    assert.match(error.message, /CLERK_WEBHOOK_SECRETS: secret 1 is invalid/);
    assert.equal(error.message.includes('whsec_!!'), false);
  });

  test('unknown source is rejected', () => {
    const error = configError(() => loadApiConfig({ ...BASE_ENV, WEBHOOK_SOURCES: 'stripe' }, CWD));
    assert.match(error.message, /WEBHOOK_SOURCES: expected a comma-separated list of hookdeck and svix/);
  });
});

describe('loadApiConfig deletion and status API', () => {
  const cases = [
    { value: '0s', ms: 0 },
    { value: '30m', ms: 1_800_000 },
    { value: '72h', ms: 259_200_000 },
    { value: '7d', ms: 604_800_000 },
    { value: '250ms', ms: 250 },
  ];
  for (const { value, ms } of cases) {
    test(`grace period ${value}`, () => {
      assert.equal(loadApiConfig({ ...BASE_ENV, DELETION_GRACE_PERIOD: value }, CWD).deletionGracePeriodMs, ms);
    });
  }

  for (const value of ['72', '1.5h', '-1h', '3 days', 'h']) {
    test(`grace period ${JSON.stringify(value)} rejected`, () => {
      const error = configError(() => loadApiConfig({ ...BASE_ENV, DELETION_GRACE_PERIOD: value }, CWD));
      assert.match(error.message, /DELETION_GRACE_PERIOD: expected a whole number with a unit/);
    });
  }

  test('short status token rejected', () => {
    const error = configError(() => loadApiConfig({ ...BASE_ENV, STATUS_API_TOKEN: 'short' }, CWD));
    assert.match(error.message, /STATUS_API_TOKEN: expected at least 16 characters/);
    assert.equal(error.message.includes('short;'), false);
  });

  test('status token stored', () => {
    const token = 'a'.repeat(32);
    assert.equal(loadApiConfig({ ...BASE_ENV, STATUS_API_TOKEN: token }, CWD).statusApiToken, token);
  });
});

describe('provider rate limit', () => {
  test('unset means no limit', () => {
    assert.equal(loadCommonConfig({}, CWD).providerMaxCallsPerSecond, undefined);
  });

  test('empty means no limit', () => {
    assert.equal(loadCommonConfig({ PROVIDER_MAX_CALLS_PER_SECOND: '' }, CWD).providerMaxCallsPerSecond, undefined);
  });

  for (const { value, rate } of [
    { value: '20', rate: 20 },
    { value: '0.5', rate: 0.5 },
    { value: '1000', rate: 1000 },
  ]) {
    test(`limit ${value} read`, () => {
      assert.equal(loadCommonConfig({ PROVIDER_MAX_CALLS_PER_SECOND: value }, CWD).providerMaxCallsPerSecond, rate);
    });
  }

  test('API config reads it too', () => {
    assert.equal(loadApiConfig({ ...BASE_ENV, PROVIDER_MAX_CALLS_PER_SECOND: '5' }, CWD).providerMaxCallsPerSecond, 5);
  });

  for (const value of ['abc', '-1', '1e3', '0x14', ' ', '20/s']) {
    test(`limit ${JSON.stringify(value)} rejected`, () => {
      const error = configError(() => loadCommonConfig({ PROVIDER_MAX_CALLS_PER_SECOND: value }, CWD));
      assert.match(error.message, /PROVIDER_MAX_CALLS_PER_SECOND: expected a number of calls per second/);
    });
  }

  for (const value of ['0', '0.0']) {
    test(`limit ${value} rejected`, () => {
      const error = configError(() => loadCommonConfig({ PROVIDER_MAX_CALLS_PER_SECOND: value }, CWD));
      assert.match(error.message, /PROVIDER_MAX_CALLS_PER_SECOND: expected more than 0/);
    });
  }
});
