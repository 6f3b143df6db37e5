-- The dashboard's counts, kept by triggers in the transactions that change tickets: counting a
-- million tickets on every request took seconds (growdesk-bench, stats at 1M tickets).
-- Twin of ../postgres/0010_ticket_counts.sql.
CREATE TABLE ticket_counts (
    status       TEXT    NOT NULL,
    priority     INTEGER NOT NULL,
    -- The nil uuid stands for no assignee: a key column cannot hold NULL.
    assignee_key BLOB    NOT NULL,
    tickets      INTEGER NOT NULL,
    PRIMARY KEY (status, priority, assignee_key)
) STRICT, WITHOUT ROWID;

-- Tickets opened per UTC day (YYYY-MM-DD).
CREATE TABLE ticket_days (
    day     TEXT    PRIMARY KEY NOT NULL,
    tickets INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tickets_counted_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts (status, priority, assignee_key, tickets)
        VALUES (new.status, new.priority, coalesce(new.assignee_id, zeroblob(16)), 1)
        ON CONFLICT (status, priority, assignee_key) DO UPDATE SET tickets = tickets + 1;
    INSERT INTO ticket_days (day, tickets) VALUES (substr(new.created_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET tickets = tickets + 1;
END;

CREATE TRIGGER tickets_counted_update AFTER UPDATE OF status, priority, assignee_id ON tickets
WHEN old.status IS NOT new.status OR old.priority IS NOT new.priority
     OR old.assignee_id IS NOT new.assignee_id
BEGIN
    UPDATE ticket_counts SET tickets = tickets - 1
        WHERE status = old.status AND priority = old.priority
          AND assignee_key = coalesce(old.assignee_id, zeroblob(16));
    INSERT INTO ticket_counts (status, priority, assignee_key, tickets)
        VALUES (new.status, new.priority, coalesce(new.assignee_id, zeroblob(16)), 1)
        ON CONFLICT (status, priority, assignee_key) DO UPDATE SET tickets = tickets + 1;
END;

CREATE TRIGGER tickets_counted_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET tickets = tickets - 1
        WHERE status = old.status AND priority = old.priority
          AND assignee_key = coalesce(old.assignee_id, zeroblob(16));
    UPDATE ticket_days SET tickets = tickets - 1 WHERE day = substr(old.created_at, 1, 10);
END;

INSERT INTO ticket_counts (status, priority, assignee_key, tickets)
    SELECT status, priority, coalesce(assignee_id, zeroblob(16)), COUNT(*) FROM tickets
    GROUP BY 1, 2, 3;
INSERT INTO ticket_days (day, tickets)
    SELECT substr(created_at, 1, 10), COUNT(*) FROM tickets GROUP BY 1;
