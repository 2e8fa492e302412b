// The ip-api client against a fake ip-api server on 127.0.0.1 that this file starts. No test contacts
// ip-api.com.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import {
  createIpApiCountryLookup,
  createRegionResolver,
  DEFAULT_REGION_POLICY,
  IP_API_FREE_BASE_URL,
  IP_API_PRO_BASE_URL,
  IP_API_RATE_LIMITED,
  IpApiError,
  type IpApiOptions,
} from '../../src/activities/region';

const KEY = 'test-ip-api-key';

interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never respond, so that the client times out. */
  hang?: boolean;
}

// Responses by the address in the path, following ip-api's documented JSON contract.
const RESPONSES: Record<string, FakeResponse> = {
  '193.0.6.139': { body: '{"status":"success","countryCode":"NL","continentCode":"EU"}' },
  '139.130.4.5': { body: '{"status":"success","countryCode":"AU"}' },
  '2001:ee0::1': { body: '{"status":"success","countryCode":"VN","continentCode":"AS"}' },
  '10.0.0.1': { body: '{"status":"fail","message":"private range"}' },
  '3000::1': { body: '{"status":"success","countryCode":""}' },
  '5.5.5.5': { body: '{"status":"success","countryCode":"nl"}' },
  '6.6.6.6': { body: '{"status":"pending"}' },
  '7.7.7.7': { body: '["NL"]' },
  '8.8.8.8': { status: 429, headers: { 'x-ttl': '17', 'x-rl': '0' }, body: '' },
  '8.8.4.4': { status: 429, body: '' },
  '4.4.4.4': { headers: { 'x-rl': '0', 'x-ttl': '30' }, body: '{"status":"success","countryCode":"US"}' },
  '9.9.9.9': { body: '<html>Bad gateway</html>' },
  '1.0.0.1': { status: 503, body: '{"status":"fail","message":"maintenance"}' },
  '1.1.1.1': { hang: true },
};

interface SeenRequest {
  method: string | undefined;
  path: string;
  query: URLSearchParams;
}

let server: http.Server;
let baseUrl: string;
const seen: SeenRequest[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push({ method: req.method, path: url.pathname, query: url.searchParams });
    const address = decodeURIComponent(url.pathname.replace(/^\/json\//, ''));
    const response = RESPONSES[address];
    if (response === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (response.hang) return;
    res.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
    res.end(response.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

function lookupWith(options: IpApiOptions = {}) {
  return createIpApiCountryLookup({ baseUrl, timeoutMs: 1000, ...options });
}

/** Runs `promise`, expects an IpApiError, and returns its message. */
async function ipApiError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof IpApiError, `expected IpApiError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the lookup to fail');
}

/** Runs `promise`, expects a retryable ApplicationFailure, and returns it. */
async function rateLimitFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the lookup to fail');
}

describe('ip-api endpoints', () => {
  test('free endpoint is HTTP', () => {
    assert.equal(IP_API_FREE_BASE_URL, 'http://ip-api.com');
  });

  test('pro endpoint is HTTPS', () => {
    assert.equal(IP_API_PRO_BASE_URL, 'https://pro.ip-api.com');
  });

  test('name is ip-api', () => {
    assert.equal(lookupWith().name, 'ip-api');
  });
});

describe('ip-api lookup', () => {
  test('success with continent', async () => {
    assert.deepEqual(await lookupWith().lookup('193.0.6.139'), { country: 'NL', continent: 'EU' });
  });

  test('success without continent', async () => {
    assert.deepEqual(await lookupWith().lookup('139.130.4.5'), { country: 'AU' });
  });

  test('IPv6 success', async () => {
    assert.deepEqual(await lookupWith().lookup('2001:ee0::1'), { country: 'VN', continent: 'AS' });
  });

  test('request fields', async () => {
    await lookupWith().lookup('193.0.6.139');

    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.method, 'GET');
    assert.equal(seen[0]?.path, '/json/193.0.6.139');
    assert.equal(seen[0]?.query.get('fields'), 'status,message,countryCode,continentCode');
    assert.equal(seen[0]?.query.has('key'), false);
  });

  test('key sent as query', async () => {
    await lookupWith({ key: KEY }).lookup('193.0.6.139');

    assert.equal(seen[0]?.query.get('key'), KEY);
    assert.equal(seen[0]?.query.get('fields'), 'status,message,countryCode,continentCode');
  });

  test('base URL trailing slash', async () => {
    await lookupWith({ baseUrl: `${baseUrl}/` }).lookup('193.0.6.139');

    assert.equal(seen[0]?.path, '/json/193.0.6.139');
  });

  test('empty countryCode is no record', async () => {
    assert.equal(await lookupWith().lookup('3000::1'), undefined);
  });

  test('fail with message', async () => {
    const message = await ipApiError(lookupWith().lookup('10.0.0.1'));

    assert.match(message, /could not look up the address: "private range"/);
  });

  test('malformed JSON', async () => {
    const message = await ipApiError(lookupWith().lookup('9.9.9.9'));

    assert.match(message, /not JSON/);
  });

  test('JSON array', async () => {
    assert.match(await ipApiError(lookupWith().lookup('7.7.7.7')), /not an object/);
  });

  test('unknown status', async () => {
    assert.match(await ipApiError(lookupWith().lookup('6.6.6.6')), /without status "success" or "fail"/);
  });

  test('lower-case countryCode', async () => {
    assert.match(await ipApiError(lookupWith().lookup('5.5.5.5')), /countryCode that is not/);
  });

  test('HTTP 503', async () => {
    assert.match(await ipApiError(lookupWith().lookup('1.0.0.1')), /HTTP 503/);
  });

  test('HTTP 404', async () => {
    assert.match(await ipApiError(lookupWith().lookup('2.2.2.2')), /HTTP 404/);
  });

  test('timeout', async () => {
    const started = Date.now();
    const message = await ipApiError(lookupWith({ timeoutMs: 200 }).lookup('1.1.1.1'));

    assert.match(message, /timed out after 200 ms/);
    assert.ok(Date.now() - started < 5000, 'the timeout should end the request well before 5 s');
  });

  test('connection refused', async () => {
    // A port that was just free, on loopback, so nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const message = await ipApiError(lookupWith({ baseUrl: `http://127.0.0.1:${port}` }).lookup('193.0.6.139'));

    assert.match(message, /request failed/);
  });

  test('address not normalized', async () => {
    const message = await ipApiError(lookupWith().lookup('../admin'));

    assert.match(message, /not a normalized IP address/);
    assert.equal(seen.length, 0);
  });

  test('errors omit address and key', async () => {
    const cases = ['10.0.0.1', '9.9.9.9', '1.0.0.1', '5.5.5.5', '1.1.1.1'];
    for (const address of cases) {
      const message = await ipApiError(lookupWith({ key: KEY, timeoutMs: 200 }).lookup(address));
      assert.ok(!message.includes(address), `${message} contains the address`);
      assert.ok(!message.includes(KEY), `${message} contains the key`);
    }
  });
});

describe('ip-api rate limit', () => {
  test('429 is retryable', async () => {
    const failure = await rateLimitFailure(lookupWith().lookup('8.8.8.8'));

    assert.equal(failure.type, IP_API_RATE_LIMITED);
    assert.equal(failure.nonRetryable, false);
  });

  test('429 waits X-Ttl seconds', async () => {
    const failure = await rateLimitFailure(lookupWith({ now: () => 50_000 }).lookup('8.8.8.8'));

    assert.equal(failure.nextRetryDelay, 17_000);
  });

  test('429 without X-Ttl waits a minute', async () => {
    const failure = await rateLimitFailure(lookupWith({ now: () => 50_000 }).lookup('8.8.4.4'));

    assert.equal(failure.nextRetryDelay, 60_000);
  });

  test('no request while paused', async () => {
    let now = 100_000;
    const lookup = lookupWith({ now: () => now });
    await rateLimitFailure(lookup.lookup('8.8.8.8'));
    assert.equal(seen.length, 1);

    now += 10_000;
    const failure = await rateLimitFailure(lookup.lookup('193.0.6.139'));
    assert.equal(failure.nextRetryDelay, 7_000);
    assert.equal(seen.length, 1);

    now += 7_000;
    assert.deepEqual(await lookup.lookup('193.0.6.139'), { country: 'NL', continent: 'EU' });
    assert.equal(seen.length, 2);
  });

  test('X-Rl 0 pauses next request', async () => {
    let now = 200_000;
    const lookup = lookupWith({ now: () => now });

    assert.deepEqual(await lookup.lookup('4.4.4.4'), { country: 'US' });
    const failure = await rateLimitFailure(lookup.lookup('193.0.6.139'));
    assert.equal(failure.nextRetryDelay, 30_000);
    assert.equal(seen.length, 1);

    now += 30_000;
    assert.deepEqual(await lookup.lookup('193.0.6.139'), { country: 'NL', continent: 'EU' });
  });
});

describe('region resolver with ip-api', () => {
  test('country decides region', async () => {
    const resolver = createRegionResolver({ lookup: lookupWith(), policy: DEFAULT_REGION_POLICY });

    const decision = await resolver.resolve({ clientIp: '::ffff:193.0.6.139' });

    assert.ok(!('undecided' in decision));
    assert.equal(decision.region, 'eu-west-1');
    assert.equal(decision.source, 'ip-country');
    assert.equal(decision.reason, 'country-NL');
    assert.equal(decision.databaseBuildDate, undefined);
  });

  test('failure gives lookup-failed', async () => {
    const errors: unknown[] = [];
    const resolver = createRegionResolver({
      lookup: lookupWith(),
      policy: DEFAULT_REGION_POLICY,
      onLookupError: (error) => errors.push(error),
    });

    const decision = await resolver.resolve({ clientIp: '1.0.0.1' });

    assert.ok(!('undecided' in decision));
    assert.equal(decision.region, 'us-east-1');
    assert.equal(decision.source, 'default');
    assert.equal(decision.reason, 'lookup-failed');
    assert.equal(errors.length, 1);
  });

  test('failure held under hold', async () => {
    const resolver = createRegionResolver({
      lookup: lookupWith({ timeoutMs: 200 }),
      policy: { ...DEFAULT_REGION_POLICY, fallback: 'hold' },
    });

    const resolution = await resolver.resolve({ clientIp: '1.1.1.1' });

    assert.ok('undecided' in resolution);
    assert.equal(resolution.reason, 'lookup-failed');
  });

  test('429 fails the attempt', async () => {
    const resolver = createRegionResolver({ lookup: lookupWith(), policy: DEFAULT_REGION_POLICY });

    const failure = await rateLimitFailure(resolver.resolve({ clientIp: '8.8.8.8' }));

    assert.equal(failure.type, IP_API_RATE_LIMITED);
  });

  test('private IP never sent', async () => {
    const resolver = createRegionResolver({ lookup: lookupWith(), policy: DEFAULT_REGION_POLICY });

    await resolver.resolve({ clientIp: '10.0.0.1' });

    assert.equal(seen.length, 0);
  });
});
