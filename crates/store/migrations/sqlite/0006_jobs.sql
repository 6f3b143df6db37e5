-- Scheduled maintenance (SQLite twin of ../postgres/0006_jobs.sql).

CREATE TABLE job_leases (
    name             TEXT PRIMARY KEY NOT NULL,
    holder           TEXT NOT NULL,
    locked_until     TEXT NOT NULL,
    last_finished_at TEXT
) STRICT;

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    holder      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL
);
CREATE INDEX job_runs_name_idx ON job_runs (name, id);

CREATE TABLE sla_breaches (
    ticket_id   BLOB NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    notified_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, kind)
) STRICT;
