// The catalog as two tables on a Postgres server, for deployments whose tenants live in Postgres and whose
// API and worker share no disk.
import pg from 'pg';

import {
  type AuditEntry,
  EVENT_TIME_COLUMN,
  type LifecycleEvent,
  type LifecycleUpdate,
  STATUS_AFTER,
  type TenantCatalog,
  type TenantRecord,
  type TenantStatus,
} from './catalog';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS per_user_db_tenants (
  user_id text PRIMARY KEY,
  status text NOT NULL,
  region text,
  region_source text,
  provider text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  provisioned_at timestamptz,
  deletion_requested_at timestamptz,
  deleted_at timestamptz
);
CREATE TABLE IF NOT EXISTS per_user_db_tenant_events (
  id bigserial PRIMARY KEY,
  user_id text NOT NULL,
  event text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS per_user_db_tenant_events_by_user ON per_user_db_tenant_events (user_id, id);
`;

interface TenantRow {
  user_id: string;
  status: TenantStatus;
  region: string | null;
  region_source: string | null;
  provider: string | null;
  created_at: Date;
  updated_at: Date;
  provisioned_at: Date | null;
  deletion_requested_at: Date | null;
  deleted_at: Date | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : undefined);

function toRecord(row: TenantRow): TenantRecord {
  return {
    userId: row.user_id,
    status: row.status,
    region: row.region ?? undefined,
    regionSource: row.region_source ?? undefined,
    provider: row.provider ?? undefined,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    provisionedAt: iso(row.provisioned_at),
    deletionRequestedAt: iso(row.deletion_requested_at),
    deletedAt: iso(row.deleted_at),
  };
}

export function openPostgresCatalog(connectionString: string): TenantCatalog {
  const pool = new pg.Pool({ connectionString, max: 4 });
  // Concurrent first calls share one CREATE TABLE IF NOT EXISTS, which Postgres does not make race-free.
  let ready: Promise<unknown> | undefined;
  const ensureSchema = () =>
    (ready ??= pool.query(SCHEMA).catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));

  const write = async (userId: string, status: TenantStatus, update: LifecycleUpdate, event?: LifecycleEvent) => {
    await ensureSchema();
    const at = update.at ?? new Date().toISOString();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO per_user_db_tenants (user_id, status, region, region_source, provider, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (user_id) DO UPDATE SET
           status = excluded.status,
           region = COALESCE(excluded.region, per_user_db_tenants.region),
           region_source = COALESCE(excluded.region_source, per_user_db_tenants.region_source),
           provider = COALESCE(excluded.provider, per_user_db_tenants.provider),
           updated_at = excluded.updated_at`,
        [userId, status, update.region ?? null, update.regionSource ?? null, update.provider ?? null, at],
      );
      if (event) {
        await client.query('INSERT INTO per_user_db_tenant_events (user_id, event, at) VALUES ($1, $2, $3)', [
          userId,
          event,
          at,
        ]);
        const column = EVENT_TIME_COLUMN[event];
        if (column)
          await client.query(`UPDATE per_user_db_tenants SET ${column} = $1 WHERE user_id = $2`, [at, userId]);
      }
      const { rows } = await client.query<TenantRow>('SELECT * FROM per_user_db_tenants WHERE user_id = $1', [userId]);
      await client.query('COMMIT');
      return toRecord(rows[0] as TenantRow);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  return {
    async get(userId) {
      await ensureSchema();
      const { rows } = await pool.query<TenantRow>('SELECT * FROM per_user_db_tenants WHERE user_id = $1', [userId]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async record(userId, event, update = {}) {
      return write(userId, STATUS_AFTER[event], update, event);
    },
    async reconcile(userId, status, update = {}) {
      return write(userId, status, update);
    },
    async history(userId) {
      await ensureSchema();
      const { rows } = await pool.query<{ user_id: string; event: LifecycleEvent; at: Date }>(
        'SELECT user_id, event, at FROM per_user_db_tenant_events WHERE user_id = $1 ORDER BY id',
        [userId],
      );
      return rows.map((row): AuditEntry => ({ userId: row.user_id, event: row.event, at: row.at.toISOString() }));
    },
    async close() {
      await pool.end();
    },
  };
}
