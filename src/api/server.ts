// The API process: serves the webhook endpoint and health checks.
import { Client, Connection } from '@temporalio/client';

import { openCatalog } from '../catalog/open';
import { loadApiConfig } from '../config';
import { exitWithError, loadEnvFile, loggerFor } from '../process';
import { connectionOptions } from '../temporal';
import { createApp } from './app';
import { createTemporalProvisioning, createWorkflowStatusReader } from './provisioning';

function main(): void {
  loadEnvFile();
  const config = loadApiConfig();
  const logger = loggerFor(config, 'api');

  if (!config.temporal.address) {
    exitWithError(
      new Error('TEMPORAL_ADDRESS is not set: run `npm start`, which starts a dev server, or set it to host:port'),
      logger,
    );
  }

  // A lazy connection lets the API start while Temporal is down; deliveries then get 503 until it is back.
  const connection = Connection.lazy(connectionOptions(config.temporal, config.temporal.address));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const provisioning = createTemporalProvisioning(client, {
    taskQueue: config.temporal.taskQueue,
    timeoutMs: config.startTimeoutMs,
  });

  const app = createApp({
    hookdeck: config.hookdeck,
    svix: config.svix,
    maxBodyBytes: config.maxBodyBytes,
    seedSchema: config.database.seedSchema,
    regionMetadataKey: config.regionMetadataKey,
    deletionGracePeriodMs: config.deletionGracePeriodMs,
    provisioning,
    tenants: config.statusApiToken
      ? {
          token: config.statusApiToken,
          catalog: openCatalog(config),
          queryWorkflow: createWorkflowStatusReader(client, {
            timeoutMs: config.startTimeoutMs,
            onError: (error) => logger.warn({ err: error }, 'Status query failed; responding from the catalog'),
          }),
        }
      : undefined,
    logger,
  });

  const server = app.listen(config.port);
  server.once('listening', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, temporal: config.temporal.address }, `API listening on http://localhost:${port}`);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      logger.fatal(`Port ${config.port} is already in use: stop the other server or set PORT to a free port`);
      process.exit(1);
    }
    exitWithError(error, logger);
  });

  const stop = (signal: string) => {
    logger.info({ signal }, 'Stopping the API');
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

try {
  main();
} catch (error) {
  exitWithError(error);
}
