import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';

import { migrationsFor, type Migration } from '../../src/activities/migrations';
import { ProviderErrorType, type DatabaseProvider } from '../../src/activities/providers/provider';
import { createSqliteProvider } from '../../src/activities/providers/sqlite';
import { ErrorType, type CreateDatabaseResult, type DatabaseRef, type SeedSchemaResult } from '../../src/shared';

const USER_ID = 'user_2abcDEF123';
const REGION = 'eu-west-1';
const SQLITE_MIGRATIONS = migrationsFor('sqlite');

const FIRST: Migration = { version: 1, name: 'create_a', sql: 'CREATE TABLE a (x INTEGER);' };
const SECOND: Migration = { version: 2, name: 'create_b', sql: 'CREATE TABLE b (y INTEGER);' };
const THIRD: Migration = { version: 3, name: 'create_c', sql: 'CREATE TABLE c (z INTEGER);' };

/**
 * Temporary folder of one test. The provider's dataDir sits two levels below it, so a path that escapes dataDir
 * still lands here.
 */
let root: string;
let dataDir: string;
let provider: DatabaseProvider;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-sqlite-'));
  dataDir = path.join(root, 'service', 'data');
  provider = createSqliteProvider({ dataDir });
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Lists every file and folder under `dir`, relative to it, with forward slashes. */
function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .map((entry) => String(entry).split(path.sep).join('/'))
    .sort();
}

function regionFiles(region = REGION): string[] {
  return listTree(path.join(dataDir, 'databases', region));
}

function openTenant(ref: DatabaseRef): Database.Database {
  return new Database(path.join(dataDir, ref.location), { fileMustExist: true });
}

function tableNames(ref: DatabaseRef): string[] {
  const db = openTenant(ref);
  try {
    const rows = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    return rows.map((row) => row.name);
  } finally {
    db.close();
  }
}

function recordedMigrations(ref: DatabaseRef): { version: number; name: string; applied_at: string }[] {
  const db = openTenant(ref);
  try {
    return db
      .prepare<[], { version: number; name: string; applied_at: string }>(
        'SELECT * FROM schema_migrations ORDER BY version',
      )
      .all();
  } finally {
    db.close();
  }
}

function userVersion(ref: DatabaseRef): unknown {
  const db = openTenant(ref);
  try {
    return db.pragma('user_version', { simple: true });
  } finally {
    db.close();
  }
}

async function createDatabase(userId = USER_ID, region = REGION): Promise<DatabaseRef> {
  const { ref } = await provider.ensureDatabase(userId, region);
  return ref;
}

/** Asserts that `promise` rejects with a non-retryable ApplicationFailure of `type`, and returns its message. */
async function assertFailure(promise: Promise<unknown>, type: string): Promise<string> {
  let message = '';
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    message = error.message;
    return true;
  });
  return message;
}

describe('ensureDatabase', () => {
  test('creates then reports existing', async () => {
    const first = await provider.ensureDatabase(USER_ID, REGION);
    const second = await provider.ensureDatabase(USER_ID, REGION);

    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.deepEqual(second.ref, first.ref);
  });

  test('returns the ref of the file', async () => {
    const ref = await createDatabase();

    assert.deepEqual(ref, {
      provider: 'sqlite',
      region: REGION,
      name: USER_ID,
      location: `databases/${REGION}/${USER_ID}.sqlite`,
    });
    assert.ok(fs.statSync(path.join(dataDir, ref.location)).isFile());
  });

  test('enables WAL mode', async () => {
    const ref = await createDatabase();

    const db = openTenant(ref);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  test('10 concurrent calls create one file', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => provider.ensureDatabase(USER_ID, REGION)));

    assert.equal(results.filter((result) => result.created).length, 1);
    for (const result of results) {
      assert.deepEqual(result.ref, results[0]?.ref);
    }
    assert.deepEqual(regionFiles(), [`${USER_ID}.sqlite`]);
  });

  test('concurrent calls in worker threads', async () => {
    const results = await callInWorkers(10, 'ensureDatabase', [USER_ID, REGION]);

    assert.deepEqual(errorsOf(results), []);
    const created = resultsOf<CreateDatabaseResult>(results).filter((result) => result.created);
    assert.equal(created.length, 1);
    assert.deepEqual(regionFiles(), [`${USER_ID}.sqlite`]);
  });

  test('separates users and regions', async () => {
    const refs = await Promise.all([
      createDatabase('user_a1', 'eu-west-1'),
      createDatabase('user_b2', 'eu-west-1'),
      createDatabase('user_a1', 'us-east-1'),
    ]);

    assert.equal(new Set(refs.map((ref) => ref.location)).size, 3);
    assert.deepEqual(listTree(path.join(dataDir, 'databases')), [
      'eu-west-1',
      'eu-west-1/user_a1.sqlite',
      'eu-west-1/user_b2.sqlite',
      'us-east-1',
      'us-east-1/user_a1.sqlite',
    ]);
  });

  test('rejects a folder at the path', async () => {
    fs.mkdirSync(path.join(dataDir, 'databases', REGION, `${USER_ID}.sqlite`), { recursive: true });

    await assert.rejects(provider.ensureDatabase(USER_ID, REGION), /not a regular file/);
  });
});

describe('applySchema', () => {
  test('creates the seeded tables', async () => {
    const ref = await createDatabase();

    await provider.applySchema(ref, SQLITE_MIGRATIONS);

    const tables = tableNames(ref);
    assert.ok(tables.includes('settings'));
    assert.ok(tables.includes('documents'));
    assert.ok(tables.includes('tags'));
    assert.ok(tables.includes('document_tags'));
    assert.ok(tables.includes('schema_migrations'));
  });

  test('records each version', async () => {
    const ref = await createDatabase();

    const result = await provider.applySchema(ref, [SECOND, FIRST]);

    assert.deepEqual(result, { version: 2, applied: [1, 2] });
    const records = recordedMigrations(ref);
    assert.deepEqual(
      records.map((record) => [record.version, record.name]),
      [
        [1, 'create_a'],
        [2, 'create_b'],
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(records[0]?.applied_at ?? '')));
    assert.equal(userVersion(ref), 2);
  });

  test('second run applies nothing', async () => {
    const ref = await createDatabase();
    await provider.applySchema(ref, SQLITE_MIGRATIONS);

    const again = await provider.applySchema(ref, SQLITE_MIGRATIONS);

    assert.deepEqual(again.applied, []);
    assert.equal(again.version, SQLITE_MIGRATIONS.at(-1)?.version);
    assert.equal(recordedMigrations(ref).length, SQLITE_MIGRATIONS.length);
  });

  test('applies only new migrations', async () => {
    const ref = await createDatabase();
    await provider.applySchema(ref, [FIRST]);

    const result = await provider.applySchema(ref, [FIRST, SECOND, THIRD]);

    assert.deepEqual(result, { version: 3, applied: [2, 3] });
  });

  test('empty list keeps version 0', async () => {
    const ref = await createDatabase();

    const result = await provider.applySchema(ref, []);

    assert.deepEqual(result, { version: 0, applied: [] });
  });

  test('rolls back a failing migration', async () => {
    const ref = await createDatabase();
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'CREATE TABLE half_done (x); SELECT * FROM no_such_table;',
    };

    await assert.rejects(provider.applySchema(ref, [FIRST, broken]), /no such table/);

    assert.equal(userVersion(ref), 1);
    assert.deepEqual(
      recordedMigrations(ref).map((record) => record.version),
      [1],
    );
    assert.ok(!tableNames(ref).includes('half_done'));
  });

  test('rejects an out-of-order migration', async () => {
    const ref = await createDatabase();
    await provider.applySchema(ref, [FIRST, THIRD]);

    const message = await assertFailure(provider.applySchema(ref, [FIRST, SECOND, THIRD]), ErrorType.CONFIGURATION);

    assert.match(message, /Migration 2 \(create_b\) is older than version 3/);
    assert.ok(!tableNames(ref).includes('b'));
  });

  test('rejects duplicate versions', async () => {
    const ref = await createDatabase();

    await assertFailure(provider.applySchema(ref, [FIRST, { ...SECOND, version: 1 }]), ErrorType.CONFIGURATION);

    assert.equal(userVersion(ref), 0);
  });

  test('rejects a missing database', async () => {
    const ref: DatabaseRef = {
      provider: 'sqlite',
      region: REGION,
      name: USER_ID,
      location: `databases/${REGION}/${USER_ID}.sqlite`,
    };

    await assertFailure(provider.applySchema(ref, SQLITE_MIGRATIONS), ProviderErrorType.DATABASE_NOT_FOUND);

    assert.deepEqual(listTree(root), []);
  });

  test('concurrent calls in one process', async () => {
    const ref = await createDatabase();

    const results = await Promise.all(Array.from({ length: 5 }, () => provider.applySchema(ref, SQLITE_MIGRATIONS)));

    const applied = results.flatMap((result) => result.applied).sort((a, b) => a - b);
    assert.deepEqual(
      applied,
      SQLITE_MIGRATIONS.map((migration) => migration.version),
    );
    for (const result of results) {
      assert.equal(result.version, SQLITE_MIGRATIONS.at(-1)?.version);
    }
  });

  test('concurrent calls in worker threads', async () => {
    const ref = await createDatabase();
    // The second migration writes enough rows to take a noticeable time. The other threads reach it while it runs,
    // so they wait on its lock and must skip it once they get the lock.
    const slow: Migration = {
      version: 2,
      name: 'fill_numbers',
      sql: `CREATE TABLE numbers (n INTEGER);
            WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200000)
            INSERT INTO numbers SELECT n FROM seq;`,
    };
    const migrations = [FIRST, slow, THIRD];

    const results = await callInWorkers(4, 'applySchema', [ref, migrations]);

    assert.deepEqual(errorsOf(results), []);
    const applied = resultsOf<SeedSchemaResult>(results)
      .flatMap((result) => result.applied)
      .sort((a, b) => a - b);
    assert.deepEqual(applied, [1, 2, 3]);
    assert.equal(recordedMigrations(ref).length, 3);
    assert.equal(userVersion(ref), 3);
  });
});

type WorkerResult = { result: unknown } | { error: string };

/**
 * Calls one provider method in `count` worker threads, each with its own provider and connections. A shared gate
 * releases all threads at once, so that their calls overlap.
 */
async function callInWorkers(count: number, method: keyof DatabaseProvider, args: unknown[]): Promise<WorkerResult[]> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    require(workerData.tsxRegister);
    const { createSqliteProvider } = require(workerData.providerModule);
    const provider = createSqliteProvider({ dataDir: workerData.dataDir });
    parentPort.postMessage('ready');
    Atomics.wait(workerData.gate, 0, 0);
    provider[workerData.method](...workerData.args).then(
      (result) => parentPort.postMessage({ result }),
      (error) => parentPort.postMessage({ error: String(error && error.message) }),
    );`;
  const workerData = {
    tsxRegister: require.resolve('tsx/cjs'),
    providerModule: require.resolve('../../src/activities/providers/sqlite'),
    dataDir,
    gate,
    method,
    args,
  };

  const workers = Array.from({ length: count }, () => new Worker(source, { eval: true, workerData }));
  try {
    const messages = workers.map((worker) => nextMessages(worker, 2));
    await Promise.all(workers.map((worker) => firstMessage(worker)));

    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);

    return (await Promise.all(messages)).map((pair) => pair[1] as WorkerResult);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function resultsOf<T>(results: WorkerResult[]): T[] {
  return results.flatMap((result) => ('result' in result ? [result.result as T] : []));
}

function errorsOf(results: WorkerResult[]): string[] {
  return results.flatMap((result) => ('error' in result ? [result.error] : []));
}

function firstMessage(worker: Worker): Promise<unknown> {
  return nextMessages(worker, 1).then((messages) => messages[0]);
}

function nextMessages(worker: Worker, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const received: unknown[] = [];
    worker.on('message', (message: unknown) => {
      received.push(message);
      if (received.length === count) resolve(received);
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`Worker exited with code ${code} before sending ${count} messages.`)),
    );
  });
}

describe('describe', () => {
  test('reports existence and version', async () => {
    const ref: DatabaseRef = {
      provider: 'sqlite',
      region: REGION,
      name: USER_ID,
      location: `databases/${REGION}/${USER_ID}.sqlite`,
    };

    assert.deepEqual(await provider.describe(ref), { exists: false });
    assert.deepEqual(listTree(root), []);

    await provider.ensureDatabase(USER_ID, REGION);
    assert.deepEqual(await provider.describe(ref), { exists: true, schemaVersion: 0 });

    await provider.applySchema(ref, [FIRST, SECOND]);
    assert.deepEqual(await provider.describe(ref), { exists: true, schemaVersion: 2 });

    await provider.deleteDatabase(ref);
    assert.deepEqual(await provider.describe(ref), { exists: false });
  });
});

describe('deleteDatabase', () => {
  test('deletes once then reports absent', async () => {
    const ref = await createDatabase();
    await provider.applySchema(ref, SQLITE_MIGRATIONS);

    const first = await provider.deleteDatabase(ref);
    const second = await provider.deleteDatabase(ref);

    assert.deepEqual(first, { deleted: true });
    assert.deepEqual(second, { deleted: false });
    assert.deepEqual(regionFiles(), []);
  });

  test('removes companion files', async () => {
    const ref = await createDatabase();
    const filePath = path.join(dataDir, ref.location);
    fs.writeFileSync(`${filePath}-wal`, 'leftover');
    fs.writeFileSync(`${filePath}-shm`, 'leftover');

    await provider.deleteDatabase(ref);

    assert.deepEqual(regionFiles(), []);
  });

  test('leaves other users alone', async () => {
    const ref = await createDatabase();
    await createDatabase('user_other1');

    await provider.deleteDatabase(ref);

    assert.deepEqual(regionFiles(), ['user_other1.sqlite']);
  });
});

describe('input validation', () => {
  const invalidUserIds: [label: string, value: unknown][] = [
    ['path traversal', '../etc'],
    ['prefix only', 'user_'],
    ['slash', 'user_abc/def'],
    ['upper-case prefix', 'USER_abc'],
    ['empty', ''],
    ['200 characters', `user_${'a'.repeat(195)}`],
    ['NUL byte', 'user_abc\0'],
    ['trailing newline', 'user_abc\n'],
    ['non-ASCII letter', 'user_abcé'],
    ['Cyrillic look-alike', 'user_\u0430bc'],
    ['number', 42],
    ['undefined', undefined],
  ];

  for (const [label, value] of invalidUserIds) {
    test(`rejects user id: ${label}`, async () => {
      const message = await assertFailure(provider.ensureDatabase(value as string, REGION), ErrorType.INVALID_INPUT);

      assert.match(message, /^Invalid user id/);
      assert.deepEqual(listTree(root), []);
    });
  }

  test('long user id is not quoted', async () => {
    const value = `user_${'a'.repeat(195)}`;

    const message = await assertFailure(provider.ensureDatabase(value, REGION), ErrorType.INVALID_INPUT);

    assert.ok(!message.includes(value));
    assert.match(message, /200 characters, too long/);
  });

  test('control character is not quoted', async () => {
    const message = await assertFailure(provider.ensureDatabase('user_abc\0', REGION), ErrorType.INVALID_INPUT);

    assert.ok(!message.includes('\0'));
    assert.match(message, /control or non-ASCII/);
  });

  const invalidRegions: [label: string, value: unknown][] = [
    ['path traversal', '../x'],
    ['upper case', 'EU-WEST-1'],
    ['empty', ''],
    ['slash', 'eu-west-1/..'],
    ['null', null],
  ];

  for (const [label, value] of invalidRegions) {
    test(`rejects region: ${label}`, async () => {
      const message = await assertFailure(provider.ensureDatabase(USER_ID, value as string), ErrorType.INVALID_INPUT);

      assert.match(message, /^Invalid region/);
      assert.deepEqual(listTree(root), []);
    });
  }

  const tamperedRefs: [label: string, change: Partial<DatabaseRef>][] = [
    ['location outside', { location: '../../../etc/passwd' }],
    ['location of another user', { location: `databases/${REGION}/user_other1.sqlite` }],
    ['other provider', { provider: 'postgres' }],
    ['invalid name', { name: '../user_other1' }],
    ['invalid region', { region: '..' }],
  ];

  for (const [label, change] of tamperedRefs) {
    test(`rejects ref: ${label}`, async () => {
      const ref = await createDatabase();
      await createDatabase('user_other1');
      const tampered = { ...ref, ...change };

      await assertFailure(provider.describe(tampered), ErrorType.INVALID_INPUT);
      await assertFailure(provider.applySchema(tampered, SQLITE_MIGRATIONS), ErrorType.INVALID_INPUT);
      await assertFailure(provider.deleteDatabase(tampered), ErrorType.INVALID_INPUT);

      assert.deepEqual(regionFiles(), [`${USER_ID}.sqlite`, 'user_other1.sqlite']);
      assert.equal(userVersion(ref), 0);
    });
  }

  test('rejects empty dataDir', () => {
    assert.throws(() => createSqliteProvider({ dataDir: ' ' }), /Invalid SQLite dataDir/);
  });
});

describe('sqlite setEnabled', () => {
  test('disable hides the file and keeps its rows', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-disable-'));
    try {
      const provider = createSqliteProvider({ dataDir });
      const { ref } = await provider.ensureDatabase('user_2pQfDisableExample0000001', 'eu-west-1');
      await provider.applySchema(ref, migrationsFor('sqlite'));
      const file = path.join(dataDir, ref.location);
      const writer = new Database(file);
      writer.prepare("INSERT INTO settings (key, value) VALUES ('theme', 'dark')").run();
      writer.close();

      await provider.setEnabled?.(ref, false);
      await provider.setEnabled?.(ref, false);
      assert.equal(fs.existsSync(file), false);
      assert.equal(fs.existsSync(`${file}.disabled`), true);

      await provider.setEnabled?.(ref, true);
      await provider.setEnabled?.(ref, true);
      const reader = new Database(file, { readonly: true });
      const row = reader.prepare("SELECT value FROM settings WHERE key = 'theme'").get() as { value: string };
      reader.close();
      assert.equal(row.value, 'dark');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('delete removes a disabled database', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-disable-'));
    try {
      const provider = createSqliteProvider({ dataDir });
      const { ref } = await provider.ensureDatabase('user_2pQfDisableExample0000002', 'eu-west-1');
      await provider.setEnabled?.(ref, false);

      assert.deepEqual(await provider.deleteDatabase(ref), { deleted: true });
      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'databases', 'eu-west-1')), []);
      assert.deepEqual(await provider.deleteDatabase(ref), { deleted: false });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('sqlite leftovers of a killed worker', () => {
  test('stale temporary files are removed', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-stale-'));
    try {
      const provider = createSqliteProvider({ dataDir });
      const userId = 'user_2pQfStaleExample000000001';
      const leftovers = path.join(dataDir, 'databases', 'eu-west-1', '.creating', userId);
      fs.mkdirSync(leftovers, { recursive: true });
      const old = new Date(Date.now() - 60_000);
      for (const name of ['a.tmp', 'a.tmp-journal']) {
        fs.writeFileSync(path.join(leftovers, name), '');
        fs.utimesSync(path.join(leftovers, name), old, old);
      }

      await provider.ensureDatabase(userId, 'eu-west-1');

      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'databases', 'eu-west-1')), [`${userId}.sqlite`]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('fresh leftovers go once the database exists', async () => {
    // The retry after a worker was killed must not leave the killed attempt's file behind.
    const leftovers = path.join(dataDir, 'databases', REGION, '.creating', USER_ID);
    fs.mkdirSync(leftovers, { recursive: true });
    fs.writeFileSync(path.join(leftovers, 'b.tmp'), '');

    assert.equal((await provider.ensureDatabase(USER_ID, REGION)).created, true);
    assert.deepEqual(regionFiles(), [`${USER_ID}.sqlite`]);

    fs.mkdirSync(leftovers, { recursive: true });
    fs.writeFileSync(path.join(leftovers, 'c.tmp'), '');
    assert.equal((await provider.ensureDatabase(USER_ID, REGION)).created, false);
    assert.deepEqual(regionFiles(), [`${USER_ID}.sqlite`]);
  });

  test('fresh files stay while creation fails', async () => {
    // Without a database, a fresh file may belong to a creation that is still running.
    const region = path.join(dataDir, 'databases', REGION);
    const inProgress = path.join(region, '.creating', USER_ID, 'b.tmp');
    fs.mkdirSync(path.dirname(inProgress), { recursive: true });
    fs.writeFileSync(inProgress, '');
    fs.mkdirSync(path.join(region, `${USER_ID}.sqlite`));

    await assert.rejects(provider.ensureDatabase(USER_ID, REGION), /exists but is not a regular file/);

    assert.deepEqual(fs.readdirSync(path.dirname(inProgress)), ['b.tmp']);
  });
});
