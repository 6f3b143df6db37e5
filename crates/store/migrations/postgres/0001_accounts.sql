-- Accounts and sign-in sessions.
-- Applied migrations are never edited: add a new numbered file instead. The SQLite tree
-- (../sqlite) has a file with the same number for every file here.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    -- NULL for people who never set a password (customers created on their behalf).
    password_hash text,
    active        boolean     NOT NULL DEFAULT true,
    -- Bumped to invalidate every access token issued before (deactivation, role change).
    token_version bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- Emails are stored lower-cased; the index on lower() keeps that true even for rows
-- written by hand.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role, id);
CREATE INDEX users_active_idx ON users (active, id);

-- One row per sign-in: the "family" of its rotating refresh tokens.
CREATE TABLE sessions (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    -- Absolute lifetime: refreshing never extends a session past this.
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token: a leaked database does not leak usable tokens.
    token_hash bytea       PRIMARY KEY,
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
