-- Staff, apart from the customers: who hears of new tickets is looked up on every ticket
-- opened, and the planner scanned every user for it once customers outnumbered staff
-- (growdesk-bench: 100,000 customers, 50 agents; create_ticket spent half its time there).
CREATE INDEX users_staff_idx ON users (role, id) WHERE role IN ('admin', 'agent');
