//! Choosing between the PostgreSQL and SQLite spelling of a statement inside `on_backend!`.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// A pool that knows which dialect it speaks.
pub(crate) trait Dialect {
    /// Whether this is PostgreSQL.
    const POSTGRES: bool;
}

impl Dialect for PgPool {
    const POSTGRES: bool = true;
}

impl Dialect for SqlitePool {
    const POSTGRES: bool = false;
}

/// `postgres` on a PostgreSQL pool, `sqlite` on an SQLite one.
///
/// Write transactions begin with `pick(pool, "BEGIN", "BEGIN IMMEDIATE")`: SQLite then takes
/// the write lock up front, waiting its busy timeout for it, instead of failing at once when a
/// read snapshot turns out stale at the first write.
pub(crate) fn pick<P: Dialect, T>(_pool: &P, postgres: T, sqlite: T) -> T {
    if P::POSTGRES { postgres } else { sqlite }
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
