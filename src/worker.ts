// The worker process: runs provisionUserDatabase and its activities on the task queue, and the provider
// activities on the provider task queue.
import { Runtime } from '@temporalio/worker';

import { createActivities } from './activities';
import { buildActivityDependencies } from './activities/dependencies';
import { loadCommonConfig } from './config';
import { toTemporalLogger } from './logger';
import { exitWithError, loadEnvFile, loggerFor } from './process';
import { providerTaskQueue } from './shared';
import { connectWorker } from './temporal';
import { buildWorkflowBundle } from './workflow-bundle';
import { createWorkers } from './workers';

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadCommonConfig();
  const logger = loggerFor(config, 'worker');

  Runtime.install({
    logger: toTemporalLogger(logger),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
  });

  try {
    const connection = await connectWorker(config.temporal);
    const dependencies = await buildActivityDependencies(config, logger);
    const activities = createActivities(dependencies);
    const workers = await createWorkers({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflows: { workflowBundle: await buildWorkflowBundle() },
      activities,
      providerMaxCallsPerSecond: config.providerMaxCallsPerSecond,
      localProviderCalls: dependencies.provider.onWorkerHost === true,
    });

    logger.info(
      {
        address: config.temporal.address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        providerTaskQueue: providerTaskQueue(config.temporal.taskQueue),
        providerMaxCallsPerSecond: config.providerMaxCallsPerSecond ?? 'unlimited',
      },
      'Worker started',
    );
    // Both workers stop on SIGINT or SIGTERM, once in-flight tasks have finished or timed out.
    await workers.run();
    await dependencies.provider.close?.();
    await dependencies.catalog.close();
    await connection.close();
    logger.info('Worker stopped');
  } catch (error) {
    exitWithError(error, logger);
  }
}

main().catch((error: unknown) => exitWithError(error));
