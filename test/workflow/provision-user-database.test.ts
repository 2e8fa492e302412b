// Workflow logic in the time-skipping environment, with the activities replaced by plain fakes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

import type { Activities } from '../../src/activities';
import {
  ALL_SEARCH_ATTRIBUTES,
  ErrorType,
  type DatabaseRef,
  type ProvisionInput,
  type ProvisioningStatus,
  providerTaskQueue,
  type RegionDecision,
  requestDeletionSignal,
  searchAttributes,
  setRegionSignal,
  statusQuery,
  type UndecidedRegion,
} from '../../src/shared';
import { provisionUserDatabase } from '../../src/workflows';
import { registerSearchAttributes } from '../../src/temporal';
import { createWorkers } from '../../src/workers';
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
const UNDECIDED: UndecidedRegion = {
  undecided: true,
  reason: 'lookup-failed',
  allowedRegions: ['eu-west-1', 'ap-southeast-2', 'us-east-1'],
  databaseBuildDate: '2026-01-02T03:04:05.000Z',
};

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

type FakeActivities = Activities & { calls: string[]; lifecycle: string[] };

/** Fakes every activity; provisioning calls go to `calls`, catalog and deletion calls to `lifecycle`. */
function fakeActivities(overrides: Partial<Activities> = {}): FakeActivities {
  const calls: string[] = [];
  const lifecycle: string[] = [];
  return {
    calls,
    lifecycle,
    async readTenantStatus() {
      lifecycle.push('readTenantStatus');
      return undefined;
    },
    async recordLifecycleEvent(input) {
      lifecycle.push(input.event);
    },
    async setDatabaseEnabled(input) {
      lifecycle.push(input.enabled ? 'enable' : 'disable');
    },
    async deleteDatabase() {
      lifecycle.push('deleteDatabase');
      return { deleted: true };
    },
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

/**
 * Runs `body` with the main and provider workers on task queues of their own, so tests cannot pick up each
 * other's tasks.
 */
async function withWorker<T>(
  activities: Activities,
  body: (taskQueue: string) => Promise<T>,
  placement: { localProviderCalls?: boolean; providerMaxCallsPerSecond?: number } = {},
): Promise<T> {
  const taskQueue = `provision-test-${++taskQueueCount}`;
  const workers = await createWorkers({
    connection: env.nativeConnection,
    taskQueue,
    workflows: { workflowBundle: bundle },
    activities,
    ...placement,
  });
  return workers.runUntil(body(taskQueue));
}

type Handle = Awaited<ReturnType<typeof env.client.workflow.start<typeof provisionUserDatabase>>>;

async function waitForReady(handle: Handle): Promise<void> {
  for (let attempt = 0; (await handle.query(statusQuery)).step !== 'ready'; attempt += 1) {
    if (attempt > 200) assert.fail('the workflow did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the database is ready, then deletes the user at once so the workflow completes with its result. */
async function finish(handle: Handle) {
  await waitForReady(handle);
  await handle.signal(requestDeletionSignal, { gracePeriodMs: 0 });
  return handle.result();
}

describe('provisionUserDatabase', () => {
  test('happy path returns decision and database', async () => {
    const activities = fakeActivities();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow
        .start(provisionUserDatabase, { taskQueue, workflowId: USER_ID + 'a', args: [INPUT] })
        .then(finish),
    );

    assert.deepEqual(result.decision, DECISION);
    assert.deepEqual(result.database, REF);
    assert.equal(result.schemaVersion, 1);
    assert.deepEqual(activities.calls, ['resolveRegion', 'createDatabase', 'seedSchema']);
  });

  test('seeding off skips the schema step', async () => {
    const activities = fakeActivities();
    const { result, provider } = await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'b',
        args: [{ ...INPUT, seedSchema: false }],
      });
      const result = await finish(handle);
      return { result, provider: (await handle.describe()).typedSearchAttributes.get(searchAttributes.provider) };
    });

    assert.equal(result.schemaVersion, undefined);
    assert.deepEqual(activities.calls, ['resolveRegion', 'createDatabase']);
    // Without the seeding step, the provider attribute goes with the update to ready.
    assert.equal(provider, 'sqlite');
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
      env.client.workflow
        .start(provisionUserDatabase, { taskQueue, workflowId: USER_ID + 'c', args: [INPUT] })
        .then(finish),
    );

    assert.equal(attempts, 3);
    assert.deepEqual(result.database, REF);
  });

  for (const [label, localProviderCalls, suffix] of [
    ['regular', false, 'd'],
    ['local', true, 'n'],
  ] as const) {
    test(`non-retryable ${label} failure fails workflow`, async () => {
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

      const placement = { localProviderCalls };
      await withWorker(
        activities,
        async (taskQueue) => {
          const handle = await env.client.workflow.start(provisionUserDatabase, {
            taskQueue,
            workflowId: USER_ID + suffix,
            args: [INPUT],
          });
          await assert.rejects(handle.result(), WorkflowFailedError);

          const status = await handle.query(statusQuery);
          assert.equal(status.step, 'failed');
          assert.equal(status.error, 'InvalidInput: invalid region');
          assert.deepEqual(status.decision, DECISION);

          const description = await handle.describe();
          assert.deepEqual(description.typedSearchAttributes.get(searchAttributes.status), 'failed');
        },
        placement,
      );
      assert.equal(attempts, 1);
    });
  }

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
      await waitForReady(handle);
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
      await waitForReady(handle);

      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.deepEqual(attributes.get(searchAttributes.status), 'ready');
      assert.deepEqual(attributes.get(searchAttributes.region), 'eu-west-1');
      assert.deepEqual(attributes.get(searchAttributes.provider), 'sqlite');
      assert.equal(ALL_SEARCH_ATTRIBUTES.length, 3);
    });
  });
});

describe('provisionUserDatabase with hold', () => {
  /** Queries the status until `predicate` holds; the query reflects every signal sent before it. */
  async function waitForStatus(
    handle: { query: (query: typeof statusQuery) => Promise<ProvisioningStatus> },
    predicate: (status: ProvisioningStatus) => boolean,
  ): Promise<ProvisioningStatus> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const status = await handle.query(statusQuery);
      if (predicate(status)) return status;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail('the workflow did not reach the expected status');
  }

  test('waits for setRegion', async () => {
    const regions: string[] = [];
    const activities = fakeActivities({
      async resolveRegion() {
        activities.calls.push('resolveRegion');
        return UNDECIDED;
      },
      async createDatabase(input) {
        activities.calls.push('createDatabase');
        regions.push(input.region);
        return { ref: { ...REF, region: input.region }, created: true };
      },
    });

    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'g',
        args: [INPUT],
      });

      const waiting = await waitForStatus(handle, (status) => status.step === 'awaiting-region');
      assert.deepEqual(waiting.undecided, UNDECIDED);
      assert.equal(waiting.decision, undefined);
      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(searchAttributes.status), 'awaiting-region');
      assert.equal(attributes.get(searchAttributes.region), undefined);

      // A week of skipped time changes nothing, because only the signal ends the wait.
      await env.sleep('7 days');
      assert.equal((await handle.query(statusQuery)).step, 'awaiting-region');
      assert.deepEqual(activities.calls, ['resolveRegion']);

      await handle.signal(setRegionSignal, 'mars-north-1');
      await handle.signal(setRegionSignal, 42 as unknown as string);
      const afterInvalid = await handle.query(statusQuery);
      assert.equal(afterInvalid.step, 'awaiting-region');
      assert.deepEqual(activities.calls, ['resolveRegion']);

      await handle.signal(setRegionSignal, 'ap-southeast-2');
      const result = await finish(handle);

      assert.equal(result.decision?.region, 'ap-southeast-2');
      assert.equal(result.decision?.source, 'operator');
      assert.equal(result.decision?.reason, 'lookup-failed');
      assert.equal(result.decision?.databaseBuildDate, UNDECIDED.databaseBuildDate);
      assert.deepEqual(regions, ['ap-southeast-2']);

      const done = await handle.query(statusQuery);
      assert.equal(done.step, 'deleted');
      assert.equal(done.undecided, undefined);
      assert.deepEqual(done.decision, result.decision);
      const finalAttributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(finalAttributes.get(searchAttributes.region), 'ap-southeast-2');
    });
  });

  test('first valid region wins', async () => {
    const activities = fakeActivities({
      async resolveRegion() {
        return UNDECIDED;
      },
    });

    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'h',
        args: [INPUT],
      });
      await waitForStatus(handle, (status) => status.step === 'awaiting-region');

      await handle.signal(setRegionSignal, 'us-east-1');
      await handle.signal(setRegionSignal, 'eu-west-1');
      const result = await finish(handle);

      assert.equal(result.decision?.region, 'us-east-1');
      assert.equal(result.decision?.source, 'operator');
    });
  });

  test('signal ignored when decided', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const activities = fakeActivities({
      async createDatabase() {
        await blocked;
        return { ref: REF, created: true };
      },
    });

    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(provisionUserDatabase, {
        taskQueue,
        workflowId: USER_ID + 'i',
        args: [INPUT],
      });
      await waitForStatus(handle, (status) => status.step === 'creating-database');

      await handle.signal(setRegionSignal, 'ap-southeast-2');
      release();
      const result = await finish(handle);

      assert.deepEqual(result.decision, DECISION);
    });
  });
});

/** Records where each activity ran: `local`, or the task queue of a regular activity. */
function recordPlacement(placements: Record<string, string>, name: string): void {
  const { info } = Context.current();
  placements[name] = info.isLocal ? 'local' : info.taskQueue;
}

const PLACED_ACTIVITIES = [
  'resolveRegion',
  'createDatabase',
  'seedSchema',
  'setDatabaseEnabled',
  'deleteDatabase',
] as const;

/** Fakes whose every region and provider call records where it ran. */
function placementRecordingActivities(placements: Record<string, string>): Activities {
  const activities = fakeActivities();
  const recording: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of PLACED_ACTIVITIES) {
    const fake = activities[name] as (...args: unknown[]) => Promise<unknown>;
    recording[name] = (...args) => {
      recordPlacement(placements, name);
      return fake(...args);
    };
  }
  return fakeActivities(recording as Partial<Activities>);
}

type EventTypeName = keyof typeof temporal.api.enums.v1.EventType;

/** Counts the history events of each type, by the enum's name without its `EVENT_TYPE_` prefix. */
async function countEvents(handle: Handle): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const name = temporal.api.enums.v1.EventType[event.eventType ?? 0] as EventTypeName;
    const key = name.replace(/^EVENT_TYPE_/, '');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Returns the ids of the patches whose markers the history records, in order. */
async function patchMarkers(handle: Handle): Promise<string[]> {
  const ids: string[] = [];
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.details?.['patch-data']?.payloads?.[0]?.data;
    if (marker?.markerName === 'core_patch' && data) ids.push(JSON.parse(Buffer.from(data).toString('utf8')).id);
  }
  return ids;
}

/**
 * Waits until the history records ProvisioningStatus `ready`, then returns how many workflow tasks had completed by
 * then. It reads the history rather than polling the status query, because with query polling one run in six
 * counted two workflow tasks, although none had failed or timed out.
 */
async function workflowTasksUntilReady(handle: Handle): Promise<number> {
  const { EventType } = temporal.api.enums.v1;
  for (let attempt = 0; attempt <= 200; attempt += 1) {
    let completed = 0;
    for (const event of (await handle.fetchHistory()).events ?? []) {
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) completed += 1;
      const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      const step = fields?.[searchAttributes.status.name]?.data;
      if (step && JSON.parse(Buffer.from(step).toString('utf8')) === 'ready') return completed;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return assert.fail('the history never set ProvisioningStatus to ready');
}

describe('provider call placement', () => {
  test('worker-host provider runs calls locally', async () => {
    const placements: Record<string, string> = {};
    const { result, events, tasks, patches } = await withWorker(
      placementRecordingActivities(placements),
      async (taskQueue) => {
        const handle = await env.client.workflow.start(provisionUserDatabase, {
          taskQueue,
          workflowId: USER_ID + 'k',
          args: [INPUT],
        });
        const tasks = await workflowTasksUntilReady(handle);
        await handle.signal(requestDeletionSignal, { gracePeriodMs: 0 });
        const result = await handle.result();
        const [events, patches] = await Promise.all([countEvents(handle), patchMarkers(handle)]);
        return { result, events, tasks, patches };
      },
      { localProviderCalls: true },
    );

    assert.equal(result.deleted, true);
    assert.deepEqual(placements, {
      resolveRegion: 'local',
      createDatabase: 'local',
      seedSchema: 'local',
      setDatabaseEnabled: 'local',
      deleteDatabase: 'local',
    });
    // No activity task went through the server, and the whole provisioning fit in the first workflow task.
    assert.equal(events.ACTIVITY_TASK_SCHEDULED, undefined);
    assert.equal(tasks, 1);
    // One patch marker, and one search attribute update for it, rather than one per patch.
    assert.deepEqual(patches, ['local-activities']);
  });

  for (const [label, placement, suffix] of [
    ['remote provider', {}, 'j'],
    ['a rate limit', { localProviderCalls: true, providerMaxCallsPerSecond: 1000 }, 'l'],
  ] as const) {
    test(`${label} uses the provider queue`, async () => {
      const placements: Record<string, string> = {};
      let workflowQueue = '';
      const result = await withWorker(
        placementRecordingActivities(placements),
        (taskQueue) => {
          workflowQueue = taskQueue;
          return env.client.workflow
            .start(provisionUserDatabase, { taskQueue, workflowId: USER_ID + suffix, args: [INPUT] })
            .then(finish);
        },
        placement,
      );

      assert.equal(result.deleted, true);
      const provider = providerTaskQueue(workflowQueue);
      assert.deepEqual(placements, {
        resolveRegion: 'local',
        createDatabase: provider,
        seedSchema: provider,
        setDatabaseEnabled: provider,
        deleteDatabase: provider,
      });
    });
  }

  test('local retries use server timers', async () => {
    let attempts = 0;
    const activities = fakeActivities({
      async createDatabase() {
        attempts += 1;
        if (attempts < 3) throw new Error('disk busy');
        return { ref: REF, created: true };
      },
    });

    const { result, events } = await withWorker(
      activities,
      async (taskQueue) => {
        const handle = await env.client.workflow.start(provisionUserDatabase, {
          taskQueue,
          workflowId: USER_ID + 'm',
          args: [INPUT],
        });
        return { result: await finish(handle), events: await countEvents(handle) };
      },
      { localProviderCalls: true },
    );

    assert.equal(attempts, 3);
    assert.deepEqual(result.database, REF);
    // One timer per retry, so the workflow task ends between attempts.
    assert.equal(events.TIMER_STARTED, 2);
    assert.equal(events.ACTIVITY_TASK_SCHEDULED, undefined);
  });

  test('lasting local failure moves to queue', async () => {
    const placements: string[] = [];
    const activities = fakeActivities({
      async createDatabase() {
        const { info } = Context.current();
        placements.push(info.isLocal ? 'local' : info.taskQueue);
        if (info.isLocal) throw new Error('disk busy');
        return { ref: REF, created: true };
      },
    });

    let workflowQueue = '';
    const { result, events } = await withWorker(
      activities,
      async (taskQueue) => {
        workflowQueue = taskQueue;
        const handle = await env.client.workflow.start(provisionUserDatabase, {
          taskQueue,
          workflowId: USER_ID + 'o',
          args: [INPUT],
        });
        // Skips the 1, 2 and 4 s between the local attempts, which queries alone would wait for in real time.
        await env.sleep('10 seconds');
        return { result: await finish(handle), events: await countEvents(handle) };
      },
      { localProviderCalls: true },
    );

    assert.deepEqual(result.database, REF);
    assert.deepEqual(placements, ['local', 'local', 'local', 'local', providerTaskQueue(workflowQueue)]);
    assert.equal(events.TIMER_STARTED, 3);
    assert.equal(events.ACTIVITY_TASK_SCHEDULED, 1);
  });
});
