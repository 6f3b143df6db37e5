-- Tickets and messages keep their search vectors. A search for a common word tests tickets
-- row by row along the sort order; computing to_tsvector for every message it passed made
-- that walk take seconds at a million tickets (growdesk-bench, search_word).
-- Twin of ../sqlite/0011_stored_search_vectors.sql.
ALTER TABLE tickets ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', growdesk_unaccent(subject))) STORED;
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', growdesk_unaccent(body))) STORED;
DROP INDEX tickets_subject_search_idx;
CREATE INDEX tickets_subject_search_idx ON tickets USING gin (search);
DROP INDEX messages_search_idx;
CREATE INDEX messages_search_idx ON messages USING gin (search);
