//! SQLite: its dialect, where it differs from PostgreSQL's, its database file, and its single
//! writer.

pub(crate) mod file;
pub(crate) mod writer;

use sqlx::Sqlite;

use crate::dialect::{Around, Dialect, TicketSearch};

impl Dialect for Sqlite {
    /// Begins a batch of the single writer (`writer`), whose writes are its savepoints.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    /// SQLite runs one writer at a time, so reading the maximum inside the inserting
    /// transaction cannot hand out a number twice.
    const NEXT_TICKET_NUMBER: &'static str = "(SELECT COALESCE(MAX(number), 0) + 1 FROM tickets)";
    const TICKET_TAGS: &'static str = "(SELECT json_group_array(tag) FROM (SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag))";
    const LOCK_TICKET: &'static str = "";
    const EXPLAIN: &'static str = "EXPLAIN QUERY PLAN ";
    /// SQLite answers (id, parent, notused, detail).
    const EXPLAIN_DETAIL: usize = 3;
    /// One writer at a time orders appends, and relays poll.
    const BEFORE_APPEND: Option<&'static str> = None;
    /// A statement per row: SQLite has no `INSERT` inside `WITH`.
    const APPEND_EVENTS: Option<&'static str> = None;
    const TICKET_SEARCH: TicketSearch = TICKET_SEARCH;
    const FAQ_MATCHES: &'static str =
        "f.rowid IN (SELECT rowid FROM faqs_fts WHERE faqs_fts MATCH (";
    const NON_ASCII_EMAILS: &'static str =
        "SELECT id, email FROM users WHERE email GLOB '*[^ -~]*'";

    /// Search terms as an FTS5 query: each term an FTS5 string (its `"` doubled), so it is
    /// split into tokens by the tokenizer that indexed the text and nothing in it is query
    /// syntax; every term must match.
    fn search_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn seconds_between(from: &str, to: &str) -> String {
        format!("((julianday({to}) - julianday({from})) * 86400.0)")
    }
}

/// Ticket search with an FTS5 query. Row by row, the FTS5 tables are probed by rowid with the
/// query, which seeks the term's index entries instead of listing every match.
const TICKET_SEARCH: TicketSearch = TicketSearch {
    // Collecting costs about 3 µs a match (60 ms at 20,000); walking costs the rows it passes
    // before the page is full, under about 100 ms past 20,000 matches in a million tickets.
    collect_limit: 20_000,
    in_collected: Around {
        before: " AND t.id IN (",
        after: ")",
    },
    subject_hits: Around {
        before: "SELECT s.id FROM tickets s WHERE s.rowid IN \
                 (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH (",
        after: "))",
    },
    body_hits: Around {
        before: "SELECT m.ticket_id FROM messages m WHERE m.rowid IN \
                 (SELECT rowid FROM messages_fts WHERE messages_fts MATCH (",
        after: "))",
    },
    // The FTS5 index alone: counting 20,000 matches takes 1 ms, where reading their rows took
    // 20–300 ms (warm or cold cache).
    subject_hit_rows: Around {
        before: "SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH (",
        after: ")",
    },
    body_hit_rows: Around {
        before: "SELECT rowid FROM messages_fts WHERE messages_fts MATCH (",
        after: ")",
    },
    subject_matches_row: Around {
        before: "EXISTS (SELECT 1 FROM tickets_fts WHERE tickets_fts.rowid = t.rowid AND tickets_fts MATCH (",
        after: "))",
    },
    ticket_messages: "SELECT 1 FROM messages m JOIN messages_fts ON messages_fts.rowid = m.rowid \
                      WHERE m.ticket_id = t.id",
    body_matches_row: Around {
        before: " AND messages_fts MATCH (",
        after: ")",
    },
    ticket_messages_end: "",
};
