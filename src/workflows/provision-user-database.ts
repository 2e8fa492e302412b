import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';

import type { Activities, WorkflowActivities } from '../activities';
import {
  type DeletionRequest,
  ErrorType,
  PROVIDER_ACTIVITY_NAMES,
  type ProvisionInput,
  type ProvisionResult,
  type ProvisioningStatus,
  type ProvisioningStep,
  providerTaskQueue,
  type RegionDecision,
  RegionSource,
  requestDeletionSignal,
  restoreDatabaseSignal,
  searchAttributes,
  setRegionSignal,
  statusQuery,
  type UndecidedRegion,
} from '../shared';

const NON_RETRYABLE = [ErrorType.INVALID_INPUT, ErrorType.CONFIGURATION];

// Region resolution reads a local file, or sends one request to ip-api with a 3 s timeout, so 10 s is
// plenty. It is retried like any activity, and ip-api's rate limit sets its own retry delay.
const REGION_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/** Region resolution on the task queue, where workflows started before the local-activities patch run it. */
const { resolveRegion: resolveRegionOnQueue } = proxyActivities<Activities>(REGION_ACTIVITY_OPTIONS);

// A local activity keeps the workflow task open, so a status query waits for it. Retries therefore wait on a server
// timer rather than in the worker, which ends the workflow task between attempts.
const LOCAL_RETRY_THRESHOLD = '500 milliseconds';

/** Region resolution as a local activity: it reads a file or calls ip-api, and needs no task queue. */
const { resolveRegion: resolveRegionLocally } = proxyLocalActivities<Activities>({
  ...REGION_ACTIVITY_OPTIONS,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
});

// Provider calls retry without an attempt limit, so an outage delays a signup's database but never drops it.
// Invalid input and configuration errors stop at once, because retrying cannot fix them.
const PROVIDER_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/** Provider activities on the workflow's own task queue, where workflows started before the patch run them. */
const providerActivitiesOnWorkflowQueue = proxyActivities<Activities>(PROVIDER_ACTIVITY_OPTIONS);

/** Activities that call the database provider. */
type ProviderCalls = Pick<Activities, (typeof PROVIDER_ACTIVITY_NAMES)[number]>;
type AnyCall = (...args: unknown[]) => Promise<unknown>;

/**
 * Number of local attempts of a provider call (1, 2 and 4 s apart) before it moves to the provider queue. Each local
 * retry adds about five events to the history, and a regular activity's retry adds none. So a lasting failure must
 * not stay local: at one retry a minute, a history would pass Temporal's default `limit.historyCount.error` (51,200
 * events) in about a week, and the server would terminate the workflow.
 */
const LOCAL_PROVIDER_ATTEMPTS = 4;

/**
 * Provider activities as local activities, for a provider on the worker's disk without a rate limit. A signup then
 * needs one workflow task rather than four. The SDK extends the workflow task while a long call runs.
 */
const localProviderActivities = proxyLocalActivities<Activities>({
  ...PROVIDER_ACTIVITY_OPTIONS,
  retry: { ...PROVIDER_ACTIVITY_OPTIONS.retry, maximumAttempts: LOCAL_PROVIDER_ATTEMPTS },
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
});

// The catalog is a local file or table, so its reads and writes run as local activities, which skip the
// task queue round trip.
const { readTenantStatus, recordLifecycleEvent, providerCallPlacement } = proxyLocalActivities<WorkflowActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** Marks the workflow versions that keep running after provisioning to handle the user's deletion. */
const LIFECYCLE_PATCH = 'tenant-lifecycle';

/** Marks the workflow versions that schedule provider activities on the rate-limited provider task queue. */
const PROVIDER_TASK_QUEUE_PATCH = 'provider-task-queue';

/**
 * Marks the current workflow version, which runs the region lookup, and the provider calls where
 * `providerCallPlacement` allows, as local activities. It implies the two patches above, so a new history records
 * one patch marker, and one `TemporalChangeVersion` search attribute update rather than three.
 */
const LOCAL_ACTIVITIES_PATCH = 'local-activities';

/**
 * Chooses the provider activities: local-first or on the provider queue in the current version, as
 * `providerCallPlacement` reports, and on the provider queue or the workflow's queue in older histories. Called just
 * before the first provider call, so a workflow that waited for a region across a deployment also moves. The result
 * is wrapped in an object because `await` on an activity proxy would look up an activity named `then`.
 */
async function chooseProviderActivities(currentVersion: boolean): Promise<{ activities: ProviderCalls }> {
  if (!currentVersion && !patched(PROVIDER_TASK_QUEUE_PATCH)) return { activities: providerActivitiesOnWorkflowQueue };
  const queued = proxyActivities<Activities>({
    ...PROVIDER_ACTIVITY_OPTIONS,
    taskQueue: providerTaskQueue(workflowInfo().taskQueue),
  });
  // The placement is recorded in the history, so a replay on a worker with other settings keeps it.
  if (currentVersion && (await providerCallPlacement()) === 'local') return { activities: localFirst(queued) };
  return { activities: queued };
}

/**
 * Wraps the provider calls so that each runs as a local activity first and, after its local attempts fail with a
 * retryable error, as a regular activity on the provider queue, which retries without an attempt limit.
 */
function localFirst(queued: ProviderCalls): ProviderCalls {
  const calls: Record<string, AnyCall> = {};
  for (const name of PROVIDER_ACTIVITY_NAMES) {
    const local = localProviderActivities[name] as AnyCall;
    const regular = queued[name] as AnyCall;
    calls[name] = async (...args) => {
      try {
        return await local(...args);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        log.warn('Provider call failed in its local attempts; retrying it on the provider task queue', {
          call: name,
          error: describeFailure(error),
        });
        return regular(...args);
      }
    };
  }
  return calls as unknown as ProviderCalls;
}

/** Reports whether more attempts may fix a failure: it is not cancelled, not marked non-retryable and not in NON_RETRYABLE. */
function isRetryable(error: unknown): boolean {
  const cause = rootCause(error);
  if (cause instanceof CancelledFailure) return false;
  if (cause instanceof ApplicationFailure) {
    return !cause.nonRetryable && !NON_RETRYABLE.includes(cause.type as (typeof NON_RETRYABLE)[number]);
  }
  return true;
}

/**
 * Provisions the database of one Clerk user, then stays open until the user is deleted, and deletes the
 * database after a grace period. The workflow id is the user id, so one history orders every event of a user.
 */
export async function provisionUserDatabase(input: ProvisionInput): Promise<ProvisionResult> {
  const status: ProvisioningStatus = { step: 'resolving-region' };
  setHandler(statusQuery, () => status);

  // Other attributes can join a step's update, so that one update event records them all.
  const enter = (step: ProvisioningStep, alongside: SearchAttributeUpdatePair[] = []) => {
    status.step = step;
    upsertSearchAttributes([{ key: searchAttributes.status, value: step }, ...alongside]);
  };

  // Registered at the start so that a signal sent at any time is seen, but accepted only while waiting.
  let operatorRegion: string | undefined;
  setHandler(setRegionSignal, (region: unknown) => {
    const problem = checkOperatorRegion(region, status, operatorRegion);
    if (problem !== undefined) {
      log.warn('Ignored setRegion signal', { problem, step: status.step });
      return;
    }
    operatorRegion = region as string;
  });

  // Histories recorded before deletion support replay on the old path, which ends once the database is ready.
  const currentVersion = patched(LOCAL_ACTIVITIES_PATCH);
  const lifecycle = currentVersion || patched(LIFECYCLE_PATCH);

  // A repeated deletion request keeps the first one, so Svix's and Hookdeck's retries change nothing.
  let deletion: DeletionRequest | undefined;
  let restoreRequested = false;
  if (lifecycle) {
    setHandler(requestDeletionSignal, (request: DeletionRequest) => {
      if (deletion === undefined) deletion = { gracePeriodMs: Math.max(0, Number(request?.gracePeriodMs) || 0) };
    });
    setHandler(restoreDatabaseSignal, () => {
      if (status.step === 'deleting') restoreRequested = true;
      else log.warn('Ignored restoreDatabase signal: no deletion is pending', { step: status.step });
    });

    // The catalog's tombstone outlives this workflow's history, so a user deleted long ago stays deleted.
    if ((await readTenantStatus(input.userId)) === 'deleted' || deletion !== undefined) {
      return finishWithoutDatabase(input.userId, status, enter);
    }
    await recordLifecycleEvent({ userId: input.userId, event: 'provisioning-started' });
  }

  let result: ProvisionResult;
  let provider: ProviderCalls;
  try {
    enter('resolving-region');
    const resolveRegion = currentVersion ? resolveRegionLocally : resolveRegionOnQueue;
    const resolution = await resolveRegion(input.region);
    let decision: RegionDecision;
    if ('undecided' in resolution) {
      status.undecided = resolution;
      enter('awaiting-region');
      log.warn('No region decided; waiting for a setRegion signal', {
        reason: resolution.reason,
        allowedRegions: resolution.allowedRegions,
      });
      await condition(() => operatorRegion !== undefined || deletion !== undefined);
      if (operatorRegion === undefined) return finishWithoutDatabase(input.userId, status, enter);
      decision = operatorDecision(resolution, operatorRegion);
      status.undecided = undefined;
    } else {
      decision = resolution;
    }
    status.decision = decision;
    // Older versions recorded each attribute in an update of its own, and their histories replay that way.
    const regionAttribute: SearchAttributeUpdatePair = { key: searchAttributes.region, value: decision.region };
    if (!currentVersion) upsertSearchAttributes([regionAttribute]);
    log.info('Region decided', { region: decision.region, source: decision.source, reason: decision.reason });

    provider = (await chooseProviderActivities(currentVersion)).activities;
    enter('creating-database', currentVersion ? [regionAttribute] : []);
    const { ref, created } = await provider.createDatabase({ userId: input.userId, region: decision.region });
    status.database = ref;
    const providerAttribute: SearchAttributeUpdatePair = { key: searchAttributes.provider, value: ref.provider };
    if (!currentVersion) upsertSearchAttributes([providerAttribute]);
    let pendingAttributes = currentVersion ? [providerAttribute] : [];
    log.info(created ? 'Database created' : 'Database already existed', { provider: ref.provider, region: ref.region });

    if (input.seedSchema) {
      enter('seeding-schema', pendingAttributes);
      pendingAttributes = [];
      const seeded = await provider.seedSchema(ref);
      status.schemaVersion = seeded.version;
    }

    enter('ready', pendingAttributes);
    result = { userId: input.userId, decision, database: ref, schemaVersion: status.schemaVersion };
  } catch (error) {
    const failedStep = status.step;
    status.error = describeFailure(error);
    enter('failed');
    log.error('Provisioning failed', { step: failedStep, error: status.error });
    if (lifecycle) await recordLifecycleEvent({ userId: input.userId, event: 'provisioning-failed' });
    throw error;
  }
  if (!lifecycle) return result;

  const { decision, database } = result as Required<Pick<ProvisionResult, 'decision' | 'database'>>;
  const regionFacts = { region: decision.region, regionSource: decision.source, provider: database.provider };
  await recordLifecycleEvent({ userId: input.userId, event: 'provisioned', update: regionFacts });

  // A deletion that arrived during provisioning is handled here, once the database exists.
  for (;;) {
    await condition(() => deletion !== undefined);
    const { gracePeriodMs } = deletion as DeletionRequest;
    enter('deleting');
    await recordLifecycleEvent({ userId: input.userId, event: 'deletion-requested' });
    await provider.setDatabaseEnabled({ ref: database, enabled: false });
    log.info('Deletion requested; the database is disabled for the grace period', { gracePeriodMs });

    restoreRequested = false;
    const restored = gracePeriodMs > 0 && (await condition(() => restoreRequested, gracePeriodMs));
    if (!restored) break;

    await provider.setDatabaseEnabled({ ref: database, enabled: true });
    await recordLifecycleEvent({ userId: input.userId, event: 'restored' });
    log.info('Deletion undone by an operator');
    deletion = undefined;
    enter('ready');
  }

  await provider.deleteDatabase(database);
  await recordLifecycleEvent({ userId: input.userId, event: 'deleted' });
  enter('deleted');
  return { ...result, deleted: true };
}

/** Ends a workflow whose user was deleted before any database was made, leaving a tombstone in the catalog. */
async function finishWithoutDatabase(
  userId: string,
  status: ProvisioningStatus,
  enter: (step: ProvisioningStep) => void,
): Promise<ProvisionResult> {
  status.undecided = undefined;
  await recordLifecycleEvent({ userId, event: 'deleted' });
  enter('deleted');
  log.info('The user was deleted before provisioning; no database was created');
  return { userId, deleted: true };
}

/** Returns why a setRegion signal cannot be accepted now, or undefined when it can. */
function checkOperatorRegion(
  region: unknown,
  status: ProvisioningStatus,
  accepted: string | undefined,
): string | undefined {
  if (status.step !== 'awaiting-region' || status.undecided === undefined) {
    return 'the workflow is not awaiting a region';
  }
  if (accepted !== undefined) {
    return `region ${accepted} was already set`;
  }
  if (typeof region !== 'string' || !status.undecided.allowedRegions.includes(region)) {
    // The value comes from an operator's command line, so only a short prefix of it is logged.
    const received = JSON.stringify(typeof region === 'string' ? region.slice(0, 40) : typeof region);
    return `${received} is not one of the allowed regions ${status.undecided.allowedRegions.join(', ')}`;
  }
  return undefined;
}

// The operator decides only the region, so the decision keeps the facts and the reason that led to the hold.
function operatorDecision(undecided: UndecidedRegion, region: string): RegionDecision {
  const { reason, country, databaseBuildDate } = undecided;
  return {
    region,
    source: RegionSource.OPERATOR,
    reason,
    ...(country === undefined ? {} : { country }),
    ...(databaseBuildDate === undefined ? {} : { databaseBuildDate }),
  };
}

/** Returns a regular activity's failure cause, which ActivityFailure wraps; a local activity's failure is the cause. */
function rootCause(error: unknown): unknown {
  return error instanceof ActivityFailure && error.cause ? error.cause : error;
}

/** Returns the root cause's message, which is what an operator needs, rather than "Activity task failed". */
function describeFailure(error: unknown): string {
  const cause = rootCause(error);
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}
