// Deletion in every delivery order, in the time-skipping environment. Deliveries go through the API's
// provisioning service, so the start and signal-with-start options are the ones production uses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

import type { Activities } from '../../src/activities';
import { createTemporalProvisioning, type ProvisioningService } from '../../src/api/provisioning';
import type { TenantStatus } from '../../src/catalog/catalog';
import {
  type DatabaseRef,
  type ProvisionInput,
  type ProvisioningStatus,
  restoreDatabaseSignal,
  searchAttributes,
  statusQuery,
} from '../../src/shared';
import { registerSearchAttributes } from '../../src/temporal';
import { createWorkers } from '../../src/workers';
import { testServerExecutable } from '../helpers/temporal';

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const HOUR_MS = 60 * 60 * 1000;
const GRACE = { gracePeriodMs: 72 * HOUR_MS };
const NO_GRACE = { gracePeriodMs: 0 };

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let count = 0;

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServerExecutable() } });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: new DefaultLogger('ERROR'),
  });
});

after(async () => {
  await env?.teardown();
});

/** Fakes with an in-memory catalog and a record of every call, in order. */
function fakeTenant(options: { tombstoned?: boolean } = {}) {
  const calls: string[] = [];
  let catalogStatus: TenantStatus | undefined = options.tombstoned ? 'deleted' : undefined;
  let createGate: Promise<void> = Promise.resolve();
  let deleteFailures = 0;

  const activities: Activities = {
    async resolveRegion() {
      calls.push('resolveRegion');
      return { region: 'eu-west-1', source: 'ip-country', reason: 'country-NL', country: 'NL' };
    },
    async createDatabase(input) {
      calls.push('createDatabase');
      await createGate;
      const ref: DatabaseRef = { provider: 'sqlite', region: input.region, name: input.userId, location: 'x' };
      return { ref, created: true };
    },
    async seedSchema() {
      calls.push('seedSchema');
      return { version: 2, applied: [1, 2] };
    },
    async setDatabaseEnabled(input) {
      calls.push(input.enabled ? 'enable' : 'disable');
    },
    async deleteDatabase() {
      calls.push('deleteDatabase');
      if (deleteFailures > 0) {
        deleteFailures -= 1;
        throw new Error('provider unavailable');
      }
      return { deleted: true };
    },
    async readTenantStatus() {
      return catalogStatus;
    },
    async recordLifecycleEvent(input) {
      calls.push(`catalog:${input.event}`);
      catalogStatus = input.event === 'deleted' ? 'deleted' : catalogStatus;
    },
  };

  return {
    activities,
    calls,
    holdCreate(gate: Promise<void>) {
      createGate = gate;
    },
    failDeletes(times: number) {
      deleteFailures = times;
    },
  };
}

interface Context {
  service: ProvisioningService;
  input: ProvisionInput;
  handle: ReturnType<typeof env.client.workflow.getHandle>;
  status(): Promise<ProvisioningStatus>;
  waitFor(step: ProvisioningStatus['step']): Promise<void>;
}

async function withTenant(fake: ReturnType<typeof fakeTenant>, body: (context: Context) => Promise<void>) {
  const taskQueue = `deletion-test-${++count}`;
  const userId = `user_2pQfDeletionExample${String(count).padStart(6, '0')}`;
  const workers = await createWorkers({
    connection: env.nativeConnection,
    taskQueue,
    workflows: { workflowBundle: bundle },
    activities: fake.activities,
  });
  const service = createTemporalProvisioning(env.client, { taskQueue, timeoutMs: 10_000 });
  const handle = env.client.workflow.getHandle(userId);
  const status = () => handle.query(statusQuery);
  const waitFor = async (step: ProvisioningStatus['step']) => {
    for (let attempt = 0; (await status()).step !== step; attempt += 1) {
      if (attempt > 200) assert.fail(`the workflow did not reach ${step}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const input: ProvisionInput = { userId, region: { clientIp: '193.0.6.139' }, seedSchema: true };
  await workers.runUntil(body({ service, input, handle, status, waitFor }));
}

describe('deletion order', () => {
  test('deleted before created makes nothing', async () => {
    const fake = fakeTenant();
    await withTenant(fake, async ({ service, input, handle, status }) => {
      assert.equal((await service.requestDeletion(input, NO_GRACE)).kind, 'deletion-requested');
      const result = await handle.result();

      assert.equal(result.deleted, true);
      assert.equal(result.database, undefined);
      assert.equal((await status()).step, 'deleted');

      // Retries of both events, in any order, change nothing.
      assert.equal((await service.requestDeletion(input, NO_GRACE)).kind, 'duplicate');
      assert.equal((await service.start(input)).kind, 'duplicate');
      assert.equal((await service.start(input)).kind, 'duplicate');
    });
    assert.deepEqual(fake.calls, ['catalog:deleted']);
  });

  test('deleted during provisioning: made, then deleted', async () => {
    const fake = fakeTenant();
    let release: () => void = () => undefined;
    fake.holdCreate(new Promise((resolve) => (release = resolve)));

    await withTenant(fake, async ({ service, input, handle, waitFor }) => {
      assert.equal((await service.start(input)).kind, 'started');
      await waitFor('creating-database');
      assert.equal((await service.requestDeletion(input, NO_GRACE)).kind, 'deletion-requested');
      assert.equal((await service.requestDeletion(input, NO_GRACE)).kind, 'deletion-requested');
      assert.equal((await service.start(input)).kind, 'duplicate');
      release();

      const result = await handle.result();
      assert.equal(result.deleted, true);
      assert.equal(result.database?.region, 'eu-west-1');
    });
    assert.deepEqual(fake.calls, [
      'catalog:provisioning-started',
      'resolveRegion',
      'createDatabase',
      'seedSchema',
      'catalog:provisioned',
      'catalog:deletion-requested',
      'disable',
      'deleteDatabase',
      'catalog:deleted',
    ]);
  });

  test('deleted after provisioning waits for the grace period', async () => {
    const fake = fakeTenant();
    await withTenant(fake, async ({ service, input, handle, status, waitFor }) => {
      await service.start(input);
      await waitFor('ready');
      await service.requestDeletion(input, GRACE);
      await waitFor('deleting');

      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(searchAttributes.status), 'deleting');
      await env.sleep('71 hours');
      assert.equal((await status()).step, 'deleting');
      assert.equal(fake.calls.includes('deleteDatabase'), false);

      const result = await handle.result();
      assert.equal(result.deleted, true);
      assert.equal((await status()).step, 'deleted');
      assert.equal((await handle.describe()).typedSearchAttributes.get(searchAttributes.status), 'deleted');
    });
    assert.equal(fake.calls.filter((call) => call === 'deleteDatabase').length, 1);
    assert.equal(fake.calls.indexOf('disable') < fake.calls.indexOf('deleteDatabase'), true);
  });

  test('restore during the grace period', async () => {
    const fake = fakeTenant();
    await withTenant(fake, async ({ service, input, handle, waitFor }) => {
      await service.start(input);
      await waitFor('ready');
      await service.requestDeletion(input, GRACE);
      await waitFor('deleting');

      await handle.signal(restoreDatabaseSignal);
      await waitFor('ready');
      await env.sleep('100 hours');
      assert.equal(fake.calls.includes('deleteDatabase'), false);

      // A later deletion starts a new grace period, which ends in deletion.
      await service.requestDeletion(input, NO_GRACE);
      assert.equal((await handle.result()).deleted, true);
    });
    assert.deepEqual(fake.calls.slice(-8), [
      'catalog:deletion-requested',
      'disable',
      'enable',
      'catalog:restored',
      'catalog:deletion-requested',
      'disable',
      'deleteDatabase',
      'catalog:deleted',
    ]);
  });

  test('created again after deletion does nothing', async () => {
    const fake = fakeTenant();
    await withTenant(fake, async ({ service, input, handle, waitFor }) => {
      await service.start(input);
      await waitFor('ready');
      await service.requestDeletion(input, NO_GRACE);
      await handle.result();

      assert.equal((await service.start(input)).kind, 'duplicate');
      assert.equal((await service.start(input)).kind, 'duplicate');
    });
    assert.equal(fake.calls.filter((call) => call === 'createDatabase').length, 1);
  });

  test('tombstone stops provisioning after history is gone', async () => {
    // A new run for a user whose history Temporal no longer has: only the catalog remembers the deletion.
    const fake = fakeTenant({ tombstoned: true });
    await withTenant(fake, async ({ service, input, handle, status }) => {
      assert.equal((await service.start(input)).kind, 'started');
      const result = await handle.result();

      assert.equal(result.deleted, true);
      assert.equal((await status()).step, 'deleted');
    });
    assert.equal(fake.calls.includes('createDatabase'), false);
    assert.equal(fake.calls.includes('resolveRegion'), false);
  });

  test('failed deletion is retried', async () => {
    const fake = fakeTenant();
    fake.failDeletes(3);
    await withTenant(fake, async ({ service, input, handle, waitFor }) => {
      await service.start(input);
      await waitFor('ready');
      await service.requestDeletion(input, NO_GRACE);

      assert.equal((await handle.result()).deleted, true);
    });
    assert.equal(fake.calls.filter((call) => call === 'deleteDatabase').length, 4);
    assert.equal(fake.calls.at(-1), 'catalog:deleted');
  });
});
