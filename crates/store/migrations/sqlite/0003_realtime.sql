-- Realtime (SQLite twin of ../postgres/0003_realtime.sql).

ALTER TABLE ticket_events ADD COLUMN recipient_id BLOB;
CREATE INDEX ticket_events_recipient_idx ON ticket_events (recipient_id, id) WHERE recipient_id IS NOT NULL;

CREATE TABLE notifications (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    ticket_id  BLOB NOT NULL,
    data       TEXT NOT NULL,
    read_at    TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;

CREATE TABLE session_revocations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BLOB NOT NULL,
    session_id BLOB,
    created_at TEXT NOT NULL
);

ALTER TABLE users ADD COLUMN notify_new_tickets INTEGER NOT NULL DEFAULT 0;
