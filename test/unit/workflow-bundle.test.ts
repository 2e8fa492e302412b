// The worker bundles its workflow code in a child process, which needs the parent's TypeScript loader and nothing
// else from its Node options.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loaderArguments } from '../../src/workflow-bundle';

test('keeps tsx loader, drops profiling options', () => {
  assert.deepEqual(loaderArguments(['--import', 'tsx', '--cpu-prof', '--inspect=9229', '--cpu-prof-dir', '/tmp/p']), [
    '--import',
    'tsx',
  ]);
});

test('keeps tsx command loader pair', () => {
  const execArgv = ['--require', '/app/tsx/preflight.cjs', '--import', 'file:///app/tsx/loader.mjs'];
  assert.deepEqual(loaderArguments(execArgv), execArgv);
});

test('keeps --name=value loader form', () => {
  assert.deepEqual(loaderArguments(['--max-old-space-size=256', '--import=tsx', '-r', 'dotenv/config']), [
    '--import=tsx',
    '-r',
    'dotenv/config',
  ]);
});

test('compiled code needs no loader', () => {
  assert.deepEqual(loaderArguments([]), []);
});
