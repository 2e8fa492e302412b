-- Tags that a user attaches to documents. Tag names are unique regardless of letter case, through a unique index
-- on lower(name), which matches SQLite's COLLATE NOCASE for ASCII names.

CREATE TABLE tags (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL
);

CREATE UNIQUE INDEX tags_name_unique_lower ON tags (lower(name));

CREATE TABLE document_tags (
  document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (document_id, tag_id)
);

-- Serves "documents with this tag"; the primary key already serves "tags of this document".
CREATE INDEX document_tags_by_tag ON document_tags (tag_id);
