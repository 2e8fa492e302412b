// Forged, malformed and misrouted deliveries against the real system: each gets its exact status and body,
// and none starts a workflow or creates a database. Then 50 identical deliveries at once provision once.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { WorkflowNotFoundError } from '@temporalio/client';

import { signHookdeck } from '../../src/api/signature';
import {
  listFiles,
  readFixture,
  type RunningSystem,
  SIGNING_SECRET,
  startSystem,
  waitForReady,
} from '../helpers/system';

const EU_BODY = readFixture('user-created-eu.json');
const EU_USER = 'user_2pQfEuExample7Hk3LmN9xRtVw1';
const INVALID_ID = { error: 'invalid data.id: expected a Clerk user id such as user_2pQfEu...' };
const NOT_AN_EVENT = { error: 'not a Clerk event: expected an object with "type" and "data"' };

let system: RunningSystem;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

/** The EU fixture with `data.id` replaced, re-serialised. */
function withUserId(id: unknown): Buffer {
  const event = JSON.parse(EU_BODY.toString('utf8')) as { data: Record<string, unknown> };
  event.data.id = id;
  return Buffer.from(JSON.stringify(event));
}

interface HostileCase {
  name: string;
  method?: string;
  path?: string;
  body?: Buffer;
  /** Headers sent instead of a valid signature; unset means the body is signed correctly and marked verified. */
  headers?: Record<string, string>;
  status: number;
  response: unknown;
}

const signed = (body: Buffer) => ({
  'x-hookdeck-signature': signHookdeck(body, SIGNING_SECRET),
  'x-hookdeck-verified': 'true',
});

const cases: HostileCase[] = [
  {
    name: 'no signature',
    headers: { 'x-hookdeck-verified': 'true' },
    status: 401,
    response: { error: 'missing signature' },
  },
  {
    name: 'empty signature',
    headers: { 'x-hookdeck-signature': '', 'x-hookdeck-verified': 'true' },
    status: 401,
    response: { error: 'missing signature' },
  },
  {
    name: 'wrong secret',
    headers: { 'x-hookdeck-signature': signHookdeck(EU_BODY, 'not-the-secret'), 'x-hookdeck-verified': 'true' },
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'signature of another body',
    headers: signed(withUserId('user_2pQfOtherExample000000001')),
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'truncated signature',
    headers: {
      'x-hookdeck-signature': signHookdeck(EU_BODY, SIGNING_SECRET).slice(0, 20),
      'x-hookdeck-verified': 'true',
    },
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'hex instead of base64',
    headers: {
      'x-hookdeck-signature': Buffer.from(signHookdeck(EU_BODY, SIGNING_SECRET), 'base64').toString('hex'),
      'x-hookdeck-verified': 'true',
    },
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'Svix headers only',
    headers: { 'svix-id': 'msg_1', 'svix-timestamp': '1700000000', 'svix-signature': 'v1,AAAA' },
    status: 401,
    response: { error: 'missing signature' },
  },
  {
    name: 'byte appended after signing',
    body: Buffer.concat([EU_BODY, Buffer.from(' ')]),
    headers: signed(EU_BODY),
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'BOM added after signing',
    body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), EU_BODY]),
    headers: signed(EU_BODY),
    status: 401,
    response: { error: 'invalid signature' },
  },
  {
    name: 'verified header missing',
    headers: { 'x-hookdeck-signature': signHookdeck(EU_BODY, SIGNING_SECRET) },
    status: 401,
    response: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'verified header false',
    headers: { ...signed(EU_BODY), 'x-hookdeck-verified': 'false' },
    status: 401,
    response: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'verified header in capitals',
    headers: { ...signed(EU_BODY), 'x-hookdeck-verified': 'TRUE' },
    status: 401,
    response: { error: 'source not verified by Hookdeck' },
  },
  {
    name: 'invalid JSON',
    body: Buffer.from('{"type":"user.created",'),
    status: 400,
    response: { error: 'invalid JSON' },
  },
  { name: 'empty body', body: Buffer.alloc(0), status: 400, response: { error: 'invalid JSON' } },
  { name: 'JSON array', body: Buffer.from('[{"type":"user.created"}]'), status: 400, response: NOT_AN_EVENT },
  { name: 'JSON string', body: Buffer.from('"user.created"'), status: 400, response: NOT_AN_EVENT },
  { name: 'JSON null', body: Buffer.from('null'), status: 400, response: NOT_AN_EVENT },
  {
    name: 'type missing',
    body: Buffer.from('{"data":{"id":"user_2pQfEuExample7Hk3LmN9xRtVw1"}}'),
    status: 400,
    response: NOT_AN_EVENT,
  },
  { name: 'data missing', body: Buffer.from('{"type":"user.created"}'), status: 400, response: NOT_AN_EVENT },
  {
    name: 'data a string',
    body: Buffer.from('{"type":"user.created","data":"user_2pQfEuExample7Hk3LmN9xRtVw1"}'),
    status: 400,
    response: NOT_AN_EVENT,
  },
  { name: 'id missing', body: withUserId(undefined), status: 400, response: INVALID_ID },
  { name: 'id a number', body: withUserId(42), status: 400, response: INVALID_ID },
  { name: 'id a path', body: withUserId('../../etc/passwd'), status: 400, response: INVALID_ID },
  { name: 'id prefix only', body: withUserId('user_'), status: 400, response: INVALID_ID },
  { name: 'id with a slash', body: withUserId('user_abc/../def'), status: 400, response: INVALID_ID },
  { name: 'id too long', body: withUserId(`user_${'a'.repeat(80)}`), status: 400, response: INVALID_ID },
  { name: 'id with unicode', body: withUserId('user_ab\u00e9c'), status: 400, response: INVALID_ID },
  { name: 'id in capitals', body: withUserId('USER_2pQfEuExample7Hk3LmN9xRtVw1'), status: 400, response: INVALID_ID },
  { name: 'id with NUL', body: withUserId('user_abc\u0000def'), status: 400, response: INVALID_ID },
  { name: 'id with SQL', body: withUserId("user_x'; DROP TABLE documents;--"), status: 400, response: INVALID_ID },
  {
    name: 'body over the limit',
    body: Buffer.alloc(1024 * 1024 + 1, 0x20),
    status: 413,
    response: { error: 'body larger than 1048576 bytes' },
  },
  {
    name: 'gzip encoding',
    body: gzipSync(EU_BODY),
    headers: { ...signed(gzipSync(EU_BODY)), 'content-encoding': 'gzip' },
    status: 415,
    response: { error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' },
  },
  { name: 'GET', method: 'GET', status: 405, response: { error: 'method not allowed' } },
  { name: 'PUT', method: 'PUT', status: 405, response: { error: 'method not allowed' } },
  { name: 'unknown path', path: '/webhooks/clerk-users', status: 404, response: { error: 'not found' } },
  {
    name: 'type with a space',
    body: Buffer.from(EU_BODY.toString('utf8').replace('"user.created"', '"user.created "')),
    status: 200,
    response: { ignored: 'user.created ' },
  },
];

describe('hostile deliveries', () => {
  for (const hostile of cases) {
    test(hostile.name, async () => {
      const method = hostile.method ?? 'POST';
      const body = method === 'GET' ? undefined : (hostile.body ?? EU_BODY);
      const headers = hostile.headers ?? (body ? signed(body) : {});
      const response = await fetch(`${system.baseUrl}${hostile.path ?? '/webhooks/clerk'}`, { method, body, headers });

      assert.equal(response.status, hostile.status);
      assert.deepEqual(await response.json(), hostile.response);
      assert.deepEqual(listFiles(path.join(system.dataDir, 'databases')), []);
      await assert.rejects(system.env.client.workflow.getHandle(EU_USER).describe(), WorkflowNotFoundError);
    });
  }

  test('no workflow was started at all', async () => {
    const workflows = [];
    for await (const workflow of system.env.client.workflow.list()) workflows.push(workflow.workflowId);
    assert.deepEqual(workflows, []);
  });
});

describe('concurrent identical deliveries', () => {
  test('50 at once provision once', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => system.deliver(EU_BODY)));
    const statuses = responses.map((response) => response.status);

    assert.equal(statuses.filter((status) => status === 202).length, 1, `statuses: ${statuses.join(', ')}`);
    assert.equal(statuses.filter((status) => status === 200).length, 49, `statuses: ${statuses.join(', ')}`);

    await waitForReady(system.env.client, EU_USER);
    assert.deepEqual(listFiles(path.join(system.dataDir, 'databases')), [`eu-west-1/${EU_USER}.sqlite`]);
  });
});
