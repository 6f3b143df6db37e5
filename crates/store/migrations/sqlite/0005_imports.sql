-- Imports (SQLite twin of ../postgres/0005_imports.sql).

CREATE TABLE external_refs (
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    local_id    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (source, kind, external_id)
) STRICT;
CREATE INDEX external_refs_local_idx ON external_refs (local_id);

CREATE TABLE import_cursors (
    source     TEXT PRIMARY KEY NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
