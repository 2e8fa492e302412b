// Runs the real system in one test process: a Temporal dev server from the installed binary, the main and
// provider workers with the real activities, and the API on a free loopback port. The provider is SQLite
// unless a test sets DATABASE_PROVIDER.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';

import { createActivities } from '../../src/activities';
import { buildActivityDependencies } from '../../src/activities/dependencies';
import type { DatabaseProvider } from '../../src/activities/providers/provider';
import { createApp } from '../../src/api/app';
import { createTemporalProvisioning, createWorkflowStatusReader } from '../../src/api/provisioning';
import { openCatalog } from '../../src/catalog/open';
import { signHookdeck } from '../../src/api/signature';
import { loadCommonConfig } from '../../src/config';
import { ALL_SEARCH_ATTRIBUTES, type ProvisioningStatus, statusQuery } from '../../src/shared';
import { buildWorkflowBundle } from '../../src/workflow-bundle';
import { createWorkers } from '../../src/workers';
import { devServerExecutable } from './temporal';

export const SIGNING_SECRET = 'test-signing-secret';
export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/fixtures/clerk');

export function readFixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES_DIR, name));
}

export interface RunningSystem {
  env: TestWorkflowEnvironment;
  dataDir: string;
  baseUrl: string;
  taskQueue: string;
  /** Sends a body to the webhook endpoint as Hookdeck would, signed with the test secret. */
  deliver(body: Buffer, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export const STATUS_API_TOKEN = 'test-status-token-0123456789abcdef';

export interface SystemOptions {
  deletionGracePeriodMs?: number;
  /**
   * More configuration variables for the workers, such as DATABASE_PROVIDER, POSTGRES_URLS or
   * PROVIDER_MAX_CALLS_PER_SECOND. DATA_DIR and NODE_ENV are always the test's own.
   */
  env?: Record<string, string>;
  /** Replaces the configured provider, for example with a wrapper that records its calls. */
  wrapProvider?: (provider: DatabaseProvider) => DatabaseProvider;
}

// Runtime.install throws when called twice in one process, and a test file may start one system per provider.
let runtimeInstalled = false;

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  if (!runtimeInstalled) {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
    runtimeInstalled = true;
  }
  const logger = pino({ level: 'silent' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-e2e-'));
  const config = loadCommonConfig({ ...options.env, DATA_DIR: dataDir, NODE_ENV: 'test' });
  const taskQueue = config.temporal.taskQueue;

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: devServerExecutable(), ip: '127.0.0.1', searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });

  // Built as the worker builds it, in a child process, so every end-to-end test covers that path.
  const workflowBundle = await buildWorkflowBundle();
  const built = await buildActivityDependencies(config, logger);
  const dependencies = options.wrapProvider ? { ...built, provider: options.wrapProvider(built.provider) } : built;
  const workers = await createWorkers({
    connection: env.nativeConnection,
    taskQueue,
    workflows: { workflowBundle },
    activities: createActivities(dependencies),
    providerMaxCallsPerSecond: config.providerMaxCallsPerSecond,
    localProviderCalls: dependencies.provider.onWorkerHost === true,
  });
  const workersRun = workers.run();

  const apiCatalog = openCatalog(config);
  const app = createApp({
    hookdeck: { signingSecret: SIGNING_SECRET, requireVerified: true },
    maxBodyBytes: 1024 * 1024,
    seedSchema: true,
    deletionGracePeriodMs: options.deletionGracePeriodMs,
    provisioning: createTemporalProvisioning(env.client, { taskQueue, timeoutMs: 5000 }),
    tenants: {
      token: STATUS_API_TOKEN,
      catalog: apiCatalog,
      queryWorkflow: createWorkflowStatusReader(env.client, { timeoutMs: 5000, onError: () => undefined }),
    },
    logger,
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    env,
    dataDir,
    baseUrl,
    taskQueue,
    deliver(body, headers = {}) {
      return fetch(`${baseUrl}/webhooks/clerk`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-hookdeck-signature': signHookdeck(body, SIGNING_SECRET),
          'x-hookdeck-verified': 'true',
          ...headers,
        },
      });
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      workers.shutdown();
      await workersRun;
      await dependencies.provider.close?.();
      await apiCatalog.close();
      await dependencies.catalog.close();
      await env.teardown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Lists every file below `dir`, relative to it, so a test can check that nothing extra was created. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((entry) => fs.statSync(path.join(dir, entry)).isFile())
    .map((entry) => entry.split(path.sep).join('/'))
    .sort();
}

/**
 * Polls a user's status query until provisioning is ready, and returns that status. Workflows stay open after
 * provisioning, until the user is deleted, so their result is not there to wait for.
 */
export async function waitForReady(client: Client, userId: string, timeoutMs = 30_000): Promise<ProvisioningStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status: ProvisioningStatus | undefined;
    try {
      status = await client.workflow.getHandle(userId).query(statusQuery);
    } catch (error) {
      // Right after the start, the workflow may not have run its first task yet.
      if (Date.now() > deadline) throw error;
    }
    if (status?.step === 'ready') return status;
    if (status?.step === 'failed') throw new Error(`provisioning failed: ${status.error ?? 'no message'}`);
    if (Date.now() > deadline) throw new Error(`provisioning did not become ready; step ${status?.step ?? 'unknown'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
