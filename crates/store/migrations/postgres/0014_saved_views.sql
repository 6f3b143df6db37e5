-- Saved views: a named ticket filter (the query of GET /api/tickets, as JSON), kept by one agent
-- (owner_id) or shared with every agent (owner_id NULL). An agent's list is their own views and
-- the shared ones in name order, read page by page from this index.
CREATE TABLE saved_views (
    id         uuid        PRIMARY KEY,
    owner_id   uuid        REFERENCES users (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    -- fold_case(name): the list's order, the same on both backends.
    name_key   text        NOT NULL,
    filter     text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX saved_views_owner_idx ON saved_views (owner_id, name_key, id);
