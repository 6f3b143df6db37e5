-- Imports: where each imported record came from, so a re-run updates instead of duplicating,
-- and how far each incremental source has been read.

CREATE TABLE external_refs (
    -- `growdesk`, `csv:<name>`, `zendesk:<subdomain>`, `freshdesk:<domain>`, …
    source      text        NOT NULL,
    -- `user`, `category`, `ticket`, `message`, …
    kind        text        NOT NULL,
    external_id text        NOT NULL,
    local_id    uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (source, kind, external_id)
);
CREATE INDEX external_refs_local_idx ON external_refs (local_id);

CREATE TABLE import_cursors (
    source     text        PRIMARY KEY,
    cursor     text        NOT NULL,
    updated_at timestamptz NOT NULL
);
