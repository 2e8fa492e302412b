// The contract that every database backend (SQLite now, Postgres or Xata later) implements for the activities.
import type { CreateDatabaseResult, DatabaseRef, SeedSchemaResult } from '../../shared';
import type { Migration } from '../migrations';

/** Error types that providers raise as non-retryable ApplicationFailures, in addition to the shared ErrorType. */
export const ProviderErrorType = {
  /** The ref names a database that does not exist, so schema changes cannot be applied to it. */
  DATABASE_NOT_FOUND: 'DatabaseNotFound',
} as const;
export type ProviderErrorType = (typeof ProviderErrorType)[keyof typeof ProviderErrorType];

/** Existence and schema version of one tenant database. */
export interface DatabaseDescription {
  exists: boolean;
  /** Highest applied migration version, or 0 before the first. Present only when `exists` is true. */
  schemaVersion?: number;
}

/**
 * One backend that creates and migrates one database per user.
 *
 * Every method may run again after a crash or timeout, because Temporal retries activities, so each must be
 * idempotent. Invalid user ids, regions or refs are rejected with a non-retryable `InvalidInput` ApplicationFailure.
 */
export interface DatabaseProvider {
  /** Value of `DatabaseRef.provider` in the refs that this provider returns, such as `sqlite`. */
  readonly name: string;
  /** SQL dialect of the migrations that `applySchema` accepts, which is also the subfolder of `migrations/`. */
  readonly dialect: string;
  /**
   * True when the databases live on the worker's own disk, so a call takes milliseconds and the workflow may run
   * it as a local activity. Remote providers leave it unset: their calls stay regular activities, whose attempts
   * and last failure the Web UI shows during an outage.
   */
  readonly onWorkerHost?: boolean;

  /** Creates the user's database in `region`. An existing one is success with `created: false` and the same ref. */
  ensureDatabase(userId: string, region: string): Promise<CreateDatabaseResult>;

  /**
   * Applies the migrations that the database has not recorded yet, in version order, each in its own transaction.
   * Concurrent calls apply each migration once. Rejects with `DatabaseNotFound` when the database does not exist.
   */
  applySchema(ref: DatabaseRef, migrations: Migration[]): Promise<SeedSchemaResult>;

  /** Reports whether the database exists and, if it does, its schema version. */
  describe(ref: DatabaseRef): Promise<DatabaseDescription>;

  /** Deletes the database and all of its data. Returns `deleted: false` when it did not exist. */
  deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }>;

  /**
   * Turns access to the database off or back on while keeping its data, for the grace period after a deletion
   * request. Idempotent. A provider without it leaves the database usable until it is deleted.
   */
  setEnabled?(ref: DatabaseRef, enabled: boolean): Promise<void>;

  /** Releases connections or clients that the provider keeps open between calls. */
  close?(): Promise<void>;
}
