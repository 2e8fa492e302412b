// The two Temporal workers of the worker process. The main worker runs the workflow and the activities that
// it schedules on the main task queue. The provider worker runs the database provider's activities on a task
// queue of their own, where Temporal can cap their rate across every worker process.
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';

import type { Activities, WorkflowActivities } from './activities';
import { PROVIDER_ACTIVITY_NAMES, type ProviderCallPlacement, providerTaskQueue } from './shared';

export interface WorkerPairOptions {
  connection: NativeConnection;
  namespace?: string;
  /** The workflow's task queue; the provider worker polls `providerTaskQueue(taskQueue)`. */
  taskQueue: string;
  activities: Activities;
  /** Either a path for Worker.create to bundle, or a prebuilt bundle, which tests share between workers. */
  workflows: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;
  /** Temporal's limit on provider activity tasks per second for the whole provider queue; unset means none. */
  providerMaxCallsPerSecond?: number;
  /**
   * Whether the provider's calls are cheap enough to run as local activities (see `DatabaseProvider.onWorkerHost`).
   * A rate limit overrides it, because Temporal enforces the limit only on a task queue.
   */
  localProviderCalls?: boolean;
}

/**
 * Open workflows kept in memory. A signup's workflow needs the cache for one workflow task and then idles until the
 * user is deleted, so a small cache costs little. In the throughput benchmark (bench/RESULTS.md) peak worker RSS
 * over 1,000 signups was 387 MB with 250 and 319 MB with 100; 50 gave 315 MB, within the noise.
 */
const MAX_CACHED_WORKFLOWS = 100;

export interface WorkerPair {
  main: Worker;
  provider: Worker;
  /** Runs both workers until either stops, then stops the other, and rejects with the first failure. */
  run(): Promise<void>;
  /** Runs both workers until `promise` settles, then stops both, and returns its result. */
  runUntil<T>(promise: Promise<T>): Promise<T>;
  /** Starts a graceful shutdown of every worker that is still running. */
  shutdown(): void;
}

/**
 * Creates the main and the provider worker with the same activities. The main worker also registers the provider
 * activities, because the workflow runs them as local activities when `localProviderCalls` allows it, and because workflows
 * started before the provider queue existed still schedule them on the main queue (see the `provider-task-queue`
 * patch in the workflow). Neither of those is rate-limited.
 */
export async function createWorkers(options: WorkerPairOptions): Promise<WorkerPair> {
  const { connection, namespace, taskQueue, activities } = options;
  // For a provider on the worker's disk and no rate limit, the provider queue would only add a round trip through
  // the server per call.
  const placement: ProviderCallPlacement =
    options.localProviderCalls === true && options.providerMaxCallsPerSecond === undefined ? 'local' : 'provider-queue';
  const workflowActivities: WorkflowActivities = {
    ...activities,
    async providerCallPlacement() {
      return placement;
    },
  };

  const main = await Worker.create({
    connection,
    namespace,
    taskQueue,
    ...options.workflows,
    activities: workflowActivities,
    // Each user's workflow stays open until the user is deleted, mostly idle. Without a bound, the SDK's cache
    // keeps one V8 context per open workflow, and worker RSS grew past 1.3 GB in the ack benchmark. An evicted
    // workflow is replayed from its short history when its next signal arrives.
    maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
  });
  const provider = await Worker.create({
    connection,
    namespace,
    taskQueue: providerTaskQueue(taskQueue),
    activities: pickProviderActivities(activities),
    ...(options.providerMaxCallsPerSecond === undefined
      ? {}
      : { maxTaskQueueActivitiesPerSecond: options.providerMaxCallsPerSecond }),
  });

  const workers = [main, provider];
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };

  return {
    main,
    provider,
    shutdown,
    async run() {
      // Whichever worker stops first, by a signal or a failure, takes the other one with it.
      const runs = workers.map((worker) => worker.run().finally(shutdown));
      const results = await Promise.allSettled(runs);
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    },
    runUntil(promise) {
      return main.runUntil(provider.runUntil(promise));
    },
  };
}

function pickProviderActivities(activities: Activities): Pick<Activities, (typeof PROVIDER_ACTIVITY_NAMES)[number]> {
  const { createDatabase, seedSchema, setDatabaseEnabled, deleteDatabase } = activities;
  return { createDatabase, seedSchema, setDatabaseEnabled, deleteDatabase };
}
