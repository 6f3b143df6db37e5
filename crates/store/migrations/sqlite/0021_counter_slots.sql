-- Twin of ../postgres/0021_counter_slots.sql, which spreads PostgreSQL's dashboard counters over
-- slots so that concurrent transactions stop queuing on one row through their commits. SQLite
-- runs one write transaction at a time, so nothing contends there: its counters keep one row
-- each, and the readers' sums over slots read that row.
SELECT 1;
