-- Category names are unique by a caseless key: full Unicode case folding and NFC, computed in
-- Rust (growdesk_domain::fold_case) as on SQLite, whose lower() knows only ASCII; lower() here
-- depends on the locale and does not fold 'ß' to 'ss'. Rows start with lower(name), which the old
-- index kept unique; every start-up then sets each key to its folded value (see text_keys.rs),
-- renaming a name whose key is taken.
ALTER TABLE categories ADD COLUMN name_key text NOT NULL DEFAULT '';
UPDATE categories SET name_key = lower(name);
ALTER TABLE categories ALTER COLUMN name_key DROP DEFAULT;
DROP INDEX categories_name_key;
CREATE UNIQUE INDEX categories_name_key ON categories (name_key);

-- The user list's name search matches the folded name, the same key as on SQLite.
ALTER TABLE users ADD COLUMN name_key text NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(name);
ALTER TABLE users ALTER COLUMN name_key DROP DEFAULT;

-- One-off rewrites that only Rust can compute, done and deleted at the next start-up: stored tags
-- were lower-cased, not folded ('straße' must be 'strasse', as a tag filter now folds), and user
-- name keys start from lower().
CREATE TABLE pending_backfills (
    name text PRIMARY KEY
);
INSERT INTO pending_backfills (name) VALUES ('fold_ticket_tags'), ('fold_user_names');
