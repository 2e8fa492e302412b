// A small client for the control-plane REST API of Xata's Postgres platform, built on Node's global fetch.
//
// Contract, from Xata's REST API reference (https://xata.io/docs/api, source https://github.com/xataio/docs, pages
// docs/api/index.mdx, docs/api/branches.mdx and docs/api/projects.mdx, and the OpenAPI pages "Get branch details" and
// "Retrieve branch credentials" generated from https://api.xata.tech/openapi.json):
//
//   base URL     https://api.xata.tech, with `Authorization: Bearer <API key>` on every request
//   GET          /organizations/{organizationID}/regions                     -> { regions: [{ id, publicAccess }] }
//   POST         /organizations/{organizationID}/projects/{projectID}/branches                  -> 201, the branch
//   GET, DELETE  /organizations/{organizationID}/projects/{projectID}/branches/{branchID}       -> 200 / 204, 404
//   GET          .../branches/{branchID}/credentials?username=xata  -> { username, password, hostname, port, dbname,
//                                                                        connectionString }
//   errors       JSON { id?, message }; 401 for a rejected key, 404 for a missing resource, 5XX for server faults
//
// The API key needs the branch:read, branch:write and credentials:read scopes. Every failure is classified into a
// Temporal ApplicationFailure here, so callers only handle the expected outcomes.
import { ApplicationFailure } from '@temporalio/common';

import { classifyHttpStatus, classifyNetworkError, providerUnavailable } from './errors';

/** Documented base URL of the control-plane API. */
export const XATA_API_BASE_URL = 'https://api.xata.tech';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Maximum length of an API error message that failure messages quote. */
const MAX_QUOTED_MESSAGE = 200;

export interface XataApiOptions {
  apiKey: string;
  organizationId: string;
  projectId: string;
  /** Base URL of the API, such as https://api.xata.tech. Tests pass a loopback URL. */
  baseUrl?: string;
  /** Maximum time in ms for one request, including reading the response body. */
  requestTimeoutMs?: number;
  /** fetch implementation, the global fetch when unset. */
  fetch?: typeof fetch;
}

/** The fields of the API's BranchMetadata that the provider reads. */
export interface XataBranch {
  id: string;
  name: string;
  region: string;
  status?: { statusType?: string };
}

/** Connection details of a branch. `connectionString` contains the password, so it must never be logged. */
export interface XataCredentials {
  username: string;
  password: string;
  hostname: string;
  port: number;
  dbname: string;
  connectionString: string;
}

/** Cluster settings for a new branch, sent as the create request's `configuration`. */
export interface XataBranchConfiguration {
  region: string;
  /** Postgres image, such as `postgres:17.7`. */
  image: string;
  instanceType: string;
  /** Storage in GiB. */
  storage?: number;
}

export interface XataApiClient {
  /** Human-readable label for messages: the API host, without credentials. */
  readonly service: string;
  /** Returns the IDs of the regions where the organization can create branches. */
  listRegions(): Promise<string[]>;
  /**
   * Returns the branch, or undefined when the API responds 404.
   * NOTE: the API reference calls this path segment the branch ID, and the provider passes the branch name, because
   * only the name is known before the first create. This relies on the API resolving names, which is unverified.
   */
  getBranch(branch: string): Promise<XataBranch | undefined>;
  /** Creates a branch. Returns `created: false` when the API responds 409, because the branch already exists. */
  createBranch(
    name: string,
    description: string,
    configuration: XataBranchConfiguration,
  ): Promise<{ created: boolean }>;
  /** Deletes a branch and its data. Returns false when the API responds 404. */
  deleteBranch(branch: string): Promise<boolean>;
  /** Returns the credentials of the `xata` user, or undefined when the branch does not exist. */
  getCredentials(branch: string): Promise<XataCredentials | undefined>;
}

/** A response that the caller handles itself, instead of turning it into a failure. */
interface RawResponse {
  status: number;
  body: unknown;
}

export function createXataApiClient(options: XataApiOptions): XataApiClient {
  const baseUrl = new URL(options.baseUrl ?? XATA_API_BASE_URL);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const fetchImpl = options.fetch ?? fetch;
  const service = `Xata API ${baseUrl.host}`;
  const organization = encodeURIComponent(options.organizationId);
  const project = encodeURIComponent(options.projectId);
  const branchesPath = `/organizations/${organization}/projects/${project}/branches`;

  /**
   * Sends one request and returns its status and parsed JSON body when the status is 2xx or one of `expected`.
   * Any other status, a network error or a timeout becomes a classified ApplicationFailure.
   */
  async function request(method: string, path: string, body?: unknown, expected: number[] = []): Promise<RawResponse> {
    const url = new URL(baseUrl.pathname.replace(/\/$/, '') + path, baseUrl);
    const description = `${method} ${url.pathname}`;
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';

    try {
      const response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const parsed = await readJson(response);

      if (response.ok || expected.includes(response.status)) return { status: response.status, body: parsed };
      throw classifyHttpStatus(
        {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          detail: `${description}: ${errorMessage(parsed)}`,
        },
        service,
      );
    } catch (error) {
      throw classifyRequestError(error, `${service} (${description})`);
    }
  }

  return {
    service,

    async listRegions(): Promise<string[]> {
      const { body } = await request('GET', `/organizations/${organization}/regions`);
      const regions = isObject(body) && Array.isArray(body.regions) ? body.regions : undefined;
      if (!regions) throw invalidResponse(service, 'the region list has no regions array');
      return regions.flatMap((region: unknown) =>
        isObject(region) && typeof region.id === 'string' ? [region.id] : [],
      );
    },

    async getBranch(branch: string): Promise<XataBranch | undefined> {
      const { status, body } = await request('GET', `${branchesPath}/${encodeURIComponent(branch)}`, undefined, [404]);
      if (status === 404) return undefined;
      if (!isObject(body) || typeof body.id !== 'string' || typeof body.name !== 'string') {
        throw invalidResponse(service, 'the branch has no id or name');
      }
      const statusType = isObject(body.status) ? body.status.statusType : undefined;
      return {
        id: body.id,
        name: body.name,
        region: typeof body.region === 'string' ? body.region : '',
        status: typeof statusType === 'string' ? { statusType } : undefined,
      };
    },

    async createBranch(name, description, configuration): Promise<{ created: boolean }> {
      const { status } = await request('POST', branchesPath, { name, description, configuration }, [409]);
      return { created: status !== 409 };
    },

    async deleteBranch(branch: string): Promise<boolean> {
      const { status } = await request('DELETE', `${branchesPath}/${encodeURIComponent(branch)}`, undefined, [404]);
      return status !== 404;
    },

    async getCredentials(branch: string): Promise<XataCredentials | undefined> {
      const path = `${branchesPath}/${encodeURIComponent(branch)}/credentials?username=xata`;
      const { status, body } = await request('GET', path, undefined, [404]);
      if (status === 404) return undefined;
      if (!isObject(body) || typeof body.connectionString !== 'string' || body.connectionString === '') {
        throw invalidResponse(service, 'the credentials have no connectionString');
      }
      return body as unknown as XataCredentials;
    },
  };
}

/** Reads a JSON body, or returns undefined for an empty or non-JSON body, such as a 204 or a proxy's HTML page. */
async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorMessage(body: unknown): string {
  const message = isObject(body) && typeof body.message === 'string' ? body.message : 'no error message';
  return message.length > MAX_QUOTED_MESSAGE ? `${message.slice(0, MAX_QUOTED_MESSAGE)}...` : message;
}

/**
 * Classifies an error thrown by fetch. Node's fetch reports socket and DNS failures as a TypeError whose `cause`
 * carries the system error code, and a timeout as a DOMException named TimeoutError.
 */
function classifyRequestError(error: unknown, service: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;

  const cause = error instanceof Error && error.cause !== undefined ? error.cause : undefined;
  const network = classifyNetworkError(cause, service) ?? classifyNetworkError(error, service);
  if (network) return network;

  const message = error instanceof Error ? error.message : String(error);
  return providerUnavailable(`${service} failed: ${message}. Temporal retries the activity.`, asError(error));
}

function invalidResponse(service: string, problem: string): ApplicationFailure {
  return providerUnavailable(`${service} returned an unexpected response: ${problem}. Temporal retries the activity.`);
}

function asError(error: unknown): Error | undefined {
  return error instanceof Error ? error : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
