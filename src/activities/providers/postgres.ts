// Postgres provider: one database per user on the Postgres server that the configuration assigns to the user's
// region. The server's user needs CREATEDB, and CREATEROLE as well when each user gets a role of their own.
import { createHash } from 'node:crypto';

import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';

import { ErrorType, type CreateDatabaseResult, type DatabaseRef, type SeedSchemaResult } from '../../shared';
import { sortMigrations, type Migration } from '../migrations';
import { classifyNetworkError, errorCode, permanentFailure, providerUnavailable } from './errors';
import { invalidInput, validateRegion, validateUserId } from './names';
import { ProviderErrorType, type DatabaseDescription, type DatabaseProvider } from './provider';
import { DEFAULT_SERVER_KEY } from './server-urls';

export interface PostgresProviderOptions {
  /**
   * Connection URL of the server for each region, keyed by region name, plus an optional `*` entry for every other
   * region. Each URL names a database that the provider connects to for CREATE and DROP, usually `postgres`.
   */
  servers: Readonly<Record<string, string>>;
  /**
   * Whether to create a NOLOGIN role per user that owns the user's database and its tables, and to revoke CONNECT
   * and TEMPORARY on the database from PUBLIC. The application then connects as a login role that is a member of it.
   */
  rolePerUser?: boolean;
  /** Maximum time in ms to open a connection before the attempt fails as retryable. */
  connectTimeoutMs?: number;
  /** Maximum time in ms that `applySchema` waits for another caller's schema lock before it fails as retryable. */
  lockTimeoutMs?: number;
  /** Called when an idle pooled connection fails, such as on a server restart. The pool drops that connection. */
  onIdleConnectionError?: (error: Error, server: string) => void;
}

const PROVIDER_NAME = 'postgres';
const DIALECT = 'postgres';
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const POOL_SIZE_PER_SERVER = 5;

/** Postgres truncates identifiers to 63 bytes (NAMEDATALEN - 1 in a default build). */
const MAX_IDENTIFIER_BYTES = 63;
const HASH_HEX_LENGTH = 12;
const SAFE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Advisory lock key (two 32-bit integers) that serializes schema changes within one tenant database. */
const SCHEMA_LOCK_KEY: readonly [number, number] = [0x70756462, 1];

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/** SQLSTATE codes, from the Postgres manual's appendix "PostgreSQL Error Codes". */
const SqlState = {
  INVALID_AUTHORIZATION: '28000',
  INVALID_PASSWORD: '28P01',
  INVALID_CATALOG_NAME: '3D000',
  INSUFFICIENT_PRIVILEGE: '42501',
  DUPLICATE_DATABASE: '42P04',
  DUPLICATE_OBJECT: '42710',
  UNIQUE_VIOLATION: '23505',
} as const;

/** SQLSTATE classes of failures that a later attempt can get past. */
const TRANSIENT_SQLSTATE_CLASSES = new Set([
  '08', // connection exception
  '40', // serialization failure and deadlock
  '53', // insufficient resources, such as too many connections
  '55', // object in use and lock not available
  '57', // operator intervention, such as a server shutting down
]);

/** One configured server, with its URL and a label for messages that contains no password. */
interface Server {
  url: URL;
  label: string;
}

/** A validated ref and the server that contains its database. */
interface Target {
  ref: DatabaseRef;
  server: Server;
}

/**
 * Derives the database name of a user: the id in lowercase, cut to fit 63 bytes, then `_` and 12 hex digits of
 * the SHA-256 of the exact id. The hash keeps ids that differ only in letter case or beyond the cut apart, and
 * the name needs no quoting in psql. Throws an `InvalidInput` failure for an invalid user id.
 */
export function postgresDatabaseName(userId: unknown): string {
  const id = validateUserId(userId);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, HASH_HEX_LENGTH);
  const readable = id.toLowerCase().slice(0, MAX_IDENTIFIER_BYTES - HASH_HEX_LENGTH - 1);
  const name = `${readable}_${hash}`;

  // The Clerk id pattern already limits ids to ASCII letters, digits and `_`. This check keeps a future change to
  // that pattern from producing a name that needs quoting or exceeds the limit.
  if (!SAFE_NAME_PATTERN.test(name)) throw invalidInput(`Invalid database name derived from user id ${id}.`);
  return name;
}

export function createPostgresProvider(options: PostgresProviderOptions): DatabaseProvider {
  const servers = parseServers(options.servers);
  const rolePerUser = options.rolePerUser ?? false;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const pools = new Map<string, pg.Pool>();

  function serverFor(region: string): Server {
    const server = servers.get(region) ?? servers.get(DEFAULT_SERVER_KEY);
    if (!server) {
      throw permanentFailure(
        ErrorType.REGION_NOT_AVAILABLE,
        `No Postgres server is configured for region ${region}. Add ${region}=<url> or a ${DEFAULT_SERVER_KEY} ` +
          'default to POSTGRES_URLS, or remove the region from the allowed regions.',
      );
    }
    return server;
  }

  function resolve(userId: unknown, region: unknown): Target {
    const name = postgresDatabaseName(userId);
    const validRegion = validateRegion(region);
    const server = serverFor(validRegion);
    const location = `${server.label}/${name}`;
    return { ref: { provider: PROVIDER_NAME, region: validRegion, name, location }, server };
  }

  /** Validates a ref from activity input against the server that the configuration now assigns to its region. */
  function resolveRef(ref: DatabaseRef): Target {
    if (typeof ref !== 'object' || ref === null) {
      throw invalidInput('Invalid database ref: expected an object with provider, region, name and location.');
    }
    if (ref.provider !== PROVIDER_NAME) {
      throw invalidInput(`Invalid database ref: provider must be "${PROVIDER_NAME}" for the Postgres provider.`);
    }
    if (typeof ref.name !== 'string' || !SAFE_NAME_PATTERN.test(ref.name)) {
      throw invalidInput('Invalid database ref: name must be a database name that this provider derived.');
    }

    const server = serverFor(validateRegion(ref.region));
    const location = `${server.label}/${ref.name}`;
    if (ref.location !== location) {
      throw invalidInput(
        `Invalid database ref: location must be "${location}", the server that POSTGRES_URLS assigns to ` +
          `region ${ref.region}. A ref from another server cannot be used after its region moved.`,
      );
    }
    return { ref: { provider: PROVIDER_NAME, region: ref.region, name: ref.name, location }, server };
  }

  function poolFor(server: Server): pg.Pool {
    let pool = pools.get(server.url.href);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: server.url.href,
        max: POOL_SIZE_PER_SERVER,
        connectionTimeoutMillis: connectTimeoutMs,
        idleTimeoutMillis: 30_000,
        application_name: 'per-user-db',
      });
      // Without a listener, an error on an idle connection would crash the worker.
      pool.on('error', (error) => options.onIdleConnectionError?.(error, server.label));
      pools.set(server.url.href, pool);
    }
    return pool;
  }

  /** Runs one statement on the server's maintenance database and classifies its failure. */
  async function adminQuery(server: Server, sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await poolFor(server).query(sql, values);
    } catch (error) {
      throw classifyPostgresError(error, `Postgres server ${server.label}`);
    }
  }

  async function databaseExists(target: Target): Promise<boolean> {
    const result = await adminQuery(target.server, 'SELECT 1 FROM pg_database WHERE datname = $1', [target.ref.name]);
    return result.rowCount === 1;
  }

  /** Opens a connection to the tenant database, or throws `DatabaseNotFound` when it does not exist. */
  async function connectTenant(target: Target): Promise<pg.Client> {
    const url = new URL(target.server.url.href);
    url.pathname = `/${target.ref.name}`;
    try {
      return await connectClient({ connectionString: url.href, connectionTimeoutMillis: connectTimeoutMs });
    } catch (error) {
      if (errorCode(error) === SqlState.INVALID_CATALOG_NAME) throw databaseNotFound(target.ref);
      throw classifyPostgresError(error, `Postgres server ${target.server.label}`);
    }
  }

  async function ensureRole(target: Target): Promise<void> {
    const role = pg.escapeIdentifier(target.ref.name);
    try {
      await adminQuery(target.server, `CREATE ROLE ${role} NOLOGIN`);
    } catch (error) {
      if (!isDuplicate(error)) throw error;
    }

    // CREATE DATABASE ... OWNER and SET ROLE in applySchema need membership, which a superuser already has.
    const membership = await adminQuery(target.server, "SELECT pg_has_role(current_user, $1, 'MEMBER') AS member", [
      target.ref.name,
    ]);
    if (membership.rows[0]?.member !== true) {
      await adminQuery(target.server, `GRANT ${role} TO CURRENT_USER`);
    }
  }

  return {
    name: PROVIDER_NAME,
    dialect: DIALECT,

    async ensureDatabase(userId: string, region: string): Promise<CreateDatabaseResult> {
      const target = resolve(userId, region);
      const database = pg.escapeIdentifier(target.ref.name);

      if (rolePerUser) await ensureRole(target);

      let created = false;
      if (!(await databaseExists(target))) {
        // CREATE DATABASE cannot run inside a transaction block, and pool.query runs each statement on its own.
        const owner = rolePerUser ? ` OWNER ${database}` : '';
        try {
          await adminQuery(target.server, `CREATE DATABASE ${database}${owner}`);
          created = true;
        } catch (error) {
          // A concurrent caller created it first. Postgres reports duplicate_database, or a unique violation on
          // the pg_database name index when both inserts race.
          if (!isDuplicate(error)) throw error;
        }
      }

      if (rolePerUser) {
        // Repeated on every call, so a crash between CREATE and REVOKE is repaired by the retry.
        await adminQuery(target.server, `REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
      }
      return { ref: target.ref, created };
    },

    async applySchema(ref: DatabaseRef, migrations: Migration[]): Promise<SeedSchemaResult> {
      const target = resolveRef(ref);
      const sorted = sortMigrationsOrFail(migrations);
      if (!(await databaseExists(target))) throw databaseNotFound(target.ref);

      const client = await connectTenant(target);
      const service = `Postgres database ${target.ref.location}`;
      try {
        return await applyMigrations(client, sorted, {
          role: rolePerUser ? target.ref.name : undefined,
          lockTimeoutMs,
          service,
        });
      } catch (error) {
        throw classifyPostgresError(error, service);
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async describe(ref: DatabaseRef): Promise<DatabaseDescription> {
      const target = resolveRef(ref);
      if (!(await databaseExists(target))) return { exists: false };
      // A database dropped between the lookup and the connection counts as absent.
      return describeConnected(() => connectTenant(target), `Postgres database ${target.ref.location}`);
    },

    async deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }> {
      const target = resolveRef(ref);
      const existed = await databaseExists(target);

      // FORCE (Postgres 13 and later) ends the sessions connected to the database, which would block the drop.
      await adminQuery(target.server, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target.ref.name)} WITH (FORCE)`);
      if (rolePerUser) await adminQuery(target.server, `DROP ROLE IF EXISTS ${pg.escapeIdentifier(target.ref.name)}`);

      return { deleted: existed };
    },

    async close(): Promise<void> {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.end()));
    },
  };
}

/**
 * Applies each migration that the database has not recorded, each in its own transaction, while holding a
 * session-level advisory lock, so concurrent callers apply each migration once. The lock ends with the session,
 * so a crashed caller never leaves it behind.
 */
export async function applyMigrations(
  client: pg.Client,
  migrations: Migration[],
  settings: { role?: string; lockTimeoutMs: number; service: string },
): Promise<SeedSchemaResult> {
  // SET does not take bound parameters, and the value is an integer.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.trunc(settings.lockTimeoutMs))}`);
  await client.query('SELECT pg_advisory_lock($1, $2)', [...SCHEMA_LOCK_KEY]);
  await client.query('RESET lock_timeout');

  // With a role per user, the tables belong to that role rather than to the provisioning user.
  if (settings.role) await client.query(`SET ROLE ${pg.escapeIdentifier(settings.role)}`);
  await client.query(CREATE_MIGRATIONS_TABLE);

  const applied: number[] = [];
  for (const migration of migrations) {
    const recorded = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
    if (recorded.rowCount === 1) continue;

    const latest = await readSchemaVersion(client);
    if (migration.version < latest) {
      throw permanentFailure(
        ErrorType.CONFIGURATION,
        `Migration ${migration.version} (${migration.name}) is older than version ${latest}, which the database ` +
          'already has. Give the new migration a version above the latest one.',
      );
    }

    await applyOne(client, migration, settings.service);
    applied.push(migration.version);
  }

  return { version: await readSchemaVersion(client), applied };
}

async function applyOne(client: pg.Client, migration: Migration, service: string): Promise<void> {
  await client.query('BEGIN');
  try {
    // A query without parameters uses the simple protocol, which accepts several statements.
    await client.query(migration.sql);
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
      migration.version,
      migration.name,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw classifyMigrationError(error, migration, service);
  }
}

/**
 * Describes a tenant database through the connection that `connect` opens. A connection that fails with
 * DatabaseNotFound means the database does not exist; `service` names it in other errors.
 */
export async function describeConnected(
  connect: () => Promise<pg.Client>,
  service: string,
): Promise<DatabaseDescription> {
  let client: pg.Client;
  try {
    client = await connect();
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === ProviderErrorType.DATABASE_NOT_FOUND) {
      return { exists: false };
    }
    throw error;
  }

  try {
    return { exists: true, schemaVersion: await readSchemaVersion(client) };
  } catch (error) {
    throw classifyPostgresError(error, service);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function readSchemaVersion(client: pg.Client): Promise<number> {
  const table = await client.query<{ present: boolean }>(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present",
  );
  if (table.rows[0]?.present !== true) return 0;

  const result = await client.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  return result.rows[0]?.version ?? 0;
}

/**
 * Classifies a failed migration. Errors in SQLSTATE class 42 (syntax error or access rule violation) and 22 (data
 * exception) come from the migration itself, so no retry can fix them. Others are classified as any query error.
 */
function classifyMigrationError(error: unknown, migration: Migration, service: string): Error {
  const code = errorCode(error) ?? '';
  if (code.startsWith('42') || code.startsWith('22')) {
    const message = error instanceof Error ? error.message : String(error);
    return permanentFailure(
      ErrorType.CONFIGURATION,
      `Migration ${migration.version} (${migration.name}) failed on ${service} with SQLSTATE ${code}: ${message}. ` +
        'Fix the migration file; the transaction was rolled back.',
      error instanceof Error ? error : undefined,
    );
  }
  return classifyPostgresError(error, service);
}

/**
 * Maps an error from the pg client to an ApplicationFailure: rejected credentials and missing privileges are
 * non-retryable, connection failures, timeouts and transient SQLSTATE classes are retryable. Other errors are
 * returned unchanged, and Temporal retries them. `service` names the server in messages and contains no password.
 */
export function classifyPostgresError(error: unknown, service: string): Error {
  if (error instanceof ApplicationFailure) return error;

  const network = classifyNetworkError(error, service);
  if (network) return network;

  const cause = error instanceof Error ? error : undefined;
  const detail = cause?.message ?? String(error);
  const code = errorCode(error);

  if (code === SqlState.INVALID_PASSWORD || code === SqlState.INVALID_AUTHORIZATION) {
    return permanentFailure(
      ErrorType.PROVIDER_AUTHENTICATION,
      `${service} rejected the login (${detail}). Check the user name and password in POSTGRES_URLS.`,
      cause,
    );
  }
  if (code === SqlState.INSUFFICIENT_PRIVILEGE) {
    return permanentFailure(
      ErrorType.CONFIGURATION,
      `${service} denied a privilege (${detail}). Grant the user in POSTGRES_URLS CREATEDB, and CREATEROLE when ` +
        'POSTGRES_ROLE_PER_USER is true.',
      cause,
    );
  }
  if (code === SqlState.INVALID_CATALOG_NAME) {
    return permanentFailure(
      ErrorType.CONFIGURATION,
      `${service} has no such database (${detail}). Check the database name in POSTGRES_URLS.`,
      cause,
    );
  }
  if (code !== undefined && TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) {
    return providerUnavailable(`${service} failed temporarily (SQLSTATE ${code}: ${detail}).`, cause);
  }
  // pg reports a dropped connection with an error that has no code.
  if (cause && code === undefined && /connection terminated|connection ended/i.test(cause.message)) {
    return providerUnavailable(`${service} closed the connection (${detail}). Temporal retries the activity.`, cause);
  }
  return cause ?? new Error(detail);
}

function isDuplicate(error: unknown): boolean {
  const code = errorCode(error) ?? errorCode(error instanceof ApplicationFailure ? error.cause : undefined);
  return (
    code === SqlState.DUPLICATE_DATABASE || code === SqlState.DUPLICATE_OBJECT || code === SqlState.UNIQUE_VIOLATION
  );
}

export function databaseNotFound(ref: DatabaseRef): ApplicationFailure {
  return ApplicationFailure.create({
    type: ProviderErrorType.DATABASE_NOT_FOUND,
    nonRetryable: true,
    message: `Database not found: ${ref.location}. Run ensureDatabase before applying the schema.`,
  });
}

/** Validates the migration list as configuration, so that a bad list fails the activity without retries. */
export function sortMigrationsOrFail(migrations: Migration[]): Migration[] {
  try {
    return sortMigrations(migrations);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw permanentFailure(ErrorType.CONFIGURATION, message, error instanceof Error ? error : undefined);
  }
}

/** Validates the `servers` option. Throws a plain Error, because it runs at start, before any activity. */
function parseServers(entries: Readonly<Record<string, string>>): Map<string, Server> {
  const servers = new Map<string, Server>();
  for (const [key, value] of Object.entries(entries)) {
    if (key !== DEFAULT_SERVER_KEY) validateRegion(key);

    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // The value may contain a password, so the message names only the key.
      throw new Error(`Invalid Postgres URL for ${key}: expected postgres://user:password@host:port/database.`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new Error(`Invalid Postgres URL for ${key}: the scheme must be postgres:// or postgresql://.`);
    }
    if (url.hostname === '') {
      throw new Error(`Invalid Postgres URL for ${key}: the host is missing.`);
    }
    servers.set(key, { url, label: `${url.hostname}:${url.port || '5432'}` });
  }

  if (servers.size === 0) {
    throw new Error(`No Postgres servers configured: set POSTGRES_URLS, such as ${DEFAULT_SERVER_KEY}=postgres://...`);
  }
  return servers;
}

/** Connects a single client named `per-user-db`; on failure the client is closed and the driver's error rethrown. */
export async function connectClient(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ application_name: 'per-user-db', ...config });
  // A connection that fails later is reported by the query that uses it, so this listener only prevents a crash.
  client.on('error', () => undefined);

  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
