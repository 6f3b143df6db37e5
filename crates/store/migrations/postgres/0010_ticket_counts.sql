-- The dashboard's counts, kept by triggers in the transactions that change tickets: counting a
-- million tickets on every request took seconds (growdesk-bench, stats at 1M tickets).
-- Twin of ../sqlite/0010_ticket_counts.sql.
CREATE TABLE ticket_counts (
    status       text     NOT NULL,
    priority     smallint NOT NULL,
    -- The nil uuid stands for no assignee: a key column cannot hold NULL.
    assignee_key uuid     NOT NULL,
    tickets      bigint   NOT NULL,
    PRIMARY KEY (status, priority, assignee_key)
);

-- Tickets opened per UTC day (YYYY-MM-DD).
CREATE TABLE ticket_days (
    day     text   PRIMARY KEY,
    tickets bigint NOT NULL
);

CREATE FUNCTION growdesk_add_ticket_count(at_status text, at_priority smallint, at_assignee uuid, delta bigint)
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_counts AS c (status, priority, assignee_key, tickets)
        VALUES (at_status, at_priority, at_assignee, delta)
        ON CONFLICT (status, priority, assignee_key) DO UPDATE SET tickets = c.tickets + delta;
$$;

CREATE FUNCTION growdesk_count_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    nil CONSTANT uuid := '00000000-0000-0000-0000-000000000000';
    old_key uuid;
    new_key uuid;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_key := COALESCE(OLD.assignee_id, nil);
        new_key := COALESCE(NEW.assignee_id, nil);
        IF (OLD.status, OLD.priority, old_key) = (NEW.status, NEW.priority, new_key) THEN
            RETURN NULL;
        END IF;
        -- The ticket moves between two counter rows. They are locked in key order, so two
        -- tickets moving opposite ways at once cannot deadlock.
        IF (OLD.status, OLD.priority, old_key) < (NEW.status, NEW.priority, new_key) THEN
            PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, old_key, -1);
            PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, new_key, 1);
        ELSE
            PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, new_key, 1);
            PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, old_key, -1);
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, COALESCE(NEW.assignee_id, nil), 1);
        INSERT INTO ticket_days AS d (day, tickets)
            VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 1)
            ON CONFLICT (day) DO UPDATE SET tickets = d.tickets + 1;
    ELSE
        PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, COALESCE(OLD.assignee_id, nil), -1);
        UPDATE ticket_days SET tickets = tickets - 1
            WHERE day = to_char(OLD.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD');
    END IF;
    RETURN NULL;
END
$$;

-- Deferred to commit, so the hot counter rows stay locked for the commit only, not for the
-- whole transaction that opens or changes a ticket.
CREATE CONSTRAINT TRIGGER tickets_counted
    AFTER INSERT OR DELETE OR UPDATE OF status, priority, assignee_id ON tickets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION growdesk_count_ticket();

INSERT INTO ticket_counts (status, priority, assignee_key, tickets)
    SELECT status, priority, COALESCE(assignee_id, '00000000-0000-0000-0000-000000000000'), COUNT(*) FROM tickets GROUP BY 1, 2, 3;
INSERT INTO ticket_days (day, tickets)
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), COUNT(*) FROM tickets GROUP BY 1;
