import assert from 'node:assert/strict';
import path from 'node:path';

import { ConfigError } from '../../src/config';

/** A fixed working folder, so that resolved paths in assertions do not depend on where the tests run. */
export const CONFIG_CWD = path.resolve('/srv/per-user-db');

/** Runs `load` and returns the ConfigError it throws. Fails the test when `load` returns or throws another error. */
export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, but the configuration loaded');
}
