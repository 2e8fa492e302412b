// The webhook API on a free loopback port, with a lazy Temporal client as in src/api/server.ts, so that it
// outlives a restart of the dev server. For tests that run their own dev server and worker.
import type { AddressInfo } from 'node:net';

import { Client, Connection } from '@temporalio/client';
import pino from 'pino';

import { createApp } from '../../src/api/app';
import { createTemporalProvisioning } from '../../src/api/provisioning';
import { SIGNING_SECRET } from './system';

export interface TestApi {
  client: Client;
  baseUrl: string;
  /** Stops the HTTP server and closes the Temporal connection. */
  close(): Promise<void>;
}

export async function startTestApi(options: {
  temporalAddress: string;
  taskQueue: string;
  startTimeoutMs: number;
}): Promise<TestApi> {
  const client = new Client({ connection: Connection.lazy({ address: options.temporalAddress }) });
  const app = createApp({
    hookdeck: { signingSecret: SIGNING_SECRET, requireVerified: true },
    maxBodyBytes: 1024 * 1024,
    seedSchema: true,
    provisioning: createTemporalProvisioning(client, {
      taskQueue: options.taskQueue,
      timeoutMs: options.startTimeoutMs,
    }),
    logger: pino({ level: 'silent' }),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));

  return {
    client,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.connection.close();
    },
  };
}
