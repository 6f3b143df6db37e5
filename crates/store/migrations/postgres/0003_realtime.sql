-- Realtime: personal events (notifications), persisted notifications, session revocations that
-- close sockets, and the agents' opt-in for new-ticket notifications.

-- Events with a recipient are private to that user (notifications); the others follow ticket
-- visibility.
ALTER TABLE ticket_events ADD COLUMN recipient_id uuid;
CREATE INDEX ticket_events_recipient_idx ON ticket_events (recipient_id, id) WHERE recipient_id IS NOT NULL;

CREATE TABLE notifications (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    ticket_id  uuid        NOT NULL,
    data       jsonb       NOT NULL,
    read_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;

-- Sign-outs, password changes, deactivations and role changes, in order, so every instance can
-- close the affected sockets. A NULL session means every session of the user.
CREATE TABLE session_revocations (
    id         bigserial   PRIMARY KEY,
    user_id    uuid        NOT NULL,
    session_id uuid,
    created_at timestamptz NOT NULL
);

ALTER TABLE users ADD COLUMN notify_new_tickets boolean NOT NULL DEFAULT false;
