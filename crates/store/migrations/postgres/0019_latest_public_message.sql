-- A ticket's latest public message in one probe: whether a ticket is unread for a staff member
-- depends only on it (its id against their read mark, its author against them), so a list page
-- looks at one entry per ticket, not at every message after the mark.
CREATE INDEX ticket_events_public_messages_idx ON ticket_events (ticket_id, id)
    WHERE kind = 'message_created' AND internal = FALSE;
