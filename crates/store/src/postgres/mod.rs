//! Statements in PostgreSQL's dialect, where it differs from SQLite's, and the NOTIFY that
//! wakes other processes' relays.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use sqlx::{PgPool, Postgres};

use crate::CHANGES_CHANNEL;
use crate::dialect::{Around, Dialect, TicketSearch};

/// Wakes other processes' relays after this process's commits, with a `NOTIFY` sent after the
/// commit rather than inside the committing transaction: PostgreSQL queues notifications in
/// commit order by holding a lock on "database 0" from before the commit until after its
/// flush, which would serialise every write of every instance again. One `NOTIFY` is sent for
/// a burst of commits; one lost (the database gone, the process ending) only delays the other
/// relays to their next poll.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    state: AtomicU8,
}

/// No `NOTIFY` under way.
const IDLE: u8 = 0;
/// A `NOTIFY` under way covers every commit so far.
const SENDING: u8 = 1;
/// A commit came after the `NOTIFY` under way began: one more follows it.
const AGAIN: u8 = 2;

impl Announcer {
    /// Wakes the other processes' relays for a commit that just ended.
    pub(crate) fn announce(self: &Arc<Self>, pool: &PgPool) {
        let previous = self.state.swap(AGAIN, Ordering::AcqRel);
        if previous == IDLE {
            let announcer = Arc::clone(self);
            let pool = pool.clone();
            tokio::spawn(async move { announcer.send(&pool).await });
        }
    }

    async fn send(&self, pool: &PgPool) {
        // AGAIN means a commit not covered yet: claim it (SENDING) and send; SENDING means all
        // are covered: stop (IDLE).
        while self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some(if state == AGAIN { SENDING } else { IDLE })
            })
            .is_ok_and(|state| state == AGAIN)
        {
            if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANGES_CHANNEL)
                .execute(pool)
                .await
            {
                tracing::debug!(%error, "could not wake other instances; their relays poll");
            }
        }
    }
}

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
    /// Gives the transaction its id if it has none yet: it must have one before it draws an
    /// id of the log's sequences.
    const BEFORE_APPEND: Option<&'static str> = Some("SELECT pg_current_xact_id()");
    /// One statement for the whole append: it takes the transaction's id first (the join
    /// with `drawer` runs it before any row is drawn an id), then the events in order, their
    /// notifications' rows, and the webhook deliveries of the public ones.
    const APPEND_EVENTS: Option<&'static str> = Some(
        "WITH drawer AS MATERIALIZED (SELECT pg_current_xact_id() AS xid), \
         new AS (SELECT * FROM jsonb_to_recordset($1) AS r(seq integer, ticket_id uuid, kind text, \
             actor_id uuid, internal boolean, recipient_id uuid, data jsonb, notification jsonb)), \
         notified AS (INSERT INTO notifications (id, user_id, kind, ticket_id, data, created_at) \
             SELECT (n.notification->>'id')::uuid, n.recipient_id, n.notification->>'kind', n.ticket_id, \
             n.notification->'data', $2 FROM new n WHERE n.notification IS NOT NULL), \
         appended AS (INSERT INTO ticket_events (ticket_id, kind, actor_id, internal, recipient_id, data, created_at) \
             SELECT n.ticket_id, n.kind, n.actor_id, n.internal, n.recipient_id, n.data, $2 \
             FROM new n, drawer d WHERE d.xid IS NOT NULL ORDER BY n.seq RETURNING id, kind, recipient_id) \
         INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status, next_attempt_at, created_at) \
         SELECT DISTINCT w.id, a.id, a.kind, 'pending', $2, $2 FROM appended a \
         JOIN webhook_subscriptions s ON s.event_type IN (a.kind, '*') JOIN webhooks w ON w.id = s.webhook_id \
         WHERE a.recipient_id IS NULL AND w.active = TRUE",
    );
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
