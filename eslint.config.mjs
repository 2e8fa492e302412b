// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code is replayed and must be deterministic, so it may not touch the outside world. Node
// built-ins and the packages that do I/O are forbidden there; activity modules may be imported for their
// types only.
const NODE_BUILT_INS = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];
const IO_PACKAGES = [
  'better-sqlite3',
  'maxmind',
  'pino',
  'pino-pretty',
  'express',
  'zod',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.temporal/', 'workflow-bundle-*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test tracks the promises that test() and describe() return itself.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILT_INS.flatMap((name) => [name, `node:${name}`]).map((name) => ({
              name,
              message: 'Workflow code must be deterministic: do I/O in an activity instead.',
            })),
            ...IO_PACKAGES.map((name) => ({
              name,
              message: 'Workflow code must not do I/O: use an activity instead.',
            })),
          ],
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows may import activity types only; call activities through proxyActivities.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
