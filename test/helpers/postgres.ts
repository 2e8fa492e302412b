// Access to the Postgres server that scripts/start-test-postgres.sh starts for the tests.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

export const POSTGRES_URL_VARIABLE = 'PER_USER_DB_TEST_POSTGRES_URL';

/** The test server's URL, or why Postgres tests cannot run: `missing` fails them under CI=true, and skips them otherwise. */
export type PostgresTestServer = { url: string } | { missing: string; mustFail: boolean };

export function postgresTestServer(): PostgresTestServer {
  const url = process.env[POSTGRES_URL_VARIABLE];
  if (url) return { url };

  return {
    missing:
      `${POSTGRES_URL_VARIABLE} is not set, so the Postgres tests cannot run. ` +
      `Start a server with: export ${POSTGRES_URL_VARIABLE}=$(scripts/start-test-postgres.sh)`,
    mustFail: process.env.CI === 'true',
  };
}

/** Returns a Clerk-style user id that no other test uses, so tests on one shared server do not collide. */
export function uniqueUserId(label = 'test'): string {
  return `user_${label}${randomBytes(8).toString('hex')}`;
}

/** Returns `url` with another database name, for a direct connection to a tenant database. */
export function withDatabase(url: string, database: string): string {
  const copy = new URL(url);
  copy.pathname = `/${database}`;
  return copy.href;
}

/** Runs one query on the server with a short-lived connection and returns its rows. */
export async function queryRows<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
