// Tests the check behind the crash and duplicates tests, which must see every leftover at any depth.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { checkDatabases } from '../../bench/lib/system';

test('database check finds nested leftovers', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-check-'));
  try {
    const region = path.join(dataDir, 'databases', 'eu-west-1');
    fs.mkdirSync(path.join(region, '.creating', 'user_b'), { recursive: true });
    fs.mkdirSync(path.join(region, '.creating', 'user_c'), { recursive: true });
    fs.mkdirSync(path.join(dataDir, 'databases', 'us-east-1', '.creating'), { recursive: true });
    fs.writeFileSync(path.join(region, 'user_a.sqlite'), '');
    fs.writeFileSync(path.join(region, 'user_a.sqlite-wal'), '');
    fs.writeFileSync(path.join(region, '.creating', 'user_b', 'x.tmp'), '');
    fs.writeFileSync(path.join(region, '.creating', 'user_b', 'x.tmp-journal'), '');

    assert.deepEqual(checkDatabases(dataDir, ['user_a', 'user_b']), {
      once: 1,
      missing: 1,
      duplicated: 0,
      temporaryFiles: 1,
      otherFiles: [
        'eu-west-1/.creating/user_b/x.tmp-journal',
        'eu-west-1/.creating/user_c/',
        'eu-west-1/user_a.sqlite-wal',
        'us-east-1/.creating/',
      ],
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
