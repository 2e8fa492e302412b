-- Tags that a user attaches to documents. Tag names are unique regardless of letter case.
-- The REFERENCES clauses are enforced only on connections that run PRAGMA foreign_keys = ON.

CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE
) STRICT;

CREATE TABLE document_tags (
  document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (document_id, tag_id)
) STRICT, WITHOUT ROWID;

-- Serves "documents with this tag"; the primary key already serves "tags of this document".
CREATE INDEX document_tags_by_tag ON document_tags (tag_id);
