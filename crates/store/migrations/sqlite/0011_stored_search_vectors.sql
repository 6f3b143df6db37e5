-- Nothing to do on SQLite: its FTS5 tables already hold the search index that tickets are
-- tested against row by row. Twin of ../postgres/0011_stored_search_vectors.sql, which stores
-- PostgreSQL's search vectors.
SELECT 1;
