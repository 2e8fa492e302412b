// Xata provider: one Xata branch, a Postgres cluster of its own, per user in the user's region. Branches are created
// and deleted through the control-plane API (xata-api.ts), and the schema is applied over the branch's Postgres
// connection with the postgres provider's migration code.
import pg from 'pg';

import { ErrorType, type CreateDatabaseResult, type DatabaseRef, type SeedSchemaResult } from '../../shared';
import type { Migration } from '../migrations';
import { permanentFailure, providerUnavailable } from './errors';
import { invalidInput, validateRegion } from './names';
import {
  applyMigrations,
  classifyPostgresError,
  connectClient,
  databaseNotFound,
  describeConnected,
  postgresDatabaseName,
  sortMigrationsOrFail,
} from './postgres';
import type { DatabaseDescription, DatabaseProvider } from './provider';
import { createXataApiClient, type XataApiClient, type XataApiOptions, type XataCredentials } from './xata-api';

export interface XataProviderOptions extends XataApiOptions {
  /** Postgres image of new branches. */
  branchImage?: string;
  /** Instance type of new branches. */
  instanceType?: string;
  /** Maximum time in ms to open a Postgres connection to a branch. */
  connectTimeoutMs?: number;
  /** Maximum time in ms that `applySchema` waits for another caller's schema lock. */
  lockTimeoutMs?: number;
  /** How long in ms the list of the organization's regions is reused before it is fetched again. */
  regionCacheMs?: number;
  /** Client that replaces the one built from the options, for tests. */
  client?: XataApiClient;
}

const PROVIDER_NAME = 'xata';
const DIALECT = 'postgres';

// NOTE: image and instance type are the values in Xata's create-branch examples (docs/api/branches.mdx and the
// configuration guide). Check them against `GET /organizations/{id}/images` and `/instanceTypes` for your account.
export const DEFAULT_XATA_BRANCH_IMAGE = 'postgres:17.7';
export const DEFAULT_XATA_INSTANCE_TYPE = 'standard';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const DEFAULT_REGION_CACHE_MS = 10 * 60 * 1000;

/** Branch names that this provider derives: lowercase letters, digits and hyphens, at most 63 characters. */
const BRANCH_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** Statuses in which a branch accepts connections (BranchStatus.statusType in the API's OpenAPI document). */
const CONNECTABLE_STATUSES = new Set(['STATUS_TYPE_HEALTHY', 'STATUS_TYPE_HIBERNATED']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/**
 * Derives the branch name of a user: the Postgres provider's database name with hyphens for underscores, such as
 * `user-2pqfeuexample7hk3lmn9xrtvw1-668598c417a8`. Throws an `InvalidInput` failure for an invalid user id.
 */
export function xataBranchName(userId: unknown): string {
  return postgresDatabaseName(userId).replace(/_/g, '-');
}

export function createXataProvider(options: XataProviderOptions): DatabaseProvider {
  const api = options.client ?? createXataApiClient(options);
  const image = options.branchImage ?? DEFAULT_XATA_BRANCH_IMAGE;
  const instanceType = options.instanceType ?? DEFAULT_XATA_INSTANCE_TYPE;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const regionCacheMs = options.regionCacheMs ?? DEFAULT_REGION_CACHE_MS;
  const locationPrefix = `${options.organizationId}/${options.projectId}/`;

  let regions: { ids: Promise<string[]>; fetchedAt: number } | undefined;

  /** Returns the organization's regions, fetched at most once per `regionCacheMs`. A failed fetch is not cached. */
  async function availableRegions(): Promise<string[]> {
    if (!regions || Date.now() - regions.fetchedAt > regionCacheMs) {
      const ids = api.listRegions();
      regions = { ids, fetchedAt: Date.now() };
      ids.catch(() => {
        if (regions?.ids === ids) regions = undefined;
      });
    }
    return regions.ids;
  }

  async function checkRegion(region: string): Promise<void> {
    const ids = await availableRegions();
    if (ids.includes(region)) return;

    throw permanentFailure(
      ErrorType.REGION_NOT_AVAILABLE,
      `Xata does not offer region ${region} to organization ${options.organizationId} (available: ` +
        `${ids.join(', ') || 'none'}). Remove the region from the allowed regions, or use another provider for it.`,
    );
  }

  function refFor(name: string, region: string): DatabaseRef {
    return { provider: PROVIDER_NAME, region, name, location: `${locationPrefix}${name}` };
  }

  /** Validates a ref from activity input against this provider's organization and project. */
  function resolveRef(ref: DatabaseRef): DatabaseRef {
    if (typeof ref !== 'object' || ref === null) {
      throw invalidInput('Invalid database ref: expected an object with provider, region, name and location.');
    }
    if (ref.provider !== PROVIDER_NAME) {
      throw invalidInput(`Invalid database ref: provider must be "${PROVIDER_NAME}" for the Xata provider.`);
    }
    if (typeof ref.name !== 'string' || !BRANCH_NAME_PATTERN.test(ref.name)) {
      throw invalidInput('Invalid database ref: name must be a branch name that this provider derived.');
    }
    const expected = refFor(ref.name, validateRegion(ref.region));
    if (ref.location !== expected.location) {
      throw invalidInput(
        `Invalid database ref: location must be "${expected.location}", the branch in XATA_ORGANIZATION and ` +
          'XATA_PROJECT. A ref from another project cannot be used.',
      );
    }
    return expected;
  }

  /** Opens a connection to the branch's database with the `xata` user's credentials. */
  async function connectBranch(ref: DatabaseRef, credentials: XataCredentials): Promise<pg.Client> {
    const url = new URL(credentials.connectionString);
    // The API's connection string carries no sslmode, so TLS is set here: required with certificate checks, except
    // for a loopback host, such as the local test server.
    const ssl = LOOPBACK_HOSTS.has(url.hostname) ? false : { rejectUnauthorized: true };
    try {
      return await connectClient({
        connectionString: credentials.connectionString,
        ssl,
        connectionTimeoutMillis: connectTimeoutMs,
      });
    } catch (error) {
      throw classifyPostgresError(error, branchService(ref));
    }
  }

  /** Returns the credentials of a branch that accepts connections, or throws `DatabaseNotFound`. */
  async function readyCredentials(ref: DatabaseRef): Promise<XataCredentials> {
    const branch = await api.getBranch(ref.name);
    if (!branch) throw databaseNotFound(ref);

    const statusType = branch.status?.statusType;
    if (statusType !== undefined && !CONNECTABLE_STATUSES.has(statusType)) {
      throw providerUnavailable(
        `Xata branch ${ref.location} is not ready (status ${statusType}). Temporal retries the activity.`,
      );
    }

    const credentials = await api.getCredentials(ref.name);
    if (!credentials) throw databaseNotFound(ref);
    return credentials;
  }

  return {
    name: PROVIDER_NAME,
    dialect: DIALECT,

    async ensureDatabase(userId: string, region: string): Promise<CreateDatabaseResult> {
      const name = xataBranchName(userId);
      const ref = refFor(name, validateRegion(region));
      await checkRegion(ref.region);

      if (await api.getBranch(name)) return { ref, created: false };

      // Two workers can both miss the branch above, and the API then responds 409 to the second create.
      const { created } = await api.createBranch(name, 'per-user-db tenant database', {
        region: ref.region,
        image,
        instanceType,
      });
      return { ref, created };
    },

    async applySchema(ref: DatabaseRef, migrations: Migration[]): Promise<SeedSchemaResult> {
      const target = resolveRef(ref);
      const sorted = sortMigrationsOrFail(migrations);
      const client = await connectBranch(target, await readyCredentials(target));

      const service = branchService(target);
      try {
        return await applyMigrations(client, sorted, { lockTimeoutMs, service });
      } catch (error) {
        throw classifyPostgresError(error, service);
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async describe(ref: DatabaseRef): Promise<DatabaseDescription> {
      const target = resolveRef(ref);
      return describeConnected(
        async () => connectBranch(target, await readyCredentials(target)),
        branchService(target),
      );
    },

    async deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }> {
      const target = resolveRef(ref);
      return { deleted: await api.deleteBranch(target.name) };
    },
  };
}

function branchService(ref: DatabaseRef): string {
  return `Xata branch ${ref.location}`;
}
