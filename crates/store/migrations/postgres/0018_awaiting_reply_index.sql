-- Open tickets no one on the staff has answered yet, by priority and age: the dashboard counts
-- those past their first-response target from this index alone, rather than from every open
-- ticket. Twin of ../sqlite/0018_awaiting_reply_index.sql.
CREATE INDEX tickets_awaiting_reply_idx ON tickets (priority, created_at)
    WHERE first_response_at IS NULL AND status NOT IN ('resolved', 'closed');
