// Workflow logic in the time-skipping environment, with the activities replaced by plain fakes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';

import type { Activities } from '../../src/activities';
import {
  ALL_SEARCH_ATTRIBUTES,
  ErrorType,
  type DatabaseRef,
  type ProvisionInput,
  type RegionDecision,
  searchAttributes,
  statusQuery,
} from '../../src/shared';
import { provisionUserDatabase } from '../../src/workflows';
import { registerSearchAttributes } from '../../src/temporal';
import { testServerExecutable } from '../helpers/temporal';

Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const USER_ID = 'user_2pQfEuExample7Hk3LmN9xRtVw1';
const DECISION: RegionDecision = { region: 'eu-west-1', source: 'ip-country', reason: 'country-NL', country: 'NL' };
const REF: DatabaseRef = {
  provider: 'sqlite',
  region: 'eu-west-1',
  name: USER_ID,
  location: `databases/eu-west-1/${USER_ID}.sqlite`,
};
const INPUT: ProvisionInput = { userId: USER_ID, region: { clientIp: '193.0.6.139' }, seedSchema: true };

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let taskQueueCount = 0;

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServerExecutable() } });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
});

after(async () => {
  await env?.teardown();
});

function fakeActivities(overrides: Partial<Activities> = {}): Activities & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async resolveRegion() {
      calls.push('resolveRegion');
      return DECISION;
    },
    async createDatabase() {
      calls.push('createDatabase');
      return { ref: REF, created: true };
    },
    async seedSchema() {
      calls.push('seedSchema');
      return { version: 1, applied: [1] };
    },
    ...overrides,
  };
}

/** Runs `body` with a worker on a task queue of its own, so tests cannot pick up each other's tasks. */
async function withWorker<T>(activities: object, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `provision-test-${++taskQueueCount}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  return worker.runUntil(body(taskQueue));
}

describe('provisionUserDatabase', () => {
  test('happy path returns decision and database', async () => {
    const activities = fakeActivities();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(provisionUserDatabase, { taskQueue, workflowId: USER_ID + 'a', args: [INPUT] }),
    );

    assert.deepEqual(result.decision, DECISION);
    assert.deepEqual(result.database, REF);
    assert.equal(result.schemaVersion, 1);
    assert.deepEqual(activities.calls, ['resolveRegion', 'createDatabase', 'seedSchema']);
  });

  test('seeding off skips the schema step', async () => {
    const activities = fakeActivities();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'b',
        args: [{ ...INPUT, seedSchema: false }],
      }),
    );

    assert.equal(result.schemaVersion, undefined);
    assert.deepEqual(activities.calls, ['resolveRegion', 'createDatabase']);
  });

  test('transient failure is retried', async () => {
    let attempts = 0;
    const activities = fakeActivities({
      async createDatabase() {
        attempts += 1;
        if (attempts < 3) throw new Error('connection reset by provider');
        return { ref: REF, created: true };
      },
    });

    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(provisionUserDatabase, { taskQueue, workflowId: USER_ID + 'c', args: [INPUT] }),
    );

    assert.equal(attempts, 3);
    assert.deepEqual(result.database, REF);
  });

  test('non-retryable failure ends with failed status', async () => {
    let attempts = 0;
    const activities = fakeActivities({
      async createDatabase() {
        attempts += 1;
        throw ApplicationFailure.create({
          type: ErrorType.INVALID_INPUT,
          message: 'invalid region',
          nonRetryable: true,
        });
      },
    });

    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'd',
        args: [INPUT],
      });
      await assert.rejects(handle.result(), WorkflowFailedError);

      const status = await handle.query(statusQuery);
      assert.equal(status.step, 'failed');
      assert.equal(status.error, 'InvalidInput: invalid region');
      assert.deepEqual(status.decision, DECISION);

      const description = await handle.describe();
      assert.deepEqual(description.typedSearchAttributes.get(searchAttributes.status), 'failed');
    });
    assert.equal(attempts, 1);
  });

  test('status query reports the current step', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const creating = new Promise<void>((resolve) => (started = resolve));
    const activities = fakeActivities({
      async createDatabase() {
        started();
        await blocked;
        return { ref: REF, created: true };
      },
    });

    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'e',
        args: [INPUT],
      });
      await creating;

      const during = await handle.query(statusQuery);
      assert.equal(during.step, 'creating-database');
      assert.deepEqual(during.decision, DECISION);
      assert.equal(during.database, undefined);

      release();
      await handle.result();
      const done = await handle.query(statusQuery);
      assert.equal(done.step, 'ready');
      assert.deepEqual(done.database, REF);
      assert.equal(done.schemaVersion, 1);
    });
  });

  test('search attributes follow the steps', async () => {
    const activities = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'f',
        args: [INPUT],
      });
      await handle.result();

      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.deepEqual(attributes.get(searchAttributes.status), 'ready');
      assert.deepEqual(attributes.get(searchAttributes.region), 'eu-west-1');
      assert.deepEqual(attributes.get(searchAttributes.provider), 'sqlite');
      assert.equal(ALL_SEARCH_ATTRIBUTES.length, 3);
    });
  });
});
