// Legacy Xata provider: one database per user in a workspace of Xata's original serverless API (now called Xata
// Lite), through `@xata.io/client`'s XataApiClient. Xata has retired that API, so this provider exists for
// workspaces that still run on it. New deployments use the `xata` provider.
//
// The calls are the client's `databases.getDatabaseMetadata`, `createDatabase` and `deleteDatabase` (GET, PUT and
// DELETE /workspaces/{workspaceId}/dbs/{dbName} on the control plane, in @xata.io/client 0.30.1), plus
// `listRegions`. The provider never lists the workspace's databases.
//
// applySchema is a no-op: the legacy API has no SQL migrations and no place for a schema version, so it checks
// that the database exists and returns the highest migration version without applying SQL or recording anything.
// describe therefore always reports schema version 0.
import { randomUUID } from 'node:crypto';

import { ApplicationFailure } from '@temporalio/common';
import { XataApiClient } from '@xata.io/client';

import { ErrorType, type CreateDatabaseResult, type DatabaseRef, type SeedSchemaResult } from '../../shared';
import type { Migration } from '../migrations';
import {
  classifyHttpStatus,
  classifyNetworkError,
  parseRetryAfter,
  permanentFailure,
  providerUnavailable,
  RetryableErrorType,
} from './errors';
import { invalidInput, validateRegion } from './names';
import { databaseNotFound, sortMigrationsOrFail } from './postgres';
import type { DatabaseDescription, DatabaseProvider } from './provider';
import { xataBranchName } from './xata';

export interface XataLiteProviderOptions {
  apiKey: string;
  /** Workspace ID, such as `my-workspace-a1b2c3`, from the workspace's settings. */
  workspaceId: string;
  /** Control-plane base URL, the client's production host https://api.xata.io when unset. Tests pass loopback. */
  baseUrl?: string;
  /** Deadline in ms for each provider call, including the client's own retries of HTTP 429. */
  callTimeoutMs?: number;
  /** How long in ms the list of the workspace's regions is reused before it is fetched again. */
  regionCacheMs?: number;
  /** fetch implementation under the client, the global fetch when unset. */
  fetch?: typeof fetch;
}

const PROVIDER_NAME = 'xata-lite';
/** Dialect of the migrations whose version applySchema reports. None of their SQL runs. */
const DIALECT = 'postgres';
export const XATA_LITE_API_BASE_URL = 'https://api.xata.io';

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const DEFAULT_REGION_CACHE_MS = 10 * 60 * 1000;
const DATABASE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** Request header that names the provider call of a request for the fetch wrapper, which removes it. */
const CALL_HEADER = 'x-per-user-db-call';

/**
 * Matches the error message of an exceeded quota, such as the free plan's 40 databases per workspace.
 * NOTE: the message is not in the client's types or in the sources checked, so this matches its likely wording.
 */
const QUOTA_MESSAGE = /\b(limit|quota|maximum number)\b/i;
const ALREADY_EXISTS_MESSAGE = /already exists/i;

/** State of one provider call: its deadline and what the fetch wrapper saw. */
interface Call {
  controller: AbortController;
  /** Delay from the last HTTP 429's Retry-After or X-RateLimit-Reset header, set once a 429 arrived. */
  rateLimit?: { delayMs: number | undefined };
}

/** An error from the client: FetcherError carries the HTTP status. */
interface HttpError {
  status: number;
  message: string;
}

export function createXataLiteProvider(options: XataLiteProviderOptions): DatabaseProvider {
  const baseUrl = options.baseUrl ?? XATA_LITE_API_BASE_URL;
  const service = `Xata Lite API ${new URL(baseUrl).host}`;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const regionCacheMs = options.regionCacheMs ?? DEFAULT_REGION_CACHE_MS;
  const innerFetch = options.fetch ?? fetch;
  const calls = new Map<string, Call>();
  const workspaceId = options.workspaceId;

  /**
   * Gives each request its call's abort signal and records rate limiting. The client retries HTTP 429 on its own
   * without a limit, so the signal is what ends those retries once the call's deadline has passed.
   */
  const fetchWithDeadline: typeof fetch = async (input, init) => {
    const headers = { ...(init?.headers as Record<string, string> | undefined) };
    const call = calls.get(headers[CALL_HEADER] ?? '');
    delete headers[CALL_HEADER];
    // The client sets Host itself, which fetch does not need.
    delete headers.Host;

    const response = await innerFetch(input, { ...init, headers, signal: call?.controller.signal });
    if (response.status === 429 && call) {
      const header = response.headers.get('retry-after') ?? response.headers.get('x-ratelimit-reset');
      call.rateLimit = { delayMs: parseRetryAfter(header) };
    }
    return response;
  };

  const client = new XataApiClient({
    apiKey: options.apiKey,
    host: { main: baseUrl, workspaces: baseUrl },
    fetch: fetchWithDeadline,
    clientName: 'per-user-db',
  });

  /** Runs one client call under the deadline and classifies its failure. */
  async function withDeadline<T>(
    description: string,
    run: (headers: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const id = randomUUID();
    const call: Call = { controller: new AbortController() };
    calls.set(id, call);

    const operation = run({ [CALL_HEADER]: id });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        call.controller.abort();
        reject(deadlineFailure(call, `${service} (${description})`, callTimeoutMs));
      }, callTimeoutMs);
    });

    try {
      return await Promise.race([operation, deadline]);
    } catch (error) {
      throw classifyClientError(error, `${service} (${description})`);
    } finally {
      clearTimeout(timer);
      // The client's retry loop may still run after the deadline, but its next request fails on the aborted signal.
      operation.then(
        () => calls.delete(id),
        () => calls.delete(id),
      );
    }
  }

  let regions: { ids: Promise<string[]>; fetchedAt: number } | undefined;

  async function checkRegion(region: string): Promise<void> {
    if (!regions || Date.now() - regions.fetchedAt > regionCacheMs) {
      const ids = withDeadline('list regions', (headers) =>
        client.databases.listRegions({ pathParams: { workspaceId }, headers }),
      ).then((response) => response.regions.map((entry) => entry.id));
      regions = { ids, fetchedAt: Date.now() };
      ids.catch(() => {
        if (regions?.ids === ids) regions = undefined;
      });
    }

    const ids = await regions.ids;
    if (ids.includes(region)) return;
    throw permanentFailure(
      ErrorType.REGION_NOT_AVAILABLE,
      `Xata Lite does not offer region ${region} to workspace ${workspaceId} (available: ${ids.join(', ') || 'none'}). ` +
        'Remove the region from the allowed regions, or use another provider for it.',
    );
  }

  /** Point lookup of one database. Returns false on HTTP 404. */
  async function databaseExists(name: string): Promise<boolean> {
    try {
      await withDeadline(`get database ${name}`, (headers) =>
        client.databases.getDatabaseMetadata({ pathParams: { workspaceId, dbName: name }, headers }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw asFailure(error);
    }
  }

  function refFor(name: string, region: string): DatabaseRef {
    return { provider: PROVIDER_NAME, region, name, location: `${workspaceId}/${name}` };
  }

  function resolveRef(ref: DatabaseRef): DatabaseRef {
    if (typeof ref !== 'object' || ref === null) {
      throw invalidInput('Invalid database ref: expected an object with provider, region, name and location.');
    }
    if (ref.provider !== PROVIDER_NAME) {
      throw invalidInput(`Invalid database ref: provider must be "${PROVIDER_NAME}" for the Xata Lite provider.`);
    }
    if (typeof ref.name !== 'string' || !DATABASE_NAME_PATTERN.test(ref.name)) {
      throw invalidInput('Invalid database ref: name must be a database name that this provider derived.');
    }
    const expected = refFor(ref.name, validateRegion(ref.region));
    if (ref.location !== expected.location) {
      throw invalidInput(`Invalid database ref: location must be "${expected.location}", in XATA_WORKSPACE_SLUG.`);
    }
    return expected;
  }

  return {
    name: PROVIDER_NAME,
    dialect: DIALECT,

    async ensureDatabase(userId: string, region: string): Promise<CreateDatabaseResult> {
      const name = xataBranchName(userId);
      const ref = refFor(name, validateRegion(region));
      await checkRegion(ref.region);

      if (await databaseExists(name)) return { ref, created: false };

      try {
        await withDeadline(`create database ${name}`, (headers) =>
          client.databases.createDatabase({
            pathParams: { workspaceId, dbName: name },
            body: { region: ref.region, branchName: 'main' },
            headers,
          }),
        );
        return { ref, created: true };
      } catch (error) {
        // A concurrent caller created it between the lookup and the create.
        if (isAlreadyExists(error)) return { ref, created: false };
        if (isNotFound(error)) {
          throw permanentFailure(
            ErrorType.CONFIGURATION,
            `Xata Lite has no workspace ${workspaceId} (HTTP 404 on create). Check XATA_WORKSPACE_SLUG.`,
          );
        }
        throw asFailure(error);
      }
    },

    async applySchema(ref: DatabaseRef, migrations: Migration[]): Promise<SeedSchemaResult> {
      const target = resolveRef(ref);
      const sorted = sortMigrationsOrFail(migrations);
      if (!(await databaseExists(target.name))) throw databaseNotFound(target);

      return { version: sorted.at(-1)?.version ?? 0, applied: [] };
    },

    async describe(ref: DatabaseRef): Promise<DatabaseDescription> {
      const target = resolveRef(ref);
      return (await databaseExists(target.name)) ? { exists: true, schemaVersion: 0 } : { exists: false };
    },

    async deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }> {
      const target = resolveRef(ref);
      try {
        await withDeadline(`delete database ${target.name}`, (headers) =>
          client.databases.deleteDatabase({ pathParams: { workspaceId, dbName: target.name }, headers }),
        );
        return { deleted: true };
      } catch (error) {
        if (isNotFound(error)) return { deleted: false };
        throw asFailure(error);
      }
    },
  };
}

/** Creates the failure of a call that missed its deadline: rate limited if a 429 arrived, otherwise timed out. */
function deadlineFailure(call: Call, service: string, timeoutMs: number): ApplicationFailure {
  if (call.rateLimit) {
    return ApplicationFailure.create({
      type: RetryableErrorType.PROVIDER_RATE_LIMITED,
      nonRetryable: false,
      message: `${service} kept rate limiting requests (HTTP 429) for ${timeoutMs} ms. Temporal retries the activity.`,
      nextRetryDelay: call.rateLimit.delayMs,
    });
  }
  return providerUnavailable(`${service} timed out after ${timeoutMs} ms. Temporal retries the activity.`);
}

/**
 * Maps a client error to an ApplicationFailure, except a 404 or "already exists" response, which becomes an
 * HttpStatusError for the provider method to turn into a result or pass to asFailure.
 */
function classifyClientError(error: unknown, service: string): Error {
  if (error instanceof ApplicationFailure) return error;

  const http = httpError(error);
  if (http) {
    if (http.status === 404 || isAlreadyExistsStatus(http)) return new HttpStatusError(http, service);

    const quotaExceeded =
      http.status === 402 || ([400, 403, 422].includes(http.status) && QUOTA_MESSAGE.test(http.message));
    return classifyHttpStatus({ status: http.status, detail: http.message, quotaExceeded }, service);
  }

  // Node's fetch reports socket and DNS failures as a TypeError whose cause carries the system error code.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : undefined;
  const network = classifyNetworkError(cause, service) ?? classifyNetworkError(error, service);
  if (network) return network;

  const message = error instanceof Error ? error.message : String(error);
  return providerUnavailable(`${service} failed: ${message}. Temporal retries the activity.`);
}

/** A 404 or "already exists" response, which the provider methods turn into a result. */
class HttpStatusError extends Error {
  constructor(
    readonly http: HttpError,
    readonly service: string,
  ) {
    super(`${service} responded HTTP ${http.status}: ${http.message}`);
    this.name = 'HttpStatusError';
  }
}

/** Turns an HttpStatusError that the caller did not expect into a failure, such as a 404 on the workspace. */
function asFailure(error: unknown): unknown {
  if (!(error instanceof HttpStatusError)) return error;
  return classifyHttpStatus({ status: error.http.status, detail: error.http.message }, error.service);
}

function httpError(error: unknown): HttpError | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  if (typeof error.status !== 'number') return undefined;
  const message = error instanceof Error ? error.message : 'no error message';
  return { status: error.status, message };
}

function isAlreadyExistsStatus(http: HttpError): boolean {
  return http.status === 409 || ([400, 422].includes(http.status) && ALREADY_EXISTS_MESSAGE.test(http.message));
}

function isNotFound(error: unknown): boolean {
  return error instanceof HttpStatusError && error.http.status === 404;
}

function isAlreadyExists(error: unknown): boolean {
  return error instanceof HttpStatusError && isAlreadyExistsStatus(error.http);
}
