-- The ticket list filtered by priority, newest first, read straight from an index: the
-- (priority, id) index serves sorting by priority but left this filter sorting every
-- matching ticket (growdesk-bench plans: "USE TEMP B-TREE FOR ORDER BY").
CREATE INDEX tickets_priority_created_idx ON tickets (priority, created_at, id);
