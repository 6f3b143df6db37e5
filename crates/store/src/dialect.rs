//! What differs between PostgreSQL's and SQLite's SQL, as one trait implemented by each driver's
//! database type (in `postgres/` and `sqlite/`), so code written once for both names the
//! statement it needs and the compiler picks the backend's.

use sqlx::Database;

/// A backend's spelling of the statements that differ between the two.
pub(crate) trait Dialect: Database {
    /// Begins a write transaction. SQLite's `BEGIN IMMEDIATE` takes the write lock up front,
    /// waiting its busy timeout for it, instead of failing at once when a read snapshot turns
    /// out stale at the first write.
    const BEGIN_WRITE: &'static str;
    /// The next ticket number, as an expression inside the inserting transaction.
    const NEXT_TICKET_NUMBER: &'static str;
    /// The tags of ticket `t` as a JSON array of names, sorted.
    const TICKET_TAGS: &'static str;
    /// Follows a ticket query for one ticket `t` that is about to change: holds it until the
    /// transaction ends (SQLite's write lock already does).
    const LOCK_TICKET: &'static str;
    /// Precedes a query to have its plan instead of its rows...
    const EXPLAIN: &'static str;
    /// ...whose text is in this column of each row.
    const EXPLAIN_DETAIL: usize;
    /// Run in a transaction before it appends events or session revocations, if this backend
    /// needs it (see `events`).
    const BEFORE_APPEND: Option<&'static str>;
    /// Appends the events of a JSON array (`write_tx::as_rows`, bound first, their time
    /// second) with their notifications' rows and webhook deliveries in one statement, if
    /// this backend can; otherwise each row is a statement of its own.
    const APPEND_EVENTS: Option<&'static str>;
    /// Finding tickets by a bound search query.
    const TICKET_SEARCH: TicketSearch;
    /// Opens a test of whether FAQ `f` matches a bound search query, closed by `MATCH_END`.
    const FAQ_MATCHES: &'static str;
    /// The users whose email holds a character outside printable ASCII.
    const NON_ASCII_EMAILS: &'static str;

    /// Search terms as the query the full-text search of this backend takes: every term
    /// must match, and nothing in a term is query syntax.
    fn search_query(terms: &[String]) -> String;

    /// Seconds between two timestamp columns, as a float.
    fn seconds_between(from: &str, to: &str) -> String;
}

/// Closes a dialect's search expression (`FAQ_MATCHES`) after its bound query.
pub(crate) const MATCH_END: &str = "))";

/// SQL around one bound value or subquery: `before`, it, `after`.
pub(crate) struct Around {
    pub(crate) before: &'static str,
    pub(crate) after: &'static str,
}

/// A dialect's ways of finding tickets by a bound search query (see `tickets::SearchPlan`).
pub(crate) struct TicketSearch {
    /// Past this many matching subjects and messages, a search walks the sort order instead
    /// of collecting its matches (see `tickets::SearchPlan`).
    pub(crate) collect_limit: i64,
    /// Around the collected ids (a subquery): limits the tickets `t` to them.
    pub(crate) in_collected: Around,
    /// Selects the ids of tickets whose subject matches, through the full-text index.
    pub(crate) subject_hits: Around,
    /// Selects `m.ticket_id` of messages whose body matches, through the full-text index.
    pub(crate) body_hits: Around,
    /// One row per matching subject, read from as little as the backend allows: for counting.
    pub(crate) subject_hit_rows: Around,
    /// One row per matching message, likewise.
    pub(crate) body_hit_rows: Around,
    /// Whether the subject of ticket `t` matches, tested on that row.
    pub(crate) subject_matches_row: Around,
    /// Selects the messages `m` of ticket `t` (a filter on them may follow)...
    pub(crate) ticket_messages: &'static str,
    /// ...then keeps those whose body matches, tested message by message...
    pub(crate) body_matches_row: Around,
    /// ...and ends that selection.
    pub(crate) ticket_messages_end: &'static str,
}
