//! Statements in PostgreSQL's dialect, where it differs from SQLite's.

/// The next ticket number, from a sequence: no lock is held across ticket creation.
pub(crate) const NEXT_TICKET_NUMBER: &str = "nextval('ticket_number_seq')";

/// Tickets whose subject matches the search bound as `$N` (a `to_tsquery` string).
pub(crate) const SUBJECT_MATCHES: &str = "to_tsvector('simple', growdesk_unaccent(t.subject)) @@ to_tsquery('simple', growdesk_unaccent(";
/// Messages whose body matches the search.
pub(crate) const BODY_MATCHES: &str =
    "to_tsvector('simple', growdesk_unaccent(m.body)) @@ to_tsquery('simple', growdesk_unaccent(";
/// FAQs whose question or answer matches the search.
pub(crate) const FAQ_MATCHES: &str = "to_tsvector('simple', growdesk_unaccent(f.question || ' ' || f.answer)) @@ to_tsquery('simple', growdesk_unaccent(";

/// Seconds between two timestamp columns.
pub(crate) fn seconds_between(from: &str, to: &str) -> String {
    format!("EXTRACT(EPOCH FROM ({to} - {from}))::float8")
}

/// The UTC calendar day of a timestamp column, as `YYYY-MM-DD` text.
pub(crate) fn day_of(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
}

/// Search terms as a `to_tsquery` string: every term must match.
pub(crate) fn search_query(terms: &[String]) -> String {
    terms.join(" & ")
}
