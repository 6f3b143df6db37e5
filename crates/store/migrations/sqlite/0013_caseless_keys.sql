-- Category names are unique by a caseless key: full Unicode case folding and NFC, computed in
-- Rust (growdesk_domain::fold_case), since SQLite's lower() knows only ASCII ('élan' and 'ÉLAN'
-- coexisted). Rows start with lower(name), which the old index kept unique; every start-up then
-- sets each key to its folded value (see text_keys.rs), renaming a name whose key is taken.
ALTER TABLE categories ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE categories SET name_key = lower(name);
DROP INDEX categories_name_key;
CREATE UNIQUE INDEX categories_name_key ON categories (name_key);

-- The user list's name search matches the folded name, as SQLite's lower() did only for ASCII.
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(name);

-- One-off rewrites that only Rust can compute, done and deleted at the next start-up: stored tags
-- were lower-cased, not folded ('straße' must be 'strasse', as a tag filter now folds), and user
-- name keys start from lower().
CREATE TABLE pending_backfills (
    name TEXT PRIMARY KEY NOT NULL
) STRICT;
INSERT INTO pending_backfills (name) VALUES ('fold_ticket_tags'), ('fold_user_names');
