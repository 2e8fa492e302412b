// The worker process: runs provisionUserDatabase and its activities on the task queue.
import { Runtime, Worker } from '@temporalio/worker';

import { createActivities } from './activities';
import { buildActivityDependencies } from './activities/dependencies';
import { loadCommonConfig } from './config';
import { toTemporalLogger } from './logger';
import { exitWithError, loadEnvFile, loggerFor } from './process';
import { connectWorker } from './temporal';

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
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowsPath: require.resolve('./workflows'),
      activities,
    });

    logger.info(
      { address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue },
      'Worker started',
    );
    // Worker.run returns after SIGINT or SIGTERM, once in-flight tasks have finished or timed out.
    await worker.run();
    await dependencies.provider.close?.();
    await dependencies.catalog.close();
    await connection.close();
    logger.info('Worker stopped');
  } catch (error) {
    exitWithError(error, logger);
  }
}

main().catch((error: unknown) => exitWithError(error));
