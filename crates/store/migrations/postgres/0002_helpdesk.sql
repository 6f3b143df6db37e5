-- The help-desk core: categories, FAQs, tickets, messages, attachments, the ticket event log
-- and idempotency keys.

-- Accent-insensitive search: unaccent() is only STABLE, so it is wrapped in an IMMUTABLE
-- function that expression indexes may use. Both sides use the 'simple' configuration (no
-- stemming), which matches SQLite's FTS5 unicode61 tokenizer.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION growdesk_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE categories (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    color       text        NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX categories_name_key ON categories (lower(name));
CREATE INDEX categories_position_idx ON categories (position, id);

CREATE TABLE faqs (
    id          uuid        PRIMARY KEY,
    question    text        NOT NULL,
    answer      text        NOT NULL,
    category_id uuid        REFERENCES categories (id) ON DELETE SET NULL,
    published   boolean     NOT NULL DEFAULT false,
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX faqs_published_idx ON faqs (published, position, id);
CREATE INDEX faqs_category_idx ON faqs (category_id);
CREATE INDEX faqs_search_idx ON faqs
    USING gin (to_tsvector('simple', growdesk_unaccent(question || ' ' || answer)));

CREATE SEQUENCE ticket_number_seq;

CREATE TABLE tickets (
    id                uuid        PRIMARY KEY,
    number            bigint      NOT NULL UNIQUE,
    subject           text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('open', 'pending', 'in_progress', 'resolved', 'closed')),
    -- 1 low, 2 medium, 3 high, 4 urgent: sorting by priority sorts by urgency.
    priority          smallint    NOT NULL CHECK (priority BETWEEN 1 AND 4),
    category_id       uuid        REFERENCES categories (id),
    requester_id      uuid        NOT NULL REFERENCES users (id),
    assignee_id       uuid        REFERENCES users (id),
    source            text        NOT NULL CHECK (source IN ('web', 'widget', 'api', 'import')),
    -- Incremented by every change: the ETag.
    version           bigint      NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz
);
CREATE INDEX tickets_created_idx ON tickets (created_at, id);
CREATE INDEX tickets_updated_idx ON tickets (updated_at, id);
CREATE INDEX tickets_priority_idx ON tickets (priority, id);
CREATE INDEX tickets_status_idx ON tickets (status, created_at, id);
CREATE INDEX tickets_category_idx ON tickets (category_id, created_at, id);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, created_at, id);
CREATE INDEX tickets_unassigned_idx ON tickets (created_at, id) WHERE assignee_id IS NULL;
CREATE INDEX tickets_requester_idx ON tickets (requester_id, created_at, id);
CREATE INDEX tickets_subject_search_idx ON tickets
    USING gin (to_tsvector('simple', growdesk_unaccent(subject)));

CREATE TABLE ticket_tags (
    ticket_id uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tag       text NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag_idx ON ticket_tags (tag, ticket_id);

CREATE TABLE messages (
    id         uuid        PRIMARY KEY,
    ticket_id  uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  uuid        NOT NULL REFERENCES users (id),
    body       text        NOT NULL,
    internal   boolean     NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX messages_ticket_idx ON messages (ticket_id, id);
CREATE INDEX messages_search_idx ON messages
    USING gin (to_tsvector('simple', growdesk_unaccent(body)));

CREATE TABLE attachments (
    id           uuid        PRIMARY KEY,
    message_id   uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    ticket_id    uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL,
    -- Files are stored once per content, under data/attachments by this hash.
    sha256       text        NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX attachments_message_idx ON attachments (message_id);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);

-- Every change to a ticket, written in the change's transaction. Ids only grow, so a reader
-- can resume after the last id it saw. No foreign key: a deleted ticket's log outlives it.
CREATE TABLE ticket_events (
    id         bigserial   PRIMARY KEY,
    ticket_id  uuid        NOT NULL,
    kind       text        NOT NULL,
    actor_id   uuid,
    -- Staff-only events (internal notes) are never shown to customers.
    internal   boolean     NOT NULL DEFAULT false,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);

-- Idempotency-Key: the first request's result is remembered per user and key, so a retry
-- returns it and creates nothing.
CREATE TABLE idempotency_keys (
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text        NOT NULL,
    -- SHA-256 of the request (method, path, body): the same key with another request is refused.
    fingerprint bytea       NOT NULL,
    resource_id uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
