import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import {
  loadMigrations,
  MIGRATIONS_DIR,
  migrationsFor,
  sortMigrations,
  type Migration,
} from '../../src/activities/migrations';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-migrations-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeFiles(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), content);
  }
}

describe('loadMigrations', () => {
  test('sorts by version', () => {
    writeFiles({
      '0010_add_index.sql': 'CREATE INDEX i ON a (x);',
      '0001_create_a.sql': 'CREATE TABLE a (x);',
      '0003_create_b.sql': 'CREATE TABLE b (y);',
    });

    const migrations = loadMigrations(dir);

    assert.deepEqual(
      migrations.map((migration) => migration.version),
      [1, 3, 10],
    );
    assert.deepEqual(
      migrations.map((migration) => migration.name),
      ['create_a', 'create_b', 'add_index'],
    );
    assert.equal(migrations[0]?.sql, 'CREATE TABLE a (x);');
  });

  test('empty folder returns none', () => {
    assert.deepEqual(loadMigrations(dir), []);
  });

  test('ignores other files and folders', () => {
    writeFiles({ 'README.md': '# notes', '.gitkeep': '', '0001_create_a.sql': 'CREATE TABLE a (x);' });
    fs.mkdirSync(path.join(dir, 'archive.sql'));

    const migrations = loadMigrations(dir);

    assert.deepEqual(
      migrations.map((migration) => migration.name),
      ['create_a'],
    );
  });

  test('rejects duplicate version', () => {
    writeFiles({ '0001_create_a.sql': 'CREATE TABLE a (x);', '0001_create_b.sql': 'CREATE TABLE b (y);' });

    assert.throws(() => loadMigrations(dir), /Duplicate migration version 1: "create_a" and "create_b"/);
  });

  for (const fileName of [
    '1_create_a.sql',
    '0001-create_a.sql',
    '0001_Create_a.sql',
    '0001_.sql',
    '0001__a.sql',
    'abcd_a.sql',
    '0001_a.SQL',
  ]) {
    test(`rejects file name ${fileName}`, () => {
      writeFiles({ [fileName]: 'CREATE TABLE a (x);' });

      assert.throws(() => loadMigrations(dir), /Invalid migration file name/);
    });
  }

  test('rejects version 0000', () => {
    writeFiles({ '0000_create_a.sql': 'CREATE TABLE a (x);' });

    assert.throws(() => loadMigrations(dir), /versions start at 0001/);
  });

  test('rejects empty file', () => {
    writeFiles({ '0001_create_a.sql': ' \n' });

    assert.throws(() => loadMigrations(dir), /is empty/);
  });

  test('rejects missing folder', () => {
    assert.throws(() => loadMigrations(path.join(dir, 'missing')), /Migrations folder not found/);
  });
});

describe('migrationsFor', () => {
  test('MIGRATIONS_DIR is the repo folder', () => {
    assert.equal(MIGRATIONS_DIR, path.resolve(__dirname, '../../migrations'));
  });

  test('loads sqlite migrations', () => {
    const migrations = migrationsFor('sqlite');

    assert.equal(migrations[0]?.version, 1);
    assert.equal(migrations[0]?.name, 'create_tenant_tables');
    assert.match(migrations[0]?.sql ?? '', /CREATE TABLE documents/);
  });

  for (const dialect of ['../sqlite', 'SQLite', 'sqlite/', '']) {
    test(`rejects dialect ${JSON.stringify(dialect)}`, () => {
      assert.throws(() => migrationsFor(dialect), /Invalid dialect/);
    });
  }
});

describe('sortMigrations', () => {
  test('leaves input unchanged', () => {
    const input: Migration[] = [
      { version: 2, name: 'b', sql: 'SELECT 2;' },
      { version: 1, name: 'a', sql: 'SELECT 1;' },
    ];

    const sorted = sortMigrations(input);

    assert.deepEqual(
      sorted.map((migration) => migration.version),
      [1, 2],
    );
    assert.deepEqual(
      input.map((migration) => migration.version),
      [2, 1],
    );
  });

  for (const version of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
    test(`rejects version ${version}`, () => {
      assert.throws(() => sortMigrations([{ version, name: 'bad', sql: 'SELECT 1;' }]), /Invalid migration version/);
    });
  }
});
