-- Starting schema of a tenant database, the Postgres counterpart of migrations/sqlite/0001. The whole database
-- belongs to one user, so no table has a user column. Timestamps are timestamptz, stored in UTC.

-- Application preferences as key-value pairs; values are JSON or plain text, as the application chooses.
CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Serves the usual "most recently changed first" listing.
CREATE INDEX documents_by_updated_at ON documents (updated_at DESC);
