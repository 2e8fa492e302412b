// Embedded SQLite provider: one database file per user at <dataDir>/databases/<region>/<userId>.sqlite.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';

import { ErrorType, type CreateDatabaseResult, type DatabaseRef, type SeedSchemaResult } from '../../shared';
import { sortMigrations, type Migration } from '../migrations';
import { invalidInput, validateRegion, validateUserId } from './names';
import { ProviderErrorType, type DatabaseDescription, type DatabaseProvider } from './provider';

export interface SqliteProviderOptions {
  /** Folder that contains the `databases` folder, which is created on first use. */
  dataDir: string;
  /**
   * Maximum time in ms that a connection waits for a lock held by another connection, such as a concurrent
   * `applySchema`, before it fails with SQLITE_BUSY. Temporal then retries the activity.
   */
  busyTimeoutMs?: number;
}

const PROVIDER_NAME = 'sqlite';
const DIALECT = 'sqlite';
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** Files that SQLite keeps next to a database: the WAL, its shared-memory index and the rollback journal. */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'];

/** Folder beside the databases of a region that contains the files of creations still in progress. */
const TEMPORARY_FOLDER = '.creating';

/**
 * Age after which a temporary file belongs to a creation that died with its worker. Creating a file takes
 * milliseconds, so a live concurrent creation is never this old.
 */
const STALE_TEMPORARY_FILE_MS = 10_000;

/** Added to a database's file name while deletion is pending, so the data stays but is out of use. */
const DISABLED_SUFFIX = '.disabled';

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`;

/** A validated ref and the absolute path of its file. */
interface DatabaseFile {
  ref: DatabaseRef;
  path: string;
}

export function createSqliteProvider(options: SqliteProviderOptions): DatabaseProvider {
  if (options.dataDir.trim() === '') {
    throw new Error('Invalid SQLite dataDir: it is empty. Set it to the folder that should contain the databases.');
  }

  const databasesDir = path.resolve(options.dataDir, 'databases');
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;

  function resolveFile(userId: unknown, region: unknown): DatabaseFile {
    const name = validateUserId(userId);
    const validRegion = validateRegion(region);
    const location = path.posix.join('databases', validRegion, `${name}.sqlite`);
    // NOTE: user ids mix upper- and lower-case letters, so on a case-insensitive file system (the macOS and Windows
    // defaults) two ids that differ only in letter case would share one file.
    const filePath = path.join(databasesDir, validRegion, `${name}.sqlite`);

    // The name checks already exclude separators and dots. This second check keeps a future change to those
    // patterns from opening a path outside the databases folder.
    const relative = path.relative(databasesDir, filePath);
    if (relative === '' || path.isAbsolute(relative) || relative.split(path.sep)[0] === '..') {
      throw invalidInput(`Invalid database path: ${location} resolves outside ${databasesDir}.`);
    }

    return { ref: { provider: PROVIDER_NAME, region: validRegion, name, location }, path: filePath };
  }

  /** Validates a ref from activity input and rebuilds its path from the name and region, never from `location`. */
  function resolveRef(ref: DatabaseRef): DatabaseFile {
    if (typeof ref !== 'object' || ref === null) {
      throw invalidInput('Invalid database ref: expected an object with provider, region, name and location.');
    }
    if (ref.provider !== PROVIDER_NAME) {
      throw invalidInput(`Invalid database ref: provider must be "${PROVIDER_NAME}" for the SQLite provider.`);
    }

    const file = resolveFile(ref.name, ref.region);
    if (ref.location !== file.ref.location) {
      throw invalidInput(`Invalid database ref: location must be "${file.ref.location}" for this name and region.`);
    }
    return file;
  }

  function openDatabase(filePath: string): Database.Database {
    // fileMustExist stops better-sqlite3 from creating an empty database where none should be.
    return new Database(filePath, { fileMustExist: true, timeout: busyTimeoutMs });
  }

  async function openExisting(file: DatabaseFile): Promise<Database.Database> {
    if (!(await isRegularFile(file.path))) {
      throw ApplicationFailure.create({
        type: ProviderErrorType.DATABASE_NOT_FOUND,
        nonRetryable: true,
        message: `Database not found: ${file.ref.location}. Run ensureDatabase before applying the schema.`,
      });
    }
    return openDatabase(file.path);
  }

  return {
    name: PROVIDER_NAME,
    dialect: DIALECT,
    onWorkerHost: true,

    async ensureDatabase(userId: string, region: string): Promise<CreateDatabaseResult> {
      const file = resolveFile(userId, region);
      const folder = path.dirname(file.path);
      await fs.mkdir(folder, { recursive: true });

      // The file is built under a temporary name and then hard-linked into place, which fails if the target exists.
      // So concurrent callers never see a half-initialized file and only one of them reports `created: true`.
      // Temporary files live in a folder per user, so that leftovers of a killed worker are found without
      // listing every tenant of the region.
      const temporaryFolder = path.join(folder, TEMPORARY_FOLDER, file.ref.name);
      const temporaryPath = path.join(temporaryFolder, `${randomUUID()}.tmp`);
      let databaseExists = false;
      try {
        // A concurrent caller's cleanup may remove the empty folder between mkdir and open, so try again then.
        for (let attempt = 1; ; attempt += 1) {
          await fs.mkdir(temporaryFolder, { recursive: true });
          try {
            initializeDatabaseFile(temporaryPath, busyTimeoutMs);
            break;
          } catch (error) {
            if (attempt >= 3 || (await fs.stat(temporaryFolder).catch(() => undefined))) throw error;
          }
        }
        await fs.link(temporaryPath, file.path);
        databaseExists = true;
        return { ref: file.ref, created: true };
      } catch (error) {
        // An existing database was linked by another caller, which may also have removed this caller's files (ENOENT
        // or an I/O error). It is complete, because only a fully initialized file is ever linked into place.
        // isRegularFile throws if a folder or symlink is in the way.
        databaseExists = await isRegularFile(file.path);
        if (databaseExists) return { ref: file.ref, created: false };
        throw error;
      } finally {
        await removeDatabaseFiles(temporaryPath);
        // Once the database exists, a creation still running can only end in the catch above. So every temporary
        // file of this user goes, even one that a worker killed a moment ago left. Otherwise only stale ones go.
        await removeTemporaryFiles(temporaryFolder, { onlyStale: !databaseExists });
      }
    },

    async applySchema(ref: DatabaseRef, migrations: Migration[]): Promise<SeedSchemaResult> {
      const file = resolveRef(ref);
      const sorted = sortMigrationsOrFail(migrations);

      const db = await openExisting(file);
      try {
        return applyMigrations(db, sorted);
      } finally {
        db.close();
      }
    },

    async describe(ref: DatabaseRef): Promise<DatabaseDescription> {
      const file = resolveRef(ref);
      if (!(await isRegularFile(file.path))) return { exists: false };

      const db = openDatabase(file.path);
      try {
        return { exists: true, schemaVersion: readSchemaVersion(db) };
      } finally {
        db.close();
      }
    },

    async deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }> {
      const file = resolveRef(ref);

      // Companion files go first. SQLite replays a leftover -wal file into a new database created under the
      // same name, so removing the main file first and crashing would leak old rows into the next one.
      // NOTE: nothing stops a connection in another process from using the files while they are removed.
      const deleted = await removeDatabaseFiles(file.path);
      const disabled = await removeIfPresent(file.path + DISABLED_SUFFIX);
      return { deleted: deleted || disabled };
    },

    // A disabled database is renamed, so that the application can no longer open it by its usual path.
    async setEnabled(ref: DatabaseRef, enabled: boolean): Promise<void> {
      const file = resolveRef(ref);
      const disabledPath = file.path + DISABLED_SUFFIX;
      if (enabled) {
        if (await isRegularFile(disabledPath)) await fs.rename(disabledPath, file.path);
        return;
      }
      if (!(await isRegularFile(file.path))) return;

      // Moving the WAL's pages into the main file first means the companion files can go without losing rows.
      const db = openDatabase(file.path);
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      for (const suffix of COMPANION_SUFFIXES) await removeIfPresent(file.path + suffix);
      await fs.rename(file.path, disabledPath);
    },
  };
}

/** Creates a database file in WAL mode, which lets readers continue while a migration writes. */
function initializeDatabaseFile(filePath: string, busyTimeoutMs: number): void {
  const db = new Database(filePath, { timeout: busyTimeoutMs });
  try {
    // journal_mode=WAL is stored in the file header, so it persists for every later connection.
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new Error(`Failed to enable WAL mode for ${filePath}: SQLite reported journal_mode ${String(mode)}.`);
    }
  } finally {
    db.close();
  }
}

/**
 * Applies each migration that the database has not recorded, in its own `BEGIN IMMEDIATE` transaction.
 * The transaction takes the write lock before it reads `schema_migrations`, so a concurrent caller that applied
 * the same migration first is seen and the migration is skipped.
 */
function applyMigrations(db: Database.Database, migrations: Migration[]): SeedSchemaResult {
  db.transaction(() => db.exec(CREATE_MIGRATIONS_TABLE)).immediate();

  const isRecorded = db.prepare<[number], { version: number }>(
    'SELECT version FROM schema_migrations WHERE version = ?',
  );
  const selectMaxVersion = db.prepare<[], { version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  const insertRecord = db.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );

  const applyOne = db.transaction((migration: Migration): boolean => {
    if (isRecorded.get(migration.version)) return false;

    const latest = selectMaxVersion.get()?.version ?? 0;
    if (migration.version < latest) {
      throw ApplicationFailure.create({
        type: ErrorType.CONFIGURATION,
        nonRetryable: true,
        message:
          `Migration ${migration.version} (${migration.name}) is older than version ${latest}, which the database ` +
          'already has. Give the new migration a version above the latest one.',
      });
    }

    db.exec(migration.sql);
    insertRecord.run(migration.version, migration.name, new Date().toISOString());
    // The version is a validated integer, and PRAGMA statements take no bound parameters.
    db.pragma(`user_version = ${migration.version}`);
    return true;
  });

  const applied: number[] = [];
  for (const migration of migrations) {
    if (applyOne.immediate(migration)) applied.push(migration.version);
  }

  return { version: readSchemaVersion(db), applied };
}

function readSchemaVersion(db: Database.Database): number {
  const version: unknown = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') {
    throw new Error(`Internal error: PRAGMA user_version returned ${typeof version}, expected a number.`);
  }
  return version;
}

/** Validates the migration list as configuration, so that a bad list fails the activity without retries. */
function sortMigrationsOrFail(migrations: Migration[]): Migration[] {
  try {
    return sortMigrations(migrations);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error ? error : undefined;
    throw ApplicationFailure.create({ type: ErrorType.CONFIGURATION, nonRetryable: true, message, cause });
  }
}

/** Returns whether `filePath` is a regular file. Throws if something else, such as a folder or symlink, is there. */
async function isRegularFile(filePath: string): Promise<boolean> {
  let stats;
  try {
    stats = await fs.lstat(filePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }

  if (!stats.isFile()) {
    throw new Error(
      `Invalid database path ${filePath}: it exists but is not a regular file. Move it away, then retry.`,
    );
  }
  return true;
}

/** Deletes a file and returns whether it existed. */
async function removeIfPresent(filePath: string): Promise<boolean> {
  try {
    await fs.unlink(filePath);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Deletes a database file after its companion files and returns whether the database file existed. */
async function removeDatabaseFiles(filePath: string): Promise<boolean> {
  for (const suffix of COMPANION_SUFFIXES) {
    await removeIfPresent(filePath + suffix);
  }
  return removeIfPresent(filePath);
}

/**
 * Removes the files in a user's temporary folder, then the folder and its parent once they are empty. With
 * `onlyStale`, files young enough to belong to a running creation stay. A concurrent creation that loses its file
 * or folder to this reports the existing database, or fails and is retried if there is none.
 */
async function removeTemporaryFiles(folder: string, options: { onlyStale: boolean }): Promise<void> {
  const now = Date.now();
  for (const entry of await fs.readdir(folder).catch(() => [] as string[])) {
    const entryPath = path.join(folder, entry);
    const stats = await fs.lstat(entryPath).catch(() => undefined);
    if (!stats?.isFile()) continue;
    if (options.onlyStale && now - stats.mtimeMs <= STALE_TEMPORARY_FILE_MS) continue;
    await removeIfPresent(entryPath);
  }
  await fs.rmdir(folder).catch(() => undefined);
  await fs.rmdir(path.dirname(folder)).catch(() => undefined);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
