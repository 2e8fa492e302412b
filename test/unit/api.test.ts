import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';

import express from 'express';
import pino from 'pino';

import { type AppOptions, createApp, WEBHOOK_PATH } from '../../src/api/app';
import {
  type DeletionOutcome,
  type ProvisioningService,
  type StartOutcome,
  TemporalUnavailableError,
} from '../../src/api/provisioning';
import { RETRY_AFTER_SECONDS } from '../../src/api/responses';
import { signHookdeck } from '../../src/api/signature';
import type { Logger } from '../../src/logger';
import type { DeletionRequest, ProvisionInput } from '../../src/shared';

const SECRET = 'api-test-signing-secret-5d1c';
const OTHER_SECRET = 'api-test-other-secret-77aa';
const MAX_BODY_BYTES = 4096;

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/clerk');
const EU_BODY = readFixture('user-created-eu.json');
const EU_USER_ID = 'user_2pQfEuExample7Hk3LmN9xRtVw1';
const EU_CLIENT_IP = '193.0.6.139';
const EU_EMAIL = 'ana.example@example.com';

function readFixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

/** A ProvisioningService that records each start call and returns what the test sets. */
class FakeProvisioning implements ProvisioningService {
  readonly calls: ProvisionInput[] = [];
  startResult: (input: ProvisionInput) => Promise<StartOutcome> = async (input) => ({
    kind: 'started',
    workflowId: input.userId,
    runId: 'run-0001',
  });
  readyResult: () => Promise<void> = async () => undefined;

  start(input: ProvisionInput): Promise<StartOutcome> {
    this.calls.push(input);
    return this.startResult(input);
  }

  readonly deletions: Array<{ input: ProvisionInput; request: DeletionRequest }> = [];
  deletionResult: (input: ProvisionInput) => Promise<DeletionOutcome> = async (input) => ({
    kind: 'deletion-requested',
    workflowId: input.userId,
  });

  requestDeletion(input: ProvisionInput, request: DeletionRequest): Promise<DeletionOutcome> {
    this.deletions.push({ input, request });
    return this.deletionResult(input);
  }

  checkReady(): Promise<void> {
    return this.readyResult();
  }
}

interface Harness {
  url: string;
  provisioning: FakeProvisioning;
}

interface ServeOptions {
  app?: Partial<Omit<AppOptions, 'provisioning'>>;
  /** Wraps the app from createApp in the app that listens. */
  wrap?: (app: express.Express) => express.Express;
}

async function serve(t: TestContext, options: ServeOptions = {}): Promise<Harness> {
  const provisioning = new FakeProvisioning();
  const app = createApp({
    hookdeck: { signingSecret: SECRET, requireVerified: true },
    maxBodyBytes: MAX_BODY_BYTES,
    seedSchema: true,
    logger: pino({ level: 'silent' }),
    ...options.app,
    provisioning,
  });
  const server = http.createServer(options.wrap ? options.wrap(app) : app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, provisioning };
}

function memoryLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  // No pid or hostname, so the captured text holds only what the app logged.
  const logger = pino({ level: 'trace', base: undefined }, { write: (chunk: string) => void chunks.push(chunk) });
  return { logger, text: () => chunks.join('') };
}

/** Builds the headers of a delivery as Hookdeck sends it. A null value in `changes` removes that header. */
function deliveryHeaders(body: Buffer, changes: Record<string, string | null> = {}): Record<string, string> {
  const headers: Record<string, string | null> = {
    'content-type': 'application/json',
    'x-hookdeck-signature': signHookdeck(body, SECRET),
    'x-hookdeck-verified': 'true',
    'x-hookdeck-eventid': 'evt_test_0001',
    'svix-id': 'msg_test_0001',
    ...changes,
  };
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null));
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

async function request(
  url: string,
  init: { method?: string; body?: Buffer; headers?: Record<string, string> },
): Promise<Reply> {
  const response = await fetch(url, { method: init.method ?? 'POST', body: init.body, headers: init.headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function deliver(harness: Harness, body: Buffer, changes: Record<string, string | null> = {}): Promise<Reply> {
  return request(harness.url + WEBHOOK_PATH, { body, headers: deliveryHeaders(body, changes) });
}

function assertJson(reply: Reply, expected: unknown): void {
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(JSON.parse(reply.text), expected);
}

interface RejectionCase {
  name: string;
  method?: string;
  path?: string;
  body?: Buffer;
  headers?: Record<string, string>;
  app?: ServeOptions['app'];
  status: number;
  json: unknown;
  responseHeaders?: Record<string, string>;
}

const INVALID_JSON_BODY = Buffer.from('{"type":"user.created","data":');
const ARRAY_BODY = Buffer.from('[1,2,3]');
const BAD_ID_BODY = Buffer.from(EU_BODY.toString('utf8').replace(EU_USER_ID, '../x'));
const LARGE_BODY = Buffer.from(`{"type":"user.created","data":{"pad":"${'a'.repeat(MAX_BODY_BYTES)}"}}`);
const GZIP_BODY = gzipSync(EU_BODY);

const REJECTIONS: RejectionCase[] = [
  {
    name: 'no signature',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-signature': null }),
    status: 401,
    json: { error: 'missing signature' },
  },
  {
    name: 'empty signature',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-signature': '' }),
    status: 401,
    json: { error: 'missing signature' },
  },
  {
    name: 'no signature, unverified',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-signature': null, 'x-hookdeck-verified': null }),
    status: 401,
    json: { error: 'missing signature' },
  },
  {
    name: 'garbage signature',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-signature': 'not-a-signature' }),
    status: 401,
    json: { error: 'invalid signature' },
  },
  {
    name: 'wrong secret',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-signature': signHookdeck(EU_BODY, OTHER_SECRET) }),
    status: 401,
    json: { error: 'invalid signature' },
  },
  {
    name: 'signature over other body',
    body: EU_BODY,
    headers: deliveryHeaders(readFixture('user-created-us.json')),
    status: 401,
    json: { error: 'invalid signature' },
  },
  {
    name: 'both rotation headers wrong',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, {
      'x-hookdeck-signature': signHookdeck(EU_BODY, OTHER_SECRET),
      'x-hookdeck-signature-2': 'garbage',
    }),
    status: 401,
    json: { error: 'invalid signature' },
  },
  {
    name: 'verified header missing',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-verified': null }),
    status: 401,
    json: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'verified header false',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-verified': 'false' }),
    status: 401,
    json: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'verified header 1',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'x-hookdeck-verified': '1' }),
    status: 401,
    json: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'invalid JSON',
    body: INVALID_JSON_BODY,
    headers: deliveryHeaders(INVALID_JSON_BODY),
    status: 400,
    json: { error: 'invalid JSON' },
  },
  {
    name: 'empty body',
    body: Buffer.alloc(0),
    headers: deliveryHeaders(Buffer.alloc(0)),
    status: 400,
    json: { error: 'invalid JSON' },
  },
  {
    name: 'not an envelope',
    body: ARRAY_BODY,
    headers: deliveryHeaders(ARRAY_BODY),
    status: 400,
    json: { error: 'not a Clerk event: expected an object with "type" and "data"' },
  },
  {
    name: 'bad data.id',
    body: BAD_ID_BODY,
    headers: deliveryHeaders(BAD_ID_BODY),
    status: 400,
    json: { error: 'invalid data.id: expected a Clerk user id such as user_2pQfEu...' },
  },
  {
    name: 'body over maxBodyBytes',
    body: LARGE_BODY,
    headers: deliveryHeaders(LARGE_BODY),
    status: 413,
    json: { error: `body larger than ${MAX_BODY_BYTES} bytes` },
  },
  {
    name: 'gzip, signed compressed',
    body: GZIP_BODY,
    headers: deliveryHeaders(GZIP_BODY, { 'content-encoding': 'gzip' }),
    status: 415,
    json: { error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' },
  },
  {
    name: 'gzip, signed uncompressed',
    body: GZIP_BODY,
    headers: deliveryHeaders(EU_BODY, { 'content-encoding': 'gzip' }),
    status: 415,
    json: { error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' },
  },
  {
    name: 'br encoding',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY, { 'content-encoding': 'br' }),
    status: 415,
    json: { error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' },
  },
  ...['GET', 'PUT', 'DELETE', 'PATCH'].map((method): RejectionCase => ({
    name: `${method} on webhook`,
    method,
    body: method === 'GET' ? undefined : EU_BODY,
    headers: method === 'GET' ? {} : deliveryHeaders(EU_BODY),
    status: 405,
    json: { error: 'method not allowed' },
    responseHeaders: { allow: 'POST' },
  })),
  {
    name: 'unknown path',
    path: '/webhooks/stripe',
    body: EU_BODY,
    headers: deliveryHeaders(EU_BODY),
    status: 404,
    json: { error: 'not found' },
  },
  {
    name: 'GET root',
    method: 'GET',
    path: '/',
    status: 404,
    json: { error: 'not found' },
  },
];

describe('createApp rejections', () => {
  for (const row of REJECTIONS) {
    test(row.name, async (t) => {
      const harness = await serve(t, { app: row.app });

      const reply = await request(harness.url + (row.path ?? WEBHOOK_PATH), {
        method: row.method,
        body: row.body,
        headers: row.headers,
      });

      assert.equal(reply.status, row.status);
      assertJson(reply, row.json);
      for (const [name, value] of Object.entries(row.responseHeaders ?? {})) {
        assert.equal(reply.headers.get(name), value, `header ${name}`);
      }
      assert.equal(harness.provisioning.calls.length, 0);
    });
  }

  test('chunked body over maxBodyBytes', async (t) => {
    const harness = await serve(t);
    const { port } = new URL(harness.url);
    const headers = deliveryHeaders(LARGE_BODY);

    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: WEBHOOK_PATH, headers },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write(LARGE_BODY.subarray(0, 1000));
      outgoing.end(LARGE_BODY.subarray(1000));
    });

    assert.equal(reply.status, 413);
    assert.deepEqual(JSON.parse(reply.text), { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    assert.equal(harness.provisioning.calls.length, 0);
  });

  test('body at maxBodyBytes accepted', async (t) => {
    const harness = await serve(t);
    const event = JSON.parse(EU_BODY.toString('utf8'));
    const unpadded = Buffer.byteLength(JSON.stringify({ ...event, pad: '' }));
    const body = Buffer.from(JSON.stringify({ ...event, pad: 'p'.repeat(MAX_BODY_BYTES - unpadded) }));
    assert.equal(body.length, MAX_BODY_BYTES);

    const reply = await deliver(harness, body);

    assert.equal(reply.status, 202);
    assert.equal(harness.provisioning.calls.length, 1);
  });
});

describe('createApp deliveries', () => {
  test('user.created starts workflow', async (t) => {
    const harness = await serve(t);

    const reply = await deliver(harness, EU_BODY);

    assert.equal(reply.status, 202);
    assertJson(reply, { status: 'started', workflowId: EU_USER_ID, runId: 'run-0001' });
    assert.deepEqual(harness.provisioning.calls, [
      { userId: EU_USER_ID, region: { clientIp: EU_CLIENT_IP, requestedRegion: undefined }, seedSchema: true },
    ]);
  });

  test('chosen region passed on', async (t) => {
    const harness = await serve(t);

    const reply = await deliver(harness, readFixture('user-created-chosen-region.json'));

    assert.equal(reply.status, 202);
    assert.deepEqual(harness.provisioning.calls, [
      {
        userId: 'user_2pQfChExample2Vx6RmL4dSaK8',
        region: { clientIp: '8.8.8.8', requestedRegion: 'eu-west-1' },
        seedSchema: true,
      },
    ]);
  });

  test('no request info passed on', async (t) => {
    const harness = await serve(t);

    const reply = await deliver(harness, readFixture('user-created-no-request-info.json'));

    assert.equal(reply.status, 202);
    assert.deepEqual(harness.provisioning.calls, [
      {
        userId: 'user_2pQfNaExample5Tz1QwE8fGbJ0',
        region: { clientIp: undefined, requestedRegion: undefined },
        seedSchema: true,
      },
    ]);
  });

  test('seedSchema false passed on', async (t) => {
    const harness = await serve(t, { app: { seedSchema: false } });

    await deliver(harness, EU_BODY);

    assert.equal(harness.provisioning.calls.length, 1);
    assert.equal(harness.provisioning.calls[0]?.seedSchema, false);
  });

  const acceptedHeaders: Array<{ name: string; changes: Record<string, string | null> }> = [
    { name: 'content type text/plain', changes: { 'content-type': 'text/plain' } },
    { name: 'no content type', changes: { 'content-type': null } },
    { name: 'content type octet-stream', changes: { 'content-type': 'application/octet-stream' } },
    { name: 'content type form', changes: { 'content-type': 'application/x-www-form-urlencoded' } },
    { name: 'JSON with charset', changes: { 'content-type': 'application/json; charset=utf-8' } },
    { name: 'identity encoding', changes: { 'content-encoding': 'identity' } },
    {
      name: 'rotation: second header valid',
      changes: { 'x-hookdeck-signature': 'garbage', 'x-hookdeck-signature-2': signHookdeck(EU_BODY, SECRET) },
    },
    {
      name: 'rotation: second header garbage',
      changes: { 'x-hookdeck-signature-2': 'garbage' },
    },
    { name: 'no svix or event ids', changes: { 'svix-id': null, 'x-hookdeck-eventid': null } },
  ];
  for (const { name, changes } of acceptedHeaders) {
    test(`accepted: ${name}`, async (t) => {
      const harness = await serve(t);

      const reply = await deliver(harness, EU_BODY, changes);

      assert.equal(reply.status, 202);
      assertJson(reply, { status: 'started', workflowId: EU_USER_ID, runId: 'run-0001' });
      assert.equal(harness.provisioning.calls.length, 1);
    });
  }

  test('unverified accepted when not required', async (t) => {
    const harness = await serve(t, { app: { hookdeck: { signingSecret: SECRET, requireVerified: false } } });

    const reply = await deliver(harness, EU_BODY, { 'x-hookdeck-verified': null });

    assert.equal(reply.status, 202);
    assert.equal(harness.provisioning.calls.length, 1);
  });

  test('BOM-prefixed body accepted', async (t) => {
    const harness = await serve(t);
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), EU_BODY]);

    const reply = await deliver(harness, body);

    assert.equal(reply.status, 202);
    assert.equal(harness.provisioning.calls[0]?.userId, EU_USER_ID);
  });

  test('trailing slash path accepted', async (t) => {
    const harness = await serve(t);

    const reply = await request(`${harness.url}${WEBHOOK_PATH}/`, { body: EU_BODY, headers: deliveryHeaders(EU_BODY) });

    assert.equal(reply.status, 202);
    assert.equal(harness.provisioning.calls.length, 1);
  });

  test('duplicate returns 200', async (t) => {
    const harness = await serve(t);
    harness.provisioning.startResult = async (input) => ({ kind: 'duplicate', workflowId: input.userId });

    const reply = await deliver(harness, EU_BODY);

    assert.equal(reply.status, 200);
    assertJson(reply, { status: 'duplicate', workflowId: EU_USER_ID });
    assert.equal(harness.provisioning.calls.length, 1);
  });

  test('session.created ignored', async (t) => {
    const harness = await serve(t);

    const reply = await deliver(harness, readFixture('session-created.json'));

    assert.equal(reply.status, 200);
    assertJson(reply, { ignored: 'session.created' });
    assert.equal(harness.provisioning.calls.length, 0);
  });

  test('user.deleted requests deletion', async (t) => {
    const harness = await serve(t, { app: { deletionGracePeriodMs: 5000 } });

    const reply = await deliver(harness, readFixture('user-deleted.json'));

    assert.equal(reply.status, 202);
    assertJson(reply, { status: 'deletion-requested', workflowId: EU_USER_ID });
    assert.equal(harness.provisioning.calls.length, 0);
    assert.equal(harness.provisioning.deletions.length, 1);
    assert.equal(harness.provisioning.deletions[0]?.input.userId, EU_USER_ID);
    assert.deepEqual(harness.provisioning.deletions[0]?.request, { gracePeriodMs: 5000 });
  });

  test('user.deleted again is a duplicate', async (t) => {
    const harness = await serve(t);
    harness.provisioning.deletionResult = async (input) => ({ kind: 'duplicate', workflowId: input.userId });

    const reply = await deliver(harness, readFixture('user-deleted.json'));

    assert.equal(reply.status, 200);
    assertJson(reply, { status: 'duplicate', workflowId: EU_USER_ID });
  });

  test('user.deleted while Temporal is down gets 503', async (t) => {
    const harness = await serve(t);
    harness.provisioning.deletionResult = async () => {
      throw new TemporalUnavailableError('connection refused');
    };

    const reply = await deliver(harness, readFixture('user-deleted.json'));

    assert.equal(reply.status, 503);
    assert.equal(reply.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
  });

  test('Temporal unavailable returns 503', async (t) => {
    const harness = await serve(t);
    harness.provisioning.startResult = async () => {
      throw new TemporalUnavailableError('14 UNAVAILABLE: connect ECONNREFUSED');
    };

    const reply = await deliver(harness, EU_BODY);

    assert.equal(reply.status, 503);
    assert.equal(reply.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
    assertJson(reply, { error: 'Temporal is unavailable; retry later' });
    assert.equal(harness.provisioning.calls.length, 1);
  });

  test('unexpected error returns 500', async (t) => {
    const harness = await serve(t);
    harness.provisioning.startResult = async () => {
      throw new Error('boom: unexpected failure in the fake');
    };

    const reply = await deliver(harness, EU_BODY);

    assert.equal(reply.status, 500);
    assertJson(reply, { error: 'internal error' });
    assert.doesNotMatch(reply.text, /boom/);
    assert.doesNotMatch(reply.text, /\bat /);
    assert.equal(harness.provisioning.calls.length, 1);
  });

  test('synchronous throw returns 500', async (t) => {
    const harness = await serve(t);
    harness.provisioning.startResult = () => {
      throw new TypeError('thrown before any promise');
    };

    const reply = await deliver(harness, EU_BODY);

    assert.equal(reply.status, 500);
    assertJson(reply, { error: 'internal error' });
  });
});

describe('createApp health', () => {
  test('healthz ok', async (t) => {
    const harness = await serve(t);

    const reply = await request(`${harness.url}/healthz`, { method: 'GET' });

    assert.equal(reply.status, 200);
    assertJson(reply, { status: 'ok' });
  });

  test('readyz ready', async (t) => {
    const harness = await serve(t);

    const reply = await request(`${harness.url}/readyz`, { method: 'GET' });

    assert.equal(reply.status, 200);
    assertJson(reply, { status: 'ready' });
  });

  test('readyz unavailable', async (t) => {
    const harness = await serve(t);
    harness.provisioning.readyResult = async () => {
      throw new TemporalUnavailableError('deadline exceeded');
    };

    const reply = await request(`${harness.url}/readyz`, { method: 'GET' });

    assert.equal(reply.status, 503);
    assert.equal(reply.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
    assertJson(reply, { error: 'Temporal is unavailable; retry later' });
  });

  test('no x-powered-by header', async (t) => {
    const harness = await serve(t);

    const reply = await request(`${harness.url}/healthz`, { method: 'GET' });

    assert.equal(reply.headers.get('x-powered-by'), null);
  });
});

describe('createApp behind an outer JSON parser', () => {
  const wrap = (app: express.Express) => {
    const outer = express();
    outer.use(express.json());
    outer.use(app);
    return outer;
  };

  const nonJsonTypes: Array<{ name: string; contentType: string | null }> = [
    { name: 'text/plain', contentType: 'text/plain' },
    { name: 'no content type', contentType: null },
    { name: 'octet-stream', contentType: 'application/octet-stream' },
  ];
  for (const { name, contentType } of nonJsonTypes) {
    test(`${name} still verified`, async (t) => {
      const harness = await serve(t, { wrap });

      const reply = await deliver(harness, EU_BODY, { 'content-type': contentType });

      assert.equal(reply.status, 202);
      assert.equal(harness.provisioning.calls.length, 1);
    });
  }

  test('parser on another path leaves the route alone', async (t) => {
    const harness = await serve(t, {
      wrap: (app) => {
        const outer = express();
        outer.use('/api', express.json());
        outer.post('/api/echo', (req, res) => res.json(req.body));
        outer.use(app);
        return outer;
      },
    });

    const reply = await deliver(harness, EU_BODY, { 'content-type': 'application/json' });

    assert.equal(reply.status, 202);
    assert.equal(harness.provisioning.calls.length, 1);
  });

  // The outer parser consumes the stream and replaces req.body with an object, so the signed bytes are
  // gone and no signature can match. The app logs this as an error instead of reporting an invalid signature.
  const jsonTypes = ['application/json', 'application/json; charset=utf-8'];
  for (const contentType of jsonTypes) {
    test(`${contentType} fails as server error`, async (t) => {
      const capture = memoryLogger();
      const harness = await serve(t, { wrap, app: { logger: capture.logger } });

      const reply = await deliver(harness, EU_BODY, { 'content-type': contentType });

      assert.equal(reply.status, 500);
      assertJson(reply, { error: 'internal error' });
      assert.equal(harness.provisioning.calls.length, 0);
      const errors = capture
        .text()
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((line) => line.level >= 50);
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.msg ?? '', /body parser/);
    });
  }
});

describe('createApp logging', () => {
  test('no secret or personal data logged', async (t) => {
    const capture = memoryLogger();
    const harness = await serve(t, { app: { logger: capture.logger } });
    const signature = signHookdeck(EU_BODY, SECRET);

    const started = await deliver(harness, EU_BODY);
    const unsigned = await deliver(harness, EU_BODY, { 'x-hookdeck-signature': signHookdeck(EU_BODY, OTHER_SECRET) });
    const unverified = await deliver(harness, EU_BODY, { 'x-hookdeck-verified': null });
    const badId = await deliver(harness, BAD_ID_BODY);
    harness.provisioning.startResult = async () => {
      throw new Error('start failed');
    };
    const failed = await deliver(harness, EU_BODY);

    assert.equal(started.status, 202);
    assert.equal(unsigned.status, 401);
    assert.equal(unverified.status, 401);
    assert.equal(badId.status, 400);
    assert.equal(failed.status, 500);

    const text = capture.text();
    assert.match(text, new RegExp(EU_USER_ID), 'the log names the user id, so the capture works');
    assert.match(text, /Rejected webhook delivery/);
    assert.equal(text.includes(SECRET), false, 'signing secret');
    assert.equal(text.includes(signature), false, 'signature');
    assert.equal(text.includes(EU_EMAIL), false, 'email');
    assert.equal(text.includes(EU_CLIENT_IP), false, 'client IP');
    assert.equal(text.includes('"Ana"'), false, 'first name');
    assert.equal(text.includes('ExampleBrowser'), false, 'user agent');
  });

  test('delivery ids logged', async (t) => {
    const capture = memoryLogger();
    const harness = await serve(t, { app: { logger: capture.logger } });

    await deliver(harness, EU_BODY, { 'x-hookdeck-signature': 'garbage' });

    assert.match(capture.text(), /msg_test_0001/);
    assert.match(capture.text(), /evt_test_0001/);
  });
});
