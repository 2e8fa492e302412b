// The catalog in one SQLite file, for the embedded default. The API and the worker open it from separate
// processes, so it runs in WAL mode with a busy timeout.
import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

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
CREATE TABLE IF NOT EXISTS tenants (
  user_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  region TEXT,
  region_source TEXT,
  provider TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  provisioned_at TEXT,
  deletion_requested_at TEXT,
  deleted_at TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS tenant_events (
  id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  event TEXT NOT NULL,
  at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tenant_events_by_user ON tenant_events (user_id, id);
`;

interface TenantRow {
  user_id: string;
  status: TenantStatus;
  region: string | null;
  region_source: string | null;
  provider: string | null;
  created_at: string;
  updated_at: string;
  provisioned_at: string | null;
  deletion_requested_at: string | null;
  deleted_at: string | null;
}

function toRecord(row: TenantRow): TenantRecord {
  return {
    userId: row.user_id,
    status: row.status,
    region: row.region ?? undefined,
    regionSource: row.region_source ?? undefined,
    provider: row.provider ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    provisionedAt: row.provisioned_at ?? undefined,
    deletionRequestedAt: row.deletion_requested_at ?? undefined,
    deletedAt: row.deleted_at ?? undefined,
  };
}

export function openSqliteCatalog(file: string): TenantCatalog {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.exec(SCHEMA);

  const select = db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE user_id = ?');
  const upsert = db.prepare(`
    INSERT INTO tenants (user_id, status, region, region_source, provider, created_at, updated_at)
    VALUES (@userId, @status, @region, @regionSource, @provider, @at, @at)
    ON CONFLICT (user_id) DO UPDATE SET
      status = excluded.status,
      region = COALESCE(excluded.region, tenants.region),
      region_source = COALESCE(excluded.region_source, tenants.region_source),
      provider = COALESCE(excluded.provider, tenants.provider),
      updated_at = excluded.updated_at`);
  const insertEvent = db.prepare('INSERT INTO tenant_events (user_id, event, at) VALUES (?, ?, ?)');
  const selectEvents = db.prepare<[string], AuditEntry>(
    'SELECT user_id AS userId, event, at FROM tenant_events WHERE user_id = ? ORDER BY id',
  );

  const write = (userId: string, status: TenantStatus, update: LifecycleUpdate, event?: LifecycleEvent) => {
    const at = update.at ?? new Date().toISOString();
    const params = {
      userId,
      status,
      region: update.region ?? null,
      regionSource: update.regionSource ?? null,
      provider: update.provider ?? null,
      at,
    };
    const apply = db.transaction(() => {
      upsert.run(params);
      if (event) {
        insertEvent.run(userId, event, at);
        const column = EVENT_TIME_COLUMN[event];
        if (column) db.prepare(`UPDATE tenants SET ${column} = ? WHERE user_id = ?`).run(at, userId);
      }
      return toRecord(select.get(userId) as TenantRow);
    });
    return apply.immediate();
  };

  return {
    async get(userId) {
      const row = select.get(userId);
      return row ? toRecord(row) : undefined;
    },
    async record(userId, event, update = {}) {
      return write(userId, STATUS_AFTER[event], update, event);
    },
    async reconcile(userId, status, update = {}) {
      return write(userId, status, update);
    },
    async history(userId) {
      return selectEvents.all(userId);
    },
    async close() {
      db.close();
    },
  };
}
