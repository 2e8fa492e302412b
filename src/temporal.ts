// Connections to the Temporal frontend, built from the validated configuration.
import { status as grpcStatus } from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';

import type { TemporalConfig } from './config';
import { ALL_SEARCH_ATTRIBUTES } from './shared';

export function connectionOptions(config: TemporalConfig, address: string) {
  return { address, tls: config.tls ? {} : undefined, apiKey: config.apiKey };
}

function requireAddress(config: TemporalConfig): string {
  if (!config.address) {
    throw new Error('TEMPORAL_ADDRESS is not set: run `npm start`, which starts a dev server, or set it to host:port');
  }
  return config.address;
}

export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config, requireAddress(config)));
  return new Client({ connection, namespace: config.namespace });
}

export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config, requireAddress(config)));
}

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/**
 * Registers the custom search attributes in a namespace; attributes that already exist are left alone.
 * Temporal Cloud rejects this call, and its attributes are added in the Cloud UI or with tcld instead.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await listCustomSearchAttributes(connection, namespace);
  const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !existing.has(key.name));
  if (missing.length === 0) return;

  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])),
  });
}

async function listCustomSearchAttributes(connection: Connection, namespace: string): Promise<Set<string>> {
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    return new Set(Object.keys(response.customAttributes ?? {}));
  } catch (error) {
    // The Java time-skipping test server implements adding search attributes but not listing them.
    if ((error as { code?: number }).code === grpcStatus.UNIMPLEMENTED) return new Set();
    throw error;
  }
}
