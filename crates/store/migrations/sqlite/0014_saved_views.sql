-- Saved views: a named ticket filter (the query of GET /api/tickets, as JSON), kept by one agent
-- (owner_id) or shared with every agent (owner_id NULL). An agent's list is their own views and
-- the shared ones in name order, read page by page from this index.
CREATE TABLE saved_views (
    id         BLOB PRIMARY KEY NOT NULL,
    owner_id   BLOB REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    -- fold_case(name): the list's order, the same on both backends.
    name_key   TEXT NOT NULL,
    filter     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX saved_views_owner_idx ON saved_views (owner_id, name_key, id);
