// Versioned schema migrations, read from one folder of `.sql` files per SQL dialect.
import fs from 'node:fs';
import path from 'node:path';

/** One schema change. A provider applies each migration once and in ascending `version` order. */
export interface Migration {
  /** Positive integer taken from the file name, such as 1 for `0001_create_tenant_tables.sql`. */
  version: number;
  /** The file name without its version prefix and `.sql` extension, such as `create_tenant_tables`. */
  name: string;
  /** SQL statements, which run inside a transaction that the provider opens and so must not contain BEGIN or COMMIT. */
  sql: string;
}

/** The repository's `migrations` folder, which contains one subfolder per dialect. */
export const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/** Maximum version: the largest signed 32-bit integer, the type of SQLite's `user_version` and Postgres `integer`. */
const MAX_VERSION = 2_147_483_647;

const MIGRATION_FILE_PATTERN = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;
const DIALECT_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Reads the migrations in `dir` and returns them sorted by version.
 *
 * Every file whose name ends in `.sql` (in any letter case) must be named `NNNN_name.sql`, with four digits and a
 * name of lowercase letters, digits and underscores. Other files, such as a README, are ignored, and so are
 * subfolders. Versions may have gaps. Throws on a missing folder, a misnamed or empty `.sql` file, or two files with
 * the same version.
 */
export function loadMigrations(dir: string): Migration[] {
  const entries = readFolder(dir);
  const migrations: Migration[] = [];

  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.toLowerCase().endsWith('.sql')) continue;

    migrations.push(readMigrationFile(dir, entry.name));
  }

  return sortMigrations(migrations);
}

/** Reads the migrations for a dialect, such as `sqlite`, from its subfolder of MIGRATIONS_DIR. */
export function migrationsFor(dialect: string): Migration[] {
  if (!DIALECT_PATTERN.test(dialect)) {
    throw new Error(
      `Invalid dialect ${JSON.stringify(dialect)}: use lowercase letters, digits and hyphens, such as "sqlite".`,
    );
  }

  return loadMigrations(path.join(MIGRATIONS_DIR, dialect));
}

/**
 * Returns a copy of `migrations` sorted by version.
 * Throws if a version is not an integer from 1 to MAX_VERSION or two migrations share a version.
 */
export function sortMigrations(migrations: readonly Migration[]): Migration[] {
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version < 1 || migration.version > MAX_VERSION) {
      throw new Error(
        `Invalid migration version ${String(migration.version)} for "${migration.name}": ` +
          `use an integer from 1 to ${MAX_VERSION}.`,
      );
    }
  }

  const sorted = [...migrations].sort((a, b) => a.version - b.version);

  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (previous && current && previous.version === current.version) {
      throw new Error(
        `Duplicate migration version ${current.version}: "${previous.name}" and "${current.name}". ` +
          'Give each migration its own version.',
      );
    }
  }

  return sorted;
}

function readFolder(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') {
      throw new Error(`Migrations folder not found: ${dir}. Create it, or check the dialect name.`);
    }
    throw error;
  }
}

function readMigrationFile(dir: string, fileName: string): Migration {
  const match = MIGRATION_FILE_PATTERN.exec(fileName);
  const digits = match?.[1];
  const name = match?.[2];
  if (digits === undefined || name === undefined) {
    throw new Error(
      `Invalid migration file name "${fileName}" in ${dir}: expected NNNN_name.sql, ` +
        'with four digits and a name of lowercase letters, digits and underscores.',
    );
  }

  const version = Number(digits);
  if (version < 1) {
    throw new Error(
      `Invalid migration file name "${fileName}" in ${dir}: versions start at 0001, because 0 means no schema.`,
    );
  }

  const sql = fs.readFileSync(path.join(dir, fileName), 'utf8');
  if (sql.trim() === '') {
    throw new Error(`Migration file "${fileName}" in ${dir} is empty.`);
  }

  return { version, name, sql };
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
