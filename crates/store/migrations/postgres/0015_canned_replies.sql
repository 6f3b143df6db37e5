-- Canned replies: a titled text an agent inserts into the composer, kept by one agent
-- (owner_id) or shared with every agent (owner_id NULL). An agent's list is their own replies and
-- the shared ones in title order, read page by page from this index, optionally those whose
-- title or shortcut starts with what the agent typed.
CREATE TABLE canned_replies (
    id         uuid        PRIMARY KEY,
    owner_id   uuid        REFERENCES users (id) ON DELETE CASCADE,
    title      text        NOT NULL,
    -- fold_case(title): the list's order and what a typed prefix matches.
    title_key  text        NOT NULL,
    body       text        NOT NULL,
    shortcut   text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX canned_replies_owner_idx ON canned_replies (owner_id, title_key, id);
