// Country lookups from the ip-api.com JSON API, an online alternative to the MMDB file.
import { ApplicationFailure } from '@temporalio/common';

import type { AsyncCountryLookup, CountryMatch } from './country-lookup';

/** The free endpoint, which serves HTTP only and is for non-commercial use (ip-api.com/docs). */
export const IP_API_FREE_BASE_URL = 'http://ip-api.com';
/** The paid endpoint, which serves HTTPS and requires a key. */
export const IP_API_PRO_BASE_URL = 'https://pro.ip-api.com';

/** Error type of the retryable failure thrown while ip-api rate-limits this process. */
export const IP_API_RATE_LIMITED = 'IpApiRateLimited';

export const DEFAULT_IP_API_TIMEOUT_MS = 3000;

const FIELDS = 'status,message,countryCode,continentCode';
const CODE_PATTERN = /^[A-Z]{2}$/;
// Normalized addresses contain only these characters, so they are safe in a URL path as they are.
const ADDRESS_PATTERN = /^[0-9a-f:.]+$/;
// ip-api's rate limit window is one minute, so a 429 without X-Ttl waits for a whole window.
const DEFAULT_RETRY_SECONDS = 60;

export interface IpApiOptions {
  /** Key for the pro endpoint. It is sent as a query parameter and never appears in errors. */
  key?: string;
  /** Overrides the endpoint, for a self-hosted mirror or a test server; defaults by whether a key is set. */
  baseUrl?: string;
  /** Deadline for the whole request, body included, in milliseconds. */
  timeoutMs?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

/** A failed ip-api lookup. Messages never contain the looked-up address or the key. */
export class IpApiError extends Error {
  override name = 'IpApiError';
}

/**
 * Creates a lookup that requests each address's country from ip-api. A 429 response, or an `X-Rl: 0` header on an
 * earlier response, makes lookups throw a retryable ApplicationFailure until the `X-Ttl` seconds have
 * passed, because ip-api bans clients that keep sending requests while rate-limited.
 */
export function createIpApiCountryLookup(options: IpApiOptions = {}): AsyncCountryLookup {
  const baseUrl = (options.baseUrl ?? (options.key ? IP_API_PRO_BASE_URL : IP_API_FREE_BASE_URL)).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_IP_API_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  let pausedUntil = 0;

  const pause = (seconds: number) => {
    pausedUntil = Math.max(pausedUntil, now() + seconds * 1000);
  };

  return {
    name: 'ip-api',
    async lookup(address: string): Promise<CountryMatch | undefined> {
      if (!ADDRESS_PATTERN.test(address)) {
        throw new IpApiError('ip-api lookup rejected: the address is not a normalized IP address');
      }
      const waitMs = pausedUntil - now();
      if (waitMs > 0) {
        throw rateLimited(waitMs);
      }

      const url = new URL(`${baseUrl}/json/${address}`);
      url.searchParams.set('fields', FIELDS);
      if (options.key) {
        url.searchParams.set('key', options.key);
      }

      const response = await send(url, timeoutMs);
      const ttl = readSeconds(response.headers.get('x-ttl'));
      if (response.status === 429) {
        pause(ttl ?? DEFAULT_RETRY_SECONDS);
        throw rateLimited(pausedUntil - now());
      }
      if (response.headers.get('x-rl') === '0' && ttl !== undefined) {
        pause(ttl);
      }
      if (!response.ok) {
        throw new IpApiError(`ip-api responded with HTTP ${response.status}`);
      }
      return readResult(await readJson(response, timeoutMs));
    },
  };
}

async function send(url: URL, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw requestError(error, timeoutMs);
  }
}

async function readJson(response: Response, timeoutMs: number): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw requestError(error, timeoutMs);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new IpApiError(
      `ip-api returned a body that is not JSON (HTTP ${response.status}, ${text.length} characters)`,
    );
  }
}

// The fetch error's own message is kept out, because undici can include the URL, and with it the
// address and the key.
function requestError(error: unknown, timeoutMs: number): IpApiError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new IpApiError(`ip-api request timed out after ${timeoutMs} ms`);
  }
  const code = readErrorCode(error);
  return new IpApiError(`ip-api request failed${code === undefined ? '' : ` (${code})`}`);
}

function readErrorCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function readResult(body: unknown): CountryMatch | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new IpApiError('ip-api returned JSON that is not an object');
  }
  const { status, message, countryCode, continentCode } = body as Record<string, unknown>;

  if (status === 'fail') {
    // ip-api documents three messages: private range, reserved range and invalid query.
    const detail = typeof message === 'string' ? message.slice(0, 100) : 'no message';
    throw new IpApiError(`ip-api could not look up the address: ${JSON.stringify(detail)}`);
  }
  if (status !== 'success') {
    throw new IpApiError('ip-api returned a response without status "success" or "fail"');
  }

  if (countryCode === undefined || countryCode === '') {
    return undefined;
  }
  if (typeof countryCode !== 'string' || !CODE_PATTERN.test(countryCode)) {
    throw new IpApiError('ip-api returned a countryCode that is not a two-letter upper-case code');
  }
  if (typeof continentCode === 'string' && CODE_PATTERN.test(continentCode)) {
    return { country: countryCode, continent: continentCode };
  }
  return { country: countryCode };
}

function readSeconds(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) {
    return undefined;
  }
  return Number(header.trim());
}

function rateLimited(waitMs: number): ApplicationFailure {
  // At least one second, because a zero delay would let Temporal retry at once, inside the same window.
  const delayMs = Math.max(1000, Math.ceil(waitMs));
  return ApplicationFailure.create({
    type: IP_API_RATE_LIMITED,
    message: `ip-api rate limit reached; retrying in ${Math.ceil(delayMs / 1000)} s`,
    nextRetryDelay: delayMs,
  });
}
