-- The email channel: mailboxes, their IMAP cursors, the mails taken in and the outbox of mails
-- to send, password resets, admins' template overrides and suppressed addresses; the channel
-- of each message, the mailbox a ticket's mail goes out from, and a user's locale.
-- SQLite twin: ../sqlite/0020_email.sql.

CREATE TABLE mailboxes (
    id                  uuid        PRIMARY KEY,
    -- Lower-cased by the domain's Email.
    address             text        NOT NULL UNIQUE,
    display_name        text        NOT NULL,
    -- IMAP: all NULL, or all but the password set.
    imap_host           text,
    imap_port           integer     CHECK (imap_port BETWEEN 1 AND 65535),
    imap_security       text        CHECK (imap_security IN ('tls', 'starttls', 'none')),
    imap_username       text,
    imap_folder         text,
    -- 'seen' or 'move:<folder>'.
    imap_after_import   text,
    -- Passwords are kept as webhook secrets are: the fetcher and the sender need them in clear.
    imap_password       text,
    smtp_host           text,
    smtp_port           integer     CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_security       text        CHECK (smtp_security IN ('tls', 'starttls', 'none')),
    smtp_username       text,
    smtp_password       text,
    default_category_id uuid        REFERENCES categories (id) ON DELETE SET NULL,
    default_priority    smallint    NOT NULL DEFAULT 2 CHECK (default_priority BETWEEN 1 AND 4),
    acknowledge         boolean     NOT NULL DEFAULT true,
    active              boolean     NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((imap_host IS NULL) = (imap_port IS NULL) AND (imap_host IS NULL) = (imap_security IS NULL)
       AND (imap_host IS NULL) = (imap_username IS NULL) AND (imap_host IS NULL) = (imap_folder IS NULL)
       AND (imap_host IS NULL) = (imap_after_import IS NULL)),
    CHECK ((smtp_host IS NULL) = (smtp_port IS NULL) AND (smtp_host IS NULL) = (smtp_security IS NULL)
       AND (smtp_host IS NULL) = (smtp_username IS NULL))
);
CREATE INDEX mailboxes_category_idx ON mailboxes (default_category_id) WHERE default_category_id IS NOT NULL;

-- How far the fetcher has read a mailbox's folder: UIDs are only comparable within one
-- UIDVALIDITY.
CREATE TABLE mailbox_cursors (
    mailbox_id   uuid   PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL
);

-- Every mail taken in, by its Message-ID: written in the transaction of the ticket or message
-- it became, so a mail fetched twice (a crash before the cursor moved, a copy in two folders)
-- is recognised and never imported twice.
CREATE TABLE inbound_mails (
    mailbox_id      uuid        NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    message_id      text        NOT NULL,
    ticket_id       uuid        REFERENCES tickets (id) ON DELETE SET NULL,
    chat_message_id uuid        REFERENCES messages (id) ON DELETE SET NULL,
    kind            text        NOT NULL CHECK (kind IN ('message', 'auto_reply', 'bounce', 'ignored')),
    received_at     timestamptz NOT NULL,
    PRIMARY KEY (mailbox_id, message_id)
);
CREATE INDEX inbound_mails_ticket_idx ON inbound_mails (ticket_id, received_at) WHERE ticket_id IS NOT NULL;
-- Threading by a customer's own earlier Message-ID, whichever mailbox it came to.
CREATE INDEX inbound_mails_message_id_idx ON inbound_mails (message_id);
CREATE INDEX inbound_mails_chat_message_idx ON inbound_mails (chat_message_id) WHERE chat_message_id IS NOT NULL;

-- The outbox: each mail is written in the transaction of the change that causes it and sent
-- by `growdesk-sync run`, with retries.
CREATE TABLE outbound_mails (
    id                uuid        PRIMARY KEY,
    mailbox_id        uuid        REFERENCES mailboxes (id) ON DELETE SET NULL,
    ticket_id         uuid        REFERENCES tickets (id) ON DELETE CASCADE,
    message_id        uuid        REFERENCES messages (id) ON DELETE CASCADE,
    kind              text        NOT NULL CHECK (kind IN ('reply', 'acknowledgement', 'resolved', 'password_reset')),
    recipient         text        NOT NULL,
    subject           text        NOT NULL,
    text_body         text        NOT NULL,
    html_body         text,
    -- "<uuid@domain>", as sent: replies name it in In-Reply-To and References.
    header_message_id text        NOT NULL UNIQUE,
    in_reply_to       text,
    -- JSON arrays of strings and of attachment ids.
    reference_ids     text        NOT NULL DEFAULT '[]',
    reply_to          text,
    unsubscribe_url   text,
    attachment_ids    text        NOT NULL DEFAULT '[]',
    status            text        NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL,
    last_error        text,
    created_at        timestamptz NOT NULL,
    sent_at           timestamptz
);
CREATE INDEX outbound_mails_due_idx ON outbound_mails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbound_mails_recipient_idx ON outbound_mails (recipient, kind, created_at);
CREATE INDEX outbound_mails_message_idx ON outbound_mails (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX outbound_mails_ticket_idx ON outbound_mails (ticket_id, created_at) WHERE ticket_id IS NOT NULL;
CREATE INDEX outbound_mails_mailbox_idx ON outbound_mails (mailbox_id) WHERE mailbox_id IS NOT NULL;

CREATE TABLE password_resets (
    -- SHA-256 of the token sent: a leaked database does not leak usable links.
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

-- Admins' overrides of the built-in templates.
CREATE TABLE email_templates (
    kind       text        NOT NULL,
    locale     text        NOT NULL,
    subject    text        NOT NULL,
    text_body  text        NOT NULL,
    html_body  text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, locale)
);

-- Addresses never mailed again: unsubscribed, or bounced for good.
CREATE TABLE email_suppressions (
    email      text        PRIMARY KEY,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL
);

ALTER TABLE messages ADD COLUMN channel text NOT NULL DEFAULT 'web'
    CHECK (channel IN ('web', 'widget', 'email', 'api', 'import', 'system'));
-- What the existing messages came by: everything on imported tickets by import, the visitor's
-- own messages on widget conversations by the widget, GrowDesk's own notes by the system.
UPDATE messages m SET channel = 'import'
    FROM tickets t WHERE t.id = m.ticket_id AND t.source = 'import';
UPDATE messages m SET channel = 'widget'
    FROM tickets t WHERE t.id = m.ticket_id AND t.source = 'widget' AND m.author_id = t.requester_id;
UPDATE messages m SET channel = 'system'
    FROM users u WHERE u.id = m.author_id AND u.email = 'system@growdesk.local';

ALTER TABLE tickets ADD COLUMN mailbox_id uuid REFERENCES mailboxes (id) ON DELETE SET NULL;
CREATE INDEX tickets_mailbox_idx ON tickets (mailbox_id) WHERE mailbox_id IS NOT NULL;
-- 'email' joins the sources. NOT VALID: the new check accepts more than the old, so the rows
-- already there pass it, and a million tickets need not be scanned under an exclusive lock.
ALTER TABLE tickets DROP CONSTRAINT tickets_source_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_source_check
    CHECK (source IN ('web', 'widget', 'api', 'import', 'email')) NOT VALID;

ALTER TABLE users ADD COLUMN locale text;
