//! Statements in PostgreSQL's dialect, where it differs from SQLite's.

use sqlx::Postgres;

use crate::dialect::{Around, Dialect, TicketSearch};

/// Ids of tickets whose stored subject vector matches, through its GIN index.
const SUBJECT_HITS: Around = Around {
    before: "SELECT s.id FROM tickets s WHERE s.search @@ plainto_tsquery('simple', growdesk_unaccent(",
    after: "))",
};

/// Tickets of messages whose stored body vector matches, through its GIN index.
const BODY_HITS: Around = Around {
    before: "SELECT m.ticket_id FROM messages m WHERE m.search @@ plainto_tsquery('simple', growdesk_unaccent(",
    after: "))",
};

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// From a sequence: no lock is held across ticket creation.
    const NEXT_TICKET_NUMBER: &'static str = "nextval('ticket_number_seq')";
    const TICKET_TAGS: &'static str = "(SELECT COALESCE(json_agg(tag ORDER BY tag), '[]')::text FROM ticket_tags WHERE ticket_id = t.id)";
    const LOCK_TICKET: &'static str = " FOR UPDATE OF t";
    const EXPLAIN: &'static str = "EXPLAIN ";
    /// PostgreSQL answers one text column.
    const EXPLAIN_DETAIL: usize = 0;
    /// The advisory lock that orders appends, and a notification that wakes other processes'
    /// relays when the transaction commits.
    const LOCK_FEED: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock($1), pg_notify('growdesk_changes', '')");
    const TICKET_SEARCH: TicketSearch = TICKET_SEARCH;
    const FAQ_MATCHES: &'static str = "to_tsvector('simple', growdesk_unaccent(f.question || ' ' || f.answer)) @@ plainto_tsquery('simple', growdesk_unaccent(";
    const NON_ASCII_EMAILS: &'static str = "SELECT id, email FROM users WHERE email ~ '[^ -~]'";

    /// Search terms as the plain text `plainto_tsquery` takes: it finds the words as
    /// `to_tsvector` did in the stored text (after the same `unaccent`) and requires every one.
    /// No character is query syntax there; `to_tsquery` read the `'`, `:`, `(`… that `unaccent`
    /// makes of `ʼ`, `ː` or `⑴` as operators.
    fn search_query(terms: &[String]) -> String {
        terms.join(" ")
    }

    fn seconds_between(from: &str, to: &str) -> String {
        format!("EXTRACT(EPOCH FROM ({to} - {from}))::float8")
    }
}

/// Ticket search with the words of a search, as plain text, against the stored `search` vectors (migration
/// 0011) and their GIN indexes. Collected ids are handed to the ticket scan as an array, so it
/// looks each one up by primary key rather than hashing the whole table.
const TICKET_SEARCH: TicketSearch = TicketSearch {
    // Collecting reads each matching message from the heap (63 ms for 20,000); walking tests
    // the stored vectors of the tickets it passes (15 ms to fill a page at 20,000 matches, about
    // 60 ms at 5,000, in a million tickets).
    collect_limit: 5_000,
    in_collected: Around {
        before: " AND t.id = ANY (ARRAY(",
        after: "))",
    },
    subject_hits: SUBJECT_HITS,
    body_hits: BODY_HITS,
    // A GIN bitmap scan reads the rows anyway, so counting reads what collecting does.
    subject_hit_rows: SUBJECT_HITS,
    body_hit_rows: BODY_HITS,
    subject_matches_row: Around {
        before: "t.search @@ plainto_tsquery('simple', growdesk_unaccent(",
        after: "))",
    },
    ticket_messages: "SELECT 1 FROM messages m WHERE m.ticket_id = t.id",
    // The function behind `@@`, which no index serves: each of the ticket's few messages is
    // tested as it is. With the operator, PostgreSQL intersected the ticket's messages with the
    // word's whole GIN posting list, once per ticket walked (4.4 s for a word in 6,500 messages,
    // 61 ms now).
    body_matches_row: Around {
        before: " AND ts_match_vq(m.search, plainto_tsquery('simple', growdesk_unaccent(",
        after: ")))",
    },
    // OFFSET 0 keeps the planner from turning the EXISTS into a hash of every matching
    // message, which is the cost the walk is there to avoid.
    ticket_messages_end: " OFFSET 0",
};
