// An open-loop load generator on node:http: each request is sent at its scheduled time whether or not earlier
// ones have had a response, so a slow server shows up as latency instead of as a lower request rate.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { signHookdeck } from '../../src/api/signature';

export const SIGNING_SECRET = 'bench-signing-secret';
export const WEBHOOK_PATH = '/webhooks/clerk';
export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/fixtures/clerk');

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Returns a random Clerk-style user id: `user_` and 27 base62 characters. */
export function randomUserId(): string {
  const bytes = randomBytes(27);
  let id = 'user_';
  // 62 * 4 = 248, so bytes of 248 or more would bias the first characters; the small bias is harmless here.
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

/** One signed delivery, ready to send. */
export interface Delivery {
  userId: string;
  body: Buffer;
  signature: string;
}

/** Builds `user.created` deliveries from the EU fixture, each with a new user id, signed as Hookdeck signs them. */
export function buildDeliveries(count: number, fixture = 'user-created-eu.json'): Delivery[] {
  const template = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, fixture), 'utf8')) as {
    data: { id: string };
  };
  const deliveries: Delivery[] = [];
  for (let index = 0; index < count; index++) {
    template.data.id = randomUserId();
    const body = Buffer.from(JSON.stringify(template));
    deliveries.push({ userId: template.data.id, body, signature: signHookdeck(body, SIGNING_SECRET) });
  }
  return deliveries;
}

/** The outcome of one request. Times are milliseconds on the performance.now() clock unless named epoch. */
export interface Sample {
  index: number;
  delivery: Delivery;
  /** When the request was due; latency counts from here, so queueing in the generator counts too. */
  scheduledAt: number;
  /** Wall-clock time of `scheduledAt`, for comparison with Temporal's timestamps. */
  scheduledEpochMs: number;
  finishedAt: number;
  latencyMs: number;
  /** HTTP status, or 0 when the request failed without a response. */
  status: number;
  error?: string;
}

/** Creates a keep-alive agent with enough sockets that the pool does not throttle the open loop. */
export function createAgent(maxSockets = 1024): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export interface SendOptions {
  baseUrl: string;
  agent: http.Agent;
  /** Requests still unanswered after this many ms are aborted and recorded as errors. */
  timeoutMs?: number;
}

/** Sends one delivery and resolves with its status, or with status 0 and the error; it never rejects. */
export function send(
  delivery: Delivery,
  options: SendOptions,
  scheduledAt = performance.now(),
  index = 0,
): Promise<Sample> {
  const url = new URL(WEBHOOK_PATH, options.baseUrl);
  const scheduledEpochMs = performance.timeOrigin + scheduledAt;

  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number, error?: string) => {
      if (settled) return;
      settled = true;
      const finishedAt = performance.now();
      resolve({
        index,
        delivery,
        scheduledAt,
        scheduledEpochMs,
        finishedAt,
        latencyMs: finishedAt - scheduledAt,
        status,
        error,
      });
    };

    const request = http.request(
      {
        agent: options.agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': delivery.body.length,
          'x-hookdeck-signature': delivery.signature,
          'x-hookdeck-verified': 'true',
        },
      },
      (response) => {
        response.on('error', (error) => finish(0, error.message));
        response.on('end', () => finish(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.setTimeout(options.timeoutMs ?? 30_000, () => request.destroy(new Error('request timed out')));
    request.on('error', (error) => finish(0, error.message));
    request.end(delivery.body);
  });
}

export interface OpenLoopOptions extends SendOptions {
  /** Requests per second. */
  rate: number;
  deliveries: Delivery[];
}

export interface LoadResult {
  samples: Sample[];
  /** Seconds from the first scheduled send to the last response. */
  elapsedS: number;
  /** Largest delay between a request's due time and its send, in ms; large values mean the generator lagged. */
  maxSendLagMs: number;
}

/** Sends every delivery at `rate` per second, starting now, and resolves when all have an outcome. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const { deliveries, rate } = options;
  const intervalMs = 1000 / rate;
  const start = performance.now();
  const pending: Promise<Sample>[] = [];
  let maxSendLagMs = 0;
  let next = 0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < deliveries.length && start + next * intervalMs <= now) {
        const due = start + next * intervalMs;
        maxSendLagMs = Math.max(maxSendLagMs, now - due);
        pending.push(send(deliveries[next] as Delivery, options, due, next));
        next++;
      }
      if (next < deliveries.length) setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });

  const samples = await Promise.all(pending);
  const end = Math.max(...samples.map((sample) => sample.finishedAt));
  return { samples, elapsedS: (end - start) / 1000, maxSendLagMs };
}

/** Nearest-rank percentile of an ascending array; NaN for an empty one. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}

/** Counts samples by status, with `error` for requests that got no response. */
export function countStatuses(samples: Sample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    const key = sample.status === 0 ? 'error' : String(sample.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export const isSuccess = (sample: Sample) => sample.status >= 200 && sample.status < 300;
