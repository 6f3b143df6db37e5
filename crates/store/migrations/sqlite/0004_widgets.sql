-- The chat widget (SQLite twin of ../postgres/0004_widgets.sql).

CREATE TABLE widgets (
    id                  BLOB    PRIMARY KEY NOT NULL,
    key                 TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    allowed_origins     TEXT    NOT NULL,
    settings            TEXT    NOT NULL,
    identity_secret     TEXT,
    enforce_identity    INTEGER NOT NULL DEFAULT 0,
    active              INTEGER NOT NULL DEFAULT 1,
    default_category_id BLOB    REFERENCES categories (id) ON DELETE SET NULL,
    default_priority    INTEGER NOT NULL DEFAULT 2 CHECK (default_priority BETWEEN 1 AND 4),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
) STRICT;

CREATE TABLE visitors (
    id         BLOB PRIMARY KEY NOT NULL,
    widget_id  BLOB NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
) STRICT;

ALTER TABLE tickets ADD COLUMN visitor_id BLOB REFERENCES visitors (id) ON DELETE SET NULL;
CREATE INDEX tickets_visitor_idx ON tickets (visitor_id, created_at, id) WHERE visitor_id IS NOT NULL;
