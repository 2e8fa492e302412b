-- Starting schema of a tenant database. The whole database belongs to one user, so no table has a user column.
-- STRICT tables (SQLite 3.37 and later) reject values of the wrong type instead of storing them as they are.
-- Timestamps are ISO 8601 strings in UTC with milliseconds, such as 2025-01-31T12:00:00.000Z.

-- Application preferences as key-value pairs; values are JSON or plain text, as the application chooses.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Serves the usual "most recently changed first" listing.
CREATE INDEX documents_by_updated_at ON documents (updated_at DESC);
