-- The dashboard's counters in slots: every transaction that opened a ticket updated the same
-- counter row, and PostgreSQL releases a row lock only once the commit's WAL flush is done,
-- so creations queued one flush at a time behind each other on every instance
-- (scripts/profile-writes.sh: the counter's upsert took 4 of a create's 5 ms of statements at
-- 32 clients). Each connection now adds to its own slot of a counter (its backend's pid
-- modulo 16) and readers sum the slots; two writers contend only when their connections share
-- a slot. SQLite has one writer at a time, so its counters keep one row (../sqlite/0021).
ALTER TABLE ticket_counts ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE ticket_counts DROP CONSTRAINT ticket_counts_pkey;
ALTER TABLE ticket_counts ADD PRIMARY KEY (status, priority, assignee_key, slot);
ALTER TABLE ticket_days ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE ticket_days DROP CONSTRAINT ticket_days_pkey;
ALTER TABLE ticket_days ADD PRIMARY KEY (day, slot);

CREATE FUNCTION growdesk_counter_slot() RETURNS smallint LANGUAGE sql STABLE AS $$
    SELECT (pg_backend_pid() % 16)::smallint;
$$;

CREATE OR REPLACE FUNCTION growdesk_add_ticket_count(at_status text, at_priority smallint, at_assignee uuid, delta bigint)
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_counts AS c (status, priority, assignee_key, slot, tickets)
        VALUES (at_status, at_priority, at_assignee, growdesk_counter_slot(), delta)
        ON CONFLICT (status, priority, assignee_key, slot) DO UPDATE SET tickets = c.tickets + delta;
$$;

CREATE FUNCTION growdesk_add_ticket_day(at_created timestamptz, delta bigint)
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_days AS d (day, slot, tickets)
        VALUES (to_char(at_created AT TIME ZONE 'UTC', 'YYYY-MM-DD'), growdesk_counter_slot(), delta)
        ON CONFLICT (day, slot) DO UPDATE SET tickets = d.tickets + delta;
$$;

CREATE OR REPLACE FUNCTION growdesk_count_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
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
        -- The ticket moves between two counter rows of this connection's slot. They are
        -- locked in key order, so two tickets moving opposite ways at once cannot deadlock.
        IF (OLD.status, OLD.priority, old_key) < (NEW.status, NEW.priority, new_key) THEN
            PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, old_key, -1);
            PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, new_key, 1);
        ELSE
            PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, new_key, 1);
            PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, old_key, -1);
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM growdesk_add_ticket_count(NEW.status, NEW.priority, COALESCE(NEW.assignee_id, nil), 1);
        PERFORM growdesk_add_ticket_day(NEW.created_at, 1);
    ELSE
        PERFORM growdesk_add_ticket_count(OLD.status, OLD.priority, COALESCE(OLD.assignee_id, nil), -1);
        PERFORM growdesk_add_ticket_day(OLD.created_at, -1);
    END IF;
    RETURN NULL;
END
$$;
