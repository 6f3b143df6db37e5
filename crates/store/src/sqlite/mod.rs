//! Statements in SQLite's dialect, where it differs from PostgreSQL's.

/// The next ticket number. SQLite runs one writer at a time, so reading the maximum inside the
/// inserting transaction cannot hand out a number twice.
pub(crate) const NEXT_TICKET_NUMBER: &str = "(SELECT COALESCE(MAX(number), 0) + 1 FROM tickets)";

/// Tickets whose subject matches the search bound next (an FTS5 query).
pub(crate) const SUBJECT_MATCHES: &str =
    "t.rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH (";
/// Messages whose body matches the search.
pub(crate) const BODY_MATCHES: &str =
    "m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH (";
/// FAQs whose question or answer matches the search.
pub(crate) const FAQ_MATCHES: &str =
    "f.rowid IN (SELECT rowid FROM faqs_fts WHERE faqs_fts MATCH (";

/// Seconds between two timestamp columns.
pub(crate) fn seconds_between(from: &str, to: &str) -> String {
    format!("((julianday({to}) - julianday({from})) * 86400.0)")
}

/// The UTC calendar day of a timestamp column, as `YYYY-MM-DD` text (stored as UTC text).
pub(crate) fn day_of(column: &str) -> String {
    format!("substr({column}, 1, 10)")
}

/// Search terms as an FTS5 query: each term quoted, every term must match.
pub(crate) fn search_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|term| format!("\"{}\"", term.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}
