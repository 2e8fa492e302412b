// The Svix route (Clerk calling the API directly), the metrics endpoint, and which routes each webhook
// source enables.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import pino from 'pino';

import { type AppOptions, createApp, SVIX_WEBHOOK_PATH, WEBHOOK_PATH } from '../../src/api/app';
import { WebhookMetrics } from '../../src/api/metrics';
import type { DeletionOutcome, ProvisioningService, StartOutcome } from '../../src/api/provisioning';
import { signHookdeck } from '../../src/api/signature';
import { decodeSvixSecret, signSvix } from '../../src/api/svix-signature';
import type { ProvisionInput } from '../../src/shared';

const CURRENT_KEY = decodeSvixSecret('whsec_' + Buffer.alloc(32, 1).toString('base64'));
const PREVIOUS_KEY = decodeSvixSecret('whsec_' + Buffer.alloc(32, 2).toString('base64'));
const UNKNOWN_KEY = decodeSvixSecret('whsec_' + Buffer.alloc(32, 3).toString('base64'));
const HOOKDECK_SECRET = 'api-svix-test-hookdeck-secret';
const EU_BODY = readFileSync(path.resolve(__dirname, '../../../shared/fixtures/clerk/user-created-eu.json'));
const EU_USER_ID = 'user_2pQfEuExample7Hk3LmN9xRtVw1';

class FakeProvisioning implements ProvisioningService {
  readonly calls: ProvisionInput[] = [];
  async start(input: ProvisionInput): Promise<StartOutcome> {
    this.calls.push(input);
    return { kind: 'started', workflowId: input.userId, runId: 'run-svix' };
  }
  async requestDeletion(input: ProvisionInput): Promise<DeletionOutcome> {
    return { kind: 'deletion-requested', workflowId: input.userId };
  }
  async checkReady(): Promise<void> {}
}

async function serve(t: TestContext, options: Partial<AppOptions>) {
  const provisioning = new FakeProvisioning();
  const metrics = new WebhookMetrics();
  const app = createApp({
    maxBodyBytes: 4096,
    seedSchema: true,
    logger: pino({ level: 'silent' }),
    provisioning,
    metrics,
    ...options,
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, provisioning, metrics };
}

function svixHeaders(body: Buffer, key: Buffer, timestamp = Math.floor(Date.now() / 1000)) {
  const id = 'msg_2pQfSvixExample000000001';
  return {
    'svix-id': id,
    'svix-timestamp': String(timestamp),
    'svix-signature': signSvix(key, id, String(timestamp), body),
  };
}

async function post(url: string, body: Buffer, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('svix route', () => {
  test('current secret starts provisioning', async (t) => {
    const { url, provisioning } = await serve(t, { svix: { keys: [CURRENT_KEY, PREVIOUS_KEY] } });
    const response = await post(url + SVIX_WEBHOOK_PATH, EU_BODY, svixHeaders(EU_BODY, CURRENT_KEY));

    assert.equal(response.status, 202);
    assert.deepEqual(response.body, { status: 'started', workflowId: EU_USER_ID, runId: 'run-svix' });
    assert.equal(provisioning.calls.length, 1);
  });

  test('previous secret still accepted', async (t) => {
    const { url, provisioning } = await serve(t, { svix: { keys: [CURRENT_KEY, PREVIOUS_KEY] } });
    const response = await post(url + SVIX_WEBHOOK_PATH, EU_BODY, svixHeaders(EU_BODY, PREVIOUS_KEY));

    assert.equal(response.status, 202);
    assert.equal(provisioning.calls.length, 1);
  });

  const nowSeconds = Math.floor(Date.now() / 1000);
  const rejections: { name: string; headers: Record<string, string>; error: string }[] = [
    { name: 'unknown secret', headers: svixHeaders(EU_BODY, UNKNOWN_KEY), error: 'invalid signature' },
    { name: 'no headers', headers: {}, error: 'missing signature' },
    {
      name: 'Hookdeck signature only',
      headers: { 'x-hookdeck-signature': signHookdeck(EU_BODY, 'x') },
      error: 'missing signature',
    },
    {
      name: 'timestamp an hour old',
      headers: svixHeaders(EU_BODY, CURRENT_KEY, nowSeconds - 3600),
      error: 'timestamp outside tolerance',
    },
    {
      name: 'timestamp in the future',
      headers: svixHeaders(EU_BODY, CURRENT_KEY, nowSeconds + 600),
      error: 'timestamp outside tolerance',
    },
    {
      name: 'timestamp in milliseconds',
      headers: { ...svixHeaders(EU_BODY, CURRENT_KEY), 'svix-timestamp': String(Date.now()) },
      error: 'timestamp outside tolerance',
    },
    {
      name: 'timestamp not a number',
      headers: { ...svixHeaders(EU_BODY, CURRENT_KEY), 'svix-timestamp': 'yesterday' },
      error: 'invalid timestamp',
    },
  ];
  for (const { name, headers, error } of rejections) {
    test(`${name} gets 401`, async (t) => {
      const { url, provisioning } = await serve(t, { svix: { keys: [CURRENT_KEY] } });
      const response = await post(url + SVIX_WEBHOOK_PATH, EU_BODY, headers);

      assert.equal(response.status, 401);
      assert.deepEqual(response.body, { error });
      assert.equal(provisioning.calls.length, 0);
    });
  }

  test('needs no x-hookdeck-verified', async (t) => {
    const { url } = await serve(t, { svix: { keys: [CURRENT_KEY] } });
    const response = await post(url + SVIX_WEBHOOK_PATH, EU_BODY, svixHeaders(EU_BODY, CURRENT_KEY));
    assert.equal(response.status, 202);
  });
});

describe('enabled routes', () => {
  test('svix only: Hookdeck path is 404', async (t) => {
    const { url, provisioning } = await serve(t, { svix: { keys: [CURRENT_KEY] } });
    const headers = { 'x-hookdeck-signature': signHookdeck(EU_BODY, HOOKDECK_SECRET), 'x-hookdeck-verified': 'true' };
    const response = await post(url + WEBHOOK_PATH, EU_BODY, headers);

    assert.equal(response.status, 404);
    assert.deepEqual(response.body, { error: 'not found' });
    assert.equal(provisioning.calls.length, 0);
  });

  test('hookdeck only: Svix path is 404', async (t) => {
    const { url, provisioning } = await serve(t, {
      hookdeck: { signingSecret: HOOKDECK_SECRET, requireVerified: true },
    });
    const response = await post(url + SVIX_WEBHOOK_PATH, EU_BODY, svixHeaders(EU_BODY, CURRENT_KEY));

    assert.equal(response.status, 404);
    assert.equal(provisioning.calls.length, 0);
  });

  test('GET on the Svix path is 405', async (t) => {
    const { url } = await serve(t, { svix: { keys: [CURRENT_KEY] } });
    const response = await fetch(url + SVIX_WEBHOOK_PATH);

    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  });
});

describe('metrics', () => {
  test('counts outcomes by status and reason', async (t) => {
    const { url, metrics } = await serve(t, { hookdeck: { signingSecret: HOOKDECK_SECRET, requireVerified: true } });
    const signed = { 'x-hookdeck-signature': signHookdeck(EU_BODY, HOOKDECK_SECRET), 'x-hookdeck-verified': 'true' };
    await post(url + WEBHOOK_PATH, EU_BODY, signed);
    await post(url + WEBHOOK_PATH, EU_BODY, {});
    await post(url + WEBHOOK_PATH, EU_BODY, {});

    assert.equal(metrics.count(202, 'started'), 1);
    assert.equal(metrics.count(401, 'unauthorized', 'missing signature'), 2);

    const text = await (await fetch(url + '/metrics')).text();
    assert.match(text, /^# TYPE per_user_db_webhook_responses_total counter$/m);
    assert.match(
      text,
      /^per_user_db_webhook_responses_total\{status="401",outcome="unauthorized",reason="missing signature"\} 2$/m,
    );
    assert.match(text, /^per_user_db_webhook_responses_total\{status="202",outcome="started",reason=""\} 1$/m);
  });
});
