-- The chat widget: registered sites, their visitors, and which tickets came through them.

CREATE TABLE widgets (
    id                  uuid        PRIMARY KEY,
    -- Public: identifies the site in X-Widget-Key. Not a secret; regenerable.
    key                 text        NOT NULL UNIQUE,
    name                text        NOT NULL,
    -- JSON array of exact origins (scheme://host[:port]).
    allowed_origins     jsonb       NOT NULL,
    -- Appearance: brand_name, color, welcome_message, position, offline_message.
    settings            jsonb       NOT NULL,
    -- HMAC key for identity hashes; NULL when the site does not verify identities.
    identity_secret     text,
    enforce_identity    boolean     NOT NULL DEFAULT false,
    active              boolean     NOT NULL DEFAULT true,
    default_category_id uuid        REFERENCES categories (id) ON DELETE SET NULL,
    default_priority    smallint    NOT NULL DEFAULT 2 CHECK (default_priority BETWEEN 1 AND 4),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

-- A browser that opened a conversation; its visitor token names it.
CREATE TABLE visitors (
    id         uuid        PRIMARY KEY,
    widget_id  uuid        NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    -- The customer record its tickets are filed under.
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL
);

ALTER TABLE tickets ADD COLUMN visitor_id uuid REFERENCES visitors (id) ON DELETE SET NULL;
CREATE INDEX tickets_visitor_idx ON tickets (visitor_id, created_at, id) WHERE visitor_id IS NOT NULL;
