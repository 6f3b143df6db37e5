-- The email channel: mailboxes, their IMAP cursors, the mails taken in and the outbox of mails
-- to send, password resets, admins' template overrides and suppressed addresses; the channel
-- of each message, the mailbox a ticket's mail goes out from, and a user's locale.
-- PostgreSQL twin: ../postgres/0020_email.sql.

CREATE TABLE mailboxes (
    id                  BLOB    PRIMARY KEY NOT NULL,
    -- Lower-cased by the domain's Email.
    address             TEXT        NOT NULL UNIQUE,
    display_name        TEXT        NOT NULL,
    -- IMAP: all NULL, or all but the password set.
    imap_host           TEXT,
    imap_port           INTEGER     CHECK (imap_port BETWEEN 1 AND 65535),
    imap_security       TEXT        CHECK (imap_security IN ('tls', 'starttls', 'none')),
    imap_username       TEXT,
    imap_folder         TEXT,
    -- 'seen' or 'move:<folder>'.
    imap_after_import   TEXT,
    -- Passwords are kept as webhook secrets are: the fetcher and the sender need them in clear.
    imap_password       TEXT,
    smtp_host           TEXT,
    smtp_port           INTEGER     CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_security       TEXT        CHECK (smtp_security IN ('tls', 'starttls', 'none')),
    smtp_username       TEXT,
    smtp_password       TEXT,
    default_category_id BLOB        REFERENCES categories (id) ON DELETE SET NULL,
    default_priority    INTEGER    NOT NULL DEFAULT 2 CHECK (default_priority BETWEEN 1 AND 4),
    acknowledge         INTEGER     NOT NULL DEFAULT 1,
    active              INTEGER     NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK ((imap_host IS NULL) = (imap_port IS NULL) AND (imap_host IS NULL) = (imap_security IS NULL)
       AND (imap_host IS NULL) = (imap_username IS NULL) AND (imap_host IS NULL) = (imap_folder IS NULL)
       AND (imap_host IS NULL) = (imap_after_import IS NULL)),
    CHECK ((smtp_host IS NULL) = (smtp_port IS NULL) AND (smtp_host IS NULL) = (smtp_security IS NULL)
       AND (smtp_host IS NULL) = (smtp_username IS NULL))
) STRICT;
CREATE INDEX mailboxes_category_idx ON mailboxes (default_category_id) WHERE default_category_id IS NOT NULL;

-- How far the fetcher has read a mailbox's folder: UIDs are only comparable within one
-- UIDVALIDITY.
CREATE TABLE mailbox_cursors (
    mailbox_id   BLOB    PRIMARY KEY NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL
) STRICT;

-- Every mail taken in, by its Message-ID: written in the transaction of the ticket or message
-- it became, so a mail fetched twice (a crash before the cursor moved, a copy in two folders)
-- is recognised and never imported twice.
CREATE TABLE inbound_mails (
    mailbox_id      BLOB        NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    message_id      TEXT        NOT NULL,
    ticket_id       BLOB        REFERENCES tickets (id) ON DELETE SET NULL,
    chat_message_id BLOB        REFERENCES messages (id) ON DELETE SET NULL,
    kind            TEXT        NOT NULL CHECK (kind IN ('message', 'auto_reply', 'bounce', 'ignored')),
    received_at     TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, message_id)
) STRICT;
CREATE INDEX inbound_mails_ticket_idx ON inbound_mails (ticket_id, received_at) WHERE ticket_id IS NOT NULL;
-- Threading by a customer's own earlier Message-ID, whichever mailbox it came to.
CREATE INDEX inbound_mails_message_id_idx ON inbound_mails (message_id);
CREATE INDEX inbound_mails_chat_message_idx ON inbound_mails (chat_message_id) WHERE chat_message_id IS NOT NULL;

-- The outbox: each mail is written in the transaction of the change that causes it and sent
-- by `growdesk-sync run`, with retries.
CREATE TABLE outbound_mails (
    id                BLOB    PRIMARY KEY NOT NULL,
    mailbox_id        BLOB        REFERENCES mailboxes (id) ON DELETE SET NULL,
    ticket_id         BLOB        REFERENCES tickets (id) ON DELETE CASCADE,
    message_id        BLOB        REFERENCES messages (id) ON DELETE CASCADE,
    kind              TEXT        NOT NULL CHECK (kind IN ('reply', 'acknowledgement', 'resolved', 'password_reset')),
    recipient         TEXT        NOT NULL,
    subject           TEXT        NOT NULL,
    text_body         TEXT        NOT NULL,
    html_body         TEXT,
    -- "<uuid@domain>", as sent: replies name it in In-Reply-To and References.
    header_message_id TEXT        NOT NULL UNIQUE,
    in_reply_to       TEXT,
    -- JSON arrays of strings and of attachment ids.
    reference_ids     TEXT        NOT NULL DEFAULT '[]',
    reply_to          TEXT,
    unsubscribe_url   TEXT,
    attachment_ids    TEXT        NOT NULL DEFAULT '[]',
    status            TEXT        NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    attempts          INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    sent_at           TEXT
) STRICT;
CREATE INDEX outbound_mails_due_idx ON outbound_mails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbound_mails_recipient_idx ON outbound_mails (recipient, kind, created_at);
CREATE INDEX outbound_mails_message_idx ON outbound_mails (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX outbound_mails_ticket_idx ON outbound_mails (ticket_id, created_at) WHERE ticket_id IS NOT NULL;
CREATE INDEX outbound_mails_mailbox_idx ON outbound_mails (mailbox_id) WHERE mailbox_id IS NOT NULL;

CREATE TABLE password_resets (
    -- SHA-256 of the token sent: a leaked database does not leak usable links.
    token_hash BLOB    PRIMARY KEY NOT NULL,
    user_id    BLOB        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

-- Admins' overrides of the built-in templates.
CREATE TABLE email_templates (
    kind       TEXT        NOT NULL,
    locale     TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    text_body  TEXT        NOT NULL,
    html_body  TEXT        NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, locale)
) STRICT;

-- Addresses never mailed again: unsubscribed, or bounced for good.
CREATE TABLE email_suppressions (
    email      TEXT    PRIMARY KEY NOT NULL,
    reason     TEXT        NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'web'
    CHECK (channel IN ('web', 'widget', 'email', 'api', 'import', 'system'));
-- What the existing messages came by: everything on imported tickets by import, the visitor's
-- own messages on widget conversations by the widget, GrowDesk's own notes by the system.
UPDATE messages SET channel = 'import'
    WHERE ticket_id IN (SELECT id FROM tickets WHERE source = 'import');
UPDATE messages SET channel = 'widget'
    WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.id = messages.ticket_id AND t.source = 'widget'
                  AND t.requester_id = messages.author_id);
UPDATE messages SET channel = 'system'
    WHERE author_id IN (SELECT id FROM users WHERE email = 'system@growdesk.local');

ALTER TABLE tickets ADD COLUMN mailbox_id BLOB REFERENCES mailboxes (id) ON DELETE SET NULL;
CREATE INDEX tickets_mailbox_idx ON tickets (mailbox_id) WHERE mailbox_id IS NOT NULL;
-- 'email' joins the sources. SQLite cannot alter a constraint, and rebuilding the tickets table
-- would cascade into every table that references it; a CHECK that accepts more than before
-- changes nothing stored, which is the case SQLite documents as safe to make by editing the
-- schema's text (https://www.sqlite.org/lang_altertable.html#otheralter).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, 'source IN (''web'', ''widget'', ''api'', ''import'')',
                      'source IN (''web'', ''widget'', ''api'', ''import'', ''email'')')
    WHERE type = 'table' AND name = 'tickets';
PRAGMA writable_schema = RESET;

ALTER TABLE users ADD COLUMN locale TEXT;
