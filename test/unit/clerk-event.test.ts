import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { InvalidEventError, parseClerkEvent, type ParsedEvent } from '../../src/api/clerk-event';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/clerk');

const INVALID_JSON = 'invalid JSON';
const NOT_AN_EVENT = 'not a Clerk event: expected an object with "type" and "data"';
const INVALID_USER_ID = 'invalid data.id: expected a Clerk user id such as user_2pQfEu...';

function readFixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

interface EventCopy {
  [key: string]: unknown;
  data: Record<string, unknown>;
  event_attributes: { http_request: Record<string, unknown> | null };
}

/** Reads a fresh, mutable copy of the user-created-eu.json envelope. */
function euEvent(): EventCopy {
  return JSON.parse(readFixture('user-created-eu.json').toString('utf8')) as EventCopy;
}

function withClientIp(event: EventCopy, clientIp: unknown): EventCopy {
  event.event_attributes.http_request = { ...event.event_attributes.http_request, client_ip: clientIp };
  return event;
}

function parseJson(value: unknown): ParsedEvent {
  return parseClerkEvent(Buffer.from(JSON.stringify(value)));
}

function assertRejected(body: Buffer, message: string): void {
  assert.throws(
    () => parseClerkEvent(body),
    (error: unknown) => {
      assert.ok(error instanceof InvalidEventError, `expected InvalidEventError, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

interface FixtureCase {
  kind: ParsedEvent['kind'];
  type?: string;
  userId?: string;
  clientIp?: string;
  requestedRegion?: string;
}

const FIXTURE_CASES: Record<string, FixtureCase> = {
  'session-created.json': { kind: 'other', type: 'session.created' },
  'user-created-chosen-region.json': {
    kind: 'user.created',
    userId: 'user_2pQfChExample2Vx6RmL4dSaK8',
    clientIp: '8.8.8.8',
    requestedRegion: 'eu-west-1',
  },
  'user-created-eu.json': { kind: 'user.created', userId: 'user_2pQfEuExample7Hk3LmN9xRtVw1', clientIp: '193.0.6.139' },
  'user-created-no-request-info.json': { kind: 'user.created', userId: 'user_2pQfNaExample5Tz1QwE8fGbJ0' },
  'user-created-oceania.json': {
    kind: 'user.created',
    userId: 'user_2pQfOcExample4Jd8PzQ2sYuB6',
    clientIp: '139.130.4.5',
  },
  'user-created-us.json': { kind: 'user.created', userId: 'user_2pQfUsExample9Wc5KbT7gHnM3', clientIp: '8.8.8.8' },
  'user-deleted.json': { kind: 'user.deleted', userId: 'user_2pQfEuExample7Hk3LmN9xRtVw1' },
};

describe('parseClerkEvent fixtures', () => {
  test('every fixture has a case', () => {
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    assert.deepEqual(files.sort(), Object.keys(FIXTURE_CASES).sort());
  });

  for (const [file, expected] of Object.entries(FIXTURE_CASES)) {
    test(file, () => {
      const event = parseClerkEvent(readFixture(file));

      assert.equal(event.kind, expected.kind);
      assert.equal('userId' in event ? event.userId : undefined, expected.userId);
      if (event.kind === 'user.created') {
        assert.equal(event.region.clientIp, expected.clientIp);
        assert.equal(event.region.requestedRegion, expected.requestedRegion);
      } else {
        assert.equal('type' in event ? event.type : undefined, expected.type);
        assert.equal('region' in event, false);
      }
    });
  }

  test('user.created result has no extra keys', () => {
    assert.deepEqual(parseClerkEvent(readFixture('user-created-eu.json')), {
      kind: 'user.created',
      userId: 'user_2pQfEuExample7Hk3LmN9xRtVw1',
      region: { clientIp: '193.0.6.139', requestedRegion: undefined },
    });
  });

  test('session.created result has no user id', () => {
    assert.deepEqual(parseClerkEvent(readFixture('session-created.json')), { kind: 'other', type: 'session.created' });
  });
});

describe('parseClerkEvent encoding', () => {
  test('BOM prefix', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFixture('user-created-eu.json')]);
    assert.deepEqual(parseClerkEvent(body), parseClerkEvent(readFixture('user-created-eu.json')));
  });

  test('pretty-printed JSON', () => {
    const body = Buffer.from(JSON.stringify(euEvent(), null, 2));
    assert.deepEqual(parseClerkEvent(body), parseClerkEvent(readFixture('user-created-eu.json')));
  });

  const invalidJson: Array<{ name: string; body: string }> = [
    { name: 'empty body', body: '' },
    { name: 'white space', body: ' \n ' },
    { name: 'open brace', body: '{' },
    { name: 'plain text', body: 'user.created' },
    { name: 'trailing comma', body: '{"type":"user.created","data":{},}' },
    { name: 'single quotes', body: "{'type':'user.created'}" },
    { name: 'two BOMs', body: '\ufeff\ufeff{"type":"x","data":{}}' },
  ];
  for (const { name, body } of invalidJson) {
    test(`invalid JSON: ${name}`, () => {
      assertRejected(Buffer.from(body), INVALID_JSON);
    });
  }

  test('invalid JSON: truncated fixture', () => {
    const body = readFixture('user-created-eu.json');
    assertRejected(body.subarray(0, body.length - 10), INVALID_JSON);
  });
});

describe('parseClerkEvent envelope', () => {
  const notEvents: Array<{ name: string; body: string }> = [
    { name: 'array', body: '[{"type":"user.created","data":{"id":"user_abc"}}]' },
    { name: 'string', body: '"user.created"' },
    { name: 'null', body: 'null' },
    { name: 'number', body: '42' },
    { name: 'boolean', body: 'true' },
    { name: 'empty object', body: '{}' },
    { name: 'missing type', body: '{"data":{"id":"user_abc"}}' },
    { name: 'numeric type', body: '{"type":1,"data":{"id":"user_abc"}}' },
    { name: 'null type', body: '{"type":null,"data":{"id":"user_abc"}}' },
    { name: 'missing data', body: '{"type":"user.created"}' },
    { name: 'null data', body: '{"type":"user.created","data":null}' },
    { name: 'string data', body: '{"type":"user.created","data":"user_abc"}' },
    { name: 'array data', body: '{"type":"user.created","data":[{"id":"user_abc"}]}' },
    { name: 'numeric data', body: '{"type":"user.created","data":7}' },
    { name: 'unknown type, string data', body: '{"type":"email.created","data":"x"}' },
  ];
  for (const { name, body } of notEvents) {
    test(`not an event: ${name}`, () => {
      assertRejected(Buffer.from(body), NOT_AN_EVENT);
    });
  }
});

describe('parseClerkEvent data.id', () => {
  const badIds: Array<{ name: string; id: unknown }> = [
    { name: 'missing', id: undefined },
    { name: 'null', id: null },
    { name: 'numeric', id: 12345 },
    { name: 'object', id: { id: 'user_abc' } },
    { name: 'empty', id: '' },
    { name: 'path traversal', id: '../x' },
    { name: 'prefixed traversal', id: 'user_../x' },
    { name: 'prefix only', id: 'user_' },
    { name: 'over-long (70 chars)', id: `user_${'a'.repeat(65)}` },
    { name: 'capitalized prefix', id: 'User_2pQfEuExample7Hk3LmN9xRtVw1' },
    { name: 'upper-case prefix', id: 'USER_2pQfEuExample7Hk3LmN9xRtVw1' },
    { name: 'other object prefix', id: 'sess_2pQfEuExample7Hk3LmN9xRtVw1' },
    { name: 'no prefix', id: '2pQfEuExample7Hk3LmN9xRtVw1' },
    { name: 'inner space', id: 'user_2pQf Eu' },
    { name: 'trailing newline', id: 'user_2pQfEuExample7Hk3LmN9xRtVw1\n' },
    { name: 'non-ASCII letter', id: 'user_2pQfÉu' },
    { name: 'hyphen', id: 'user_2pQf-Eu' },
  ];

  for (const { name, id } of badIds) {
    test(`user.created rejects ${name}`, () => {
      const event = euEvent();
      if (id === undefined) delete event.data.id;
      else event.data.id = id;
      assertRejected(Buffer.from(JSON.stringify(event)), INVALID_USER_ID);
    });
  }

  test('user.deleted rejects bad id', () => {
    const body = { type: 'user.deleted', data: { id: '../x', deleted: true, object: 'user' } };
    assertRejected(Buffer.from(JSON.stringify(body)), INVALID_USER_ID);
  });

  const goodIds = ['user_a', `user_${'Z'.repeat(64)}`, 'user_2pQfEuExample7Hk3LmN9xRtVw1'];
  for (const id of goodIds) {
    test(`user.created accepts ${id.length}-char id`, () => {
      const event = euEvent();
      event.data.id = id;
      const parsed = parseJson(event);
      assert.equal('userId' in parsed ? parsed.userId : undefined, id);
    });
  }
});

describe('parseClerkEvent fields', () => {
  test('unknown type is other', () => {
    assert.deepEqual(parseJson({ type: 'organization.created', data: { id: 'org_123' } }), {
      kind: 'other',
      type: 'organization.created',
    });
  });

  test('unknown type ignores data.id', () => {
    assert.deepEqual(parseJson({ type: 'email.created', data: { id: 12 } }), { kind: 'other', type: 'email.created' });
  });

  test('type match is exact', () => {
    const event = euEvent();
    event.type = 'User.Created';
    assert.deepEqual(parseJson(event), { kind: 'other', type: 'User.Created' });
  });

  test('extra unknown fields ignored', () => {
    const event = euEvent();
    event.new_top_level_field = { nested: [1, 2, 3] };
    event.data.new_data_field = 'value';
    event.event_attributes.http_request = { ...event.event_attributes.http_request, new_request_field: true };
    assert.deepEqual(parseJson(event), parseClerkEvent(readFixture('user-created-eu.json')));
  });

  test('missing object field accepted', () => {
    const event = euEvent();
    delete event.object;
    assert.equal(parseJson(event).kind, 'user.created');
  });

  const timestamps: Array<{ name: string; value: unknown }> = [
    { name: 'milliseconds', value: 1767225600456 },
    { name: 'seconds', value: 1767225600 },
    { name: 'missing', value: undefined },
  ];
  for (const { name, value } of timestamps) {
    test(`timestamp ${name}`, () => {
      const event = euEvent();
      event.timestamp = value;
      const parsed = parseJson(event);
      assert.equal(parsed.kind, 'user.created');
      assert.equal(parsed.userId, 'user_2pQfEuExample7Hk3LmN9xRtVw1');
    });
  }

  test('non-string client_ip ignored', () => {
    const parsed = parseJson(withClientIp(euEvent(), 193));
    assert.equal(parsed.kind, 'user.created');
    assert.equal(parsed.kind === 'user.created' ? parsed.region.clientIp : 'wrong kind', undefined);
  });

  test('null http_request ignored', () => {
    const event = euEvent();
    event.event_attributes.http_request = null;
    const parsed = parseJson(event);
    assert.equal(parsed.kind === 'user.created' ? parsed.region.clientIp : 'wrong kind', undefined);
  });

  test('IPv6 client_ip passed through', () => {
    const parsed = parseJson(withClientIp(euEvent(), '::ffff:193.0.6.139'));
    assert.equal(parsed.kind === 'user.created' ? parsed.region.clientIp : 'wrong kind', '::ffff:193.0.6.139');
  });

  test('non-string dataRegion ignored', () => {
    const event = euEvent();
    event.data.public_metadata = { dataRegion: 1 };
    const parsed = parseJson(event);
    assert.equal(parsed.kind === 'user.created' ? parsed.region.requestedRegion : 'wrong kind', undefined);
  });

  test('null public_metadata ignored', () => {
    const event = euEvent();
    event.data.public_metadata = null;
    const parsed = parseJson(event);
    assert.equal(parsed.kind === 'user.created' ? parsed.region.requestedRegion : 'wrong kind', undefined);
  });

  test('dataRegion in unsafe_metadata ignored', () => {
    const event = euEvent();
    event.data.unsafe_metadata = { dataRegion: 'eu-west-1' };
    const parsed = parseJson(event);
    assert.equal(parsed.kind === 'user.created' ? parsed.region.requestedRegion : 'wrong kind', undefined);
  });
});
