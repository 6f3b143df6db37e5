//! Statements in SQLite's dialect, where it differs from PostgreSQL's.

use crate::dialect::{Around, TicketSearch};

/// The next ticket number. SQLite runs one writer at a time, so reading the maximum inside the
/// inserting transaction cannot hand out a number twice.
pub(crate) const NEXT_TICKET_NUMBER: &str = "(SELECT COALESCE(MAX(number), 0) + 1 FROM tickets)";

/// Ticket search with an FTS5 query. Row by row, the FTS5 tables are probed by rowid with the
/// query, which seeks the term's index entries instead of listing every match.
pub(crate) const TICKET_SEARCH: TicketSearch = TicketSearch {
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

/// FAQs whose question or answer matches the search.
pub(crate) const FAQ_MATCHES: &str =
    "f.rowid IN (SELECT rowid FROM faqs_fts WHERE faqs_fts MATCH (";

/// Seconds between two timestamp columns.
pub(crate) fn seconds_between(from: &str, to: &str) -> String {
    format!("((julianday({to}) - julianday({from})) * 86400.0)")
}

/// Search terms as an FTS5 query: each term an FTS5 string (its `"` doubled), so it is split
/// into tokens by the tokenizer that indexed the text and nothing in it is query syntax; every
/// term must match.
pub(crate) fn search_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}
