-- Canned replies: a titled text an agent inserts into the composer, kept by one agent
-- (owner_id) or shared with every agent (owner_id NULL). An agent's list is their own replies and
-- the shared ones in title order, read page by page from this index, optionally those whose
-- title or shortcut starts with what the agent typed.
CREATE TABLE canned_replies (
    id         BLOB PRIMARY KEY NOT NULL,
    owner_id   BLOB REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    -- fold_case(title): the list's order and what a typed prefix matches.
    title_key  TEXT NOT NULL,
    body       TEXT NOT NULL,
    shortcut   TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX canned_replies_owner_idx ON canned_replies (owner_id, title_key, id);
