// Points the SDK's test environments at the binaries that scripts/setup.mjs installed, falling back to the
// SDK's own download only where they are missing.
import type { EphemeralServerExecutable } from '@temporalio/testing';

import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER, isInstalled } from '../../src/temporal-binaries';

function executable(file: string): EphemeralServerExecutable {
  return isInstalled(file) ? { type: 'existing-path', path: file } : { type: 'cached-download' };
}

export const devServerExecutable = () => executable(TEMPORAL_CLI);
export const testServerExecutable = () => executable(TEMPORAL_TEST_SERVER);
