-- Scheduled maintenance: leases so that several `growdesk-sync run` processes never run the
-- same job at once, a record of runs, and which service-level breaches were already told.

CREATE TABLE job_leases (
    name             text        PRIMARY KEY,
    holder           text        NOT NULL,
    locked_until     timestamptz NOT NULL,
    last_finished_at timestamptz
);

CREATE TABLE job_runs (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL,
    holder      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    -- What the run did, such as `{"closed": 3}`.
    outcome     jsonb       NOT NULL
);
CREATE INDEX job_runs_name_idx ON job_runs (name, id);

CREATE TABLE sla_breaches (
    ticket_id   uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- `first_response` or `resolution`.
    kind        text        NOT NULL,
    notified_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
