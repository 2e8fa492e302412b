#!/usr/bin/env node
// Runs every test file with Node's test runner and ends with one plain summary line,
// "N passed, N failed", which CI reads whatever reporter prints above it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Fast, isolated tests first; the end-to-end files start real servers.
const SUITES = ['test/unit', 'test/workflow', 'test/e2e'];

const requested = process.argv.slice(2);
const files = requested.length
  ? requested
  : SUITES.flatMap((dir) =>
      fs.existsSync(path.join(root, dir))
        ? fs
            .readdirSync(path.join(root, dir))
            .filter((name) => name.endsWith('.test.ts'))
            .sort()
            .map((name) => `${dir}/${name}`)
        : [],
    );

// The Postgres-backed tests need a server. Where the Postgres binaries are installed, start the private test
// cluster, so that `npm test` runs every test; elsewhere those tests skip, or fail under CI=true.
const env = { ...process.env, NODE_ENV: 'test' };
if (!env.PER_USER_DB_TEST_POSTGRES_URL) {
  const started = spawnSync('bash', [path.join(root, 'scripts', 'start-test-postgres.sh')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (started.status === 0 && started.stdout.trim()) {
    env.PER_USER_DB_TEST_POSTGRES_URL = started.stdout.trim();
  } else {
    process.stderr.write('[tests] no test Postgres server: the Postgres provider tests will be skipped\n');
  }
}

const tapFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-tests-')), 'results.tap');
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=1',
  '--test-timeout=180000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...files,
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });

const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
const count = (label) => Number(tap.match(new RegExp(`^# ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
