-- The help-desk core (SQLite twin of ../postgres/0002_helpdesk.sql). Full-text search uses
-- FTS5 with the unicode61 tokenizer removing diacritics, kept in step by triggers.

CREATE TABLE categories (
    id          BLOB    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    color       TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX categories_name_key ON categories (lower(name));
CREATE INDEX categories_position_idx ON categories (position, id);

CREATE TABLE faqs (
    id          BLOB    PRIMARY KEY NOT NULL,
    question    TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    category_id BLOB    REFERENCES categories (id) ON DELETE SET NULL,
    published   INTEGER NOT NULL DEFAULT 0,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX faqs_published_idx ON faqs (published, position, id);
CREATE INDEX faqs_category_idx ON faqs (category_id);
CREATE VIRTUAL TABLE faqs_fts USING fts5 (
    question, answer, content = 'faqs', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER faqs_fts_insert AFTER INSERT ON faqs BEGIN
    INSERT INTO faqs_fts (rowid, question, answer) VALUES (new.rowid, new.question, new.answer);
END;
CREATE TRIGGER faqs_fts_delete AFTER DELETE ON faqs BEGIN
    INSERT INTO faqs_fts (faqs_fts, rowid, question, answer) VALUES ('delete', old.rowid, old.question, old.answer);
END;
CREATE TRIGGER faqs_fts_update AFTER UPDATE OF question, answer ON faqs BEGIN
    INSERT INTO faqs_fts (faqs_fts, rowid, question, answer) VALUES ('delete', old.rowid, old.question, old.answer);
    INSERT INTO faqs_fts (rowid, question, answer) VALUES (new.rowid, new.question, new.answer);
END;

CREATE TABLE tickets (
    id                BLOB    PRIMARY KEY NOT NULL,
    number            INTEGER NOT NULL UNIQUE,
    subject           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'in_progress', 'resolved', 'closed')),
    priority          INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
    category_id       BLOB    REFERENCES categories (id),
    requester_id      BLOB    NOT NULL REFERENCES users (id),
    assignee_id       BLOB    REFERENCES users (id),
    source            TEXT    NOT NULL CHECK (source IN ('web', 'widget', 'api', 'import')),
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    first_response_at TEXT,
    resolved_at       TEXT,
    closed_at         TEXT
) STRICT;
CREATE INDEX tickets_created_idx ON tickets (created_at, id);
CREATE INDEX tickets_updated_idx ON tickets (updated_at, id);
CREATE INDEX tickets_priority_idx ON tickets (priority, id);
CREATE INDEX tickets_status_idx ON tickets (status, created_at, id);
CREATE INDEX tickets_category_idx ON tickets (category_id, created_at, id);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, created_at, id);
CREATE INDEX tickets_unassigned_idx ON tickets (created_at, id) WHERE assignee_id IS NULL;
CREATE INDEX tickets_requester_idx ON tickets (requester_id, created_at, id);
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
    subject, content = 'tickets', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.rowid, new.subject);
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.rowid, old.subject);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.rowid, old.subject);
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.rowid, new.subject);
END;

CREATE TABLE ticket_tags (
    ticket_id BLOB NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) STRICT;
CREATE INDEX ticket_tags_tag_idx ON ticket_tags (tag, ticket_id);

CREATE TABLE messages (
    id         BLOB    PRIMARY KEY NOT NULL,
    ticket_id  BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  BLOB    NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    internal   INTEGER NOT NULL,
    created_at TEXT    NOT NULL
) STRICT;
CREATE INDEX messages_ticket_idx ON messages (ticket_id, id);
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content = 'messages', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TABLE attachments (
    id           BLOB    PRIMARY KEY NOT NULL,
    message_id   BLOB    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    ticket_id    BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
) STRICT;
CREATE INDEX attachments_message_idx ON attachments (message_id);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);

CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  BLOB    NOT NULL,
    kind       TEXT    NOT NULL,
    actor_id   BLOB,
    internal   INTEGER NOT NULL DEFAULT 0,
    data       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);

CREATE TABLE idempotency_keys (
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    resource_id BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
