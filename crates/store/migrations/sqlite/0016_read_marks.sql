-- Read marks: how far each staff member has read each ticket, as the id of the ticket's latest
-- event when they last opened it. A ticket is unread for them while its log holds a public
-- message by someone else after that id; a list page joins each ticket to its reader's mark by
-- the primary key and looks for such a message through ticket_events_ticket_idx.
CREATE TABLE ticket_reads (
    user_id       BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id     BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    last_event_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
) STRICT, WITHOUT ROWID;
-- Deleting a ticket deletes its marks through this index.
CREATE INDEX ticket_reads_ticket_idx ON ticket_reads (ticket_id);
