//! The ticket event log: every change, written in the change's transaction, read back in id
//! order — by the REST API per ticket, and by the realtime relay for everyone.
//!
//! A reader resuming "after id N" must never skip an id that commits late, nor see one twice.
//! SQLite has one writer at a time, so its ids become visible in id order. PostgreSQL's writers
//! run side by side and draw ids from a sequence, so a transaction may commit before another
//! that drew a lower id; no lock orders them (one held until commit serialised every write of
//! every instance, the disk flush included). Instead, a reader of the whole log reads only up to
//! a *settled* id, below which every id has committed or never will: `Events::settle`.
//!
//! Settling reads, in one statement, the sequences' last values (every id up to them has been
//! drawn) and then takes a transaction id of its own, which is higher than that of every
//! transaction that drew one of those ids, because a writer has its transaction id before it
//! draws an event id (`WriteTx::append_events` and `before_append` make sure of it). Once a
//! later reading finds every transaction of this database below that id ended, the ids read
//! are settled. Recording each event's own transaction id and reading "below the oldest open
//! transaction", in id order, is not enough: a transaction may take its id first, draw its
//! event id after another's, and commit before it, so the reader would pass the other's id
//! while it is still uncommitted. A transaction left open holds the settled id back, and with
//! it every relay and the start of every socket (which replays the log up to a settled id
//! beyond everything committed before it connected): they wait, which is correct, and go on as
//! soon as it ends; a socket that waits past the store's deadline is closed with "try again".
//!
//! Only this database's transactions count. A snapshot's `xmin` is the oldest transaction of
//! the whole server: on a PostgreSQL shared with other applications, any long transaction of
//! theirs held back every live update here, though it cannot write to these tables. So a
//! reading takes the transactions its snapshot saw running and keeps those that a backend
//! connected to this database still runs; one that has left `pg_stat_activity` since has
//! ended, and one that began after the snapshot has an id above its `xmax`.
//!
//! A ticket's own history needs no settling: every transaction that logs an event of an
//! existing ticket holds the ticket's row lock (the change's `FOR UPDATE`, a delete, a category
//! merge's update), so the ticket's ids commit in id order, and a reply is in the history as
//! soon as it is committed.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use growdesk_domain::{
    Event, EventKind, NotificationCreated, NotificationData, NotificationKind, TicketEvent,
};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Backend, Stamp, Store, StoreError, on_backend};

/// Settling on PostgreSQL: the ids drawn so far, then (the projection runs after the scans) a
/// transaction id higher than every drawer's, and the id below which every transaction of this
/// database had ended: the oldest one the statement's snapshot saw running that a backend of
/// this database still runs, else the snapshot's `xmax`. `pg_stat_activity` shows a backend's
/// transaction id, 32 bits of it, to every role.
const SETTLE_POSTGRES: &str = "SELECT CASE WHEN e.is_called THEN e.last_value ELSE 0 END, \
     CASE WHEN r.is_called THEN r.last_value ELSE 0 END, \
     pg_current_xact_id()::text::bigint, \
     (SELECT COALESCE(MIN(running::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint) \
      FROM pg_snapshot_xip(pg_current_snapshot()) AS running \
      WHERE running::text::bigint % 4294967296 IN (SELECT backend_xid::text::bigint \
          FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL)) \
     FROM ticket_events_id_seq e, session_revocations_id_seq r";

/// Settling on SQLite: what is committed is settled, as ids are committed in order.
const SETTLE_SQLITE: &str = "SELECT (SELECT COALESCE(MAX(id), 0) FROM ticket_events), \
     (SELECT COALESCE(MAX(id), 0) FROM session_revocations)";

/// Readings kept until the transactions before them end. Past this many (a transaction left
/// open while the relay keeps settling), the newest is replaced: that only delays it.
const MAX_DRAWN: usize = 64;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub ticket_id: Uuid,
    pub actor_id: Option<Uuid>,
    /// Staff-only (about an internal note).
    pub internal: bool,
    /// For personal events (notifications): the only user who receives it.
    pub recipient_id: Option<Uuid>,
    pub event: Event,
}

impl NewEvent {
    /// An event everyone who may see the ticket may see.
    pub fn public(ticket_id: Uuid, actor_id: Option<Uuid>, event: Event) -> Self {
        Self {
            ticket_id,
            actor_id,
            internal: false,
            recipient_id: None,
            event,
        }
    }

    /// A notification for `recipient` about `ticket_id`: stored in `notifications` and logged
    /// as a personal `notification_created` event.
    pub fn notification(
        recipient: Uuid,
        ticket_id: Uuid,
        actor_id: Option<Uuid>,
        kind: NotificationKind,
        data: NotificationData,
    ) -> Self {
        Self {
            ticket_id,
            actor_id,
            internal: false,
            recipient_id: Some(recipient),
            event: Event::NotificationCreated(NotificationCreated {
                id: Uuid::now_v7(),
                kind,
                data,
            }),
        }
    }
}

const EVENT_COLUMNS: &str =
    "e.id, e.ticket_id, e.kind, e.actor_id, e.internal, e.recipient_id, e.data, e.created_at";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    ticket_id: Uuid,
    kind: String,
    actor_id: Option<Uuid>,
    internal: bool,
    recipient_id: Option<Uuid>,
    data: Json<serde_json::Value>,
    created_at: Stamp,
}

impl TryFrom<EventRow> for TicketEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let kind = EventKind::from_stored(&row.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("event {} has kind {:?}", row.id, row.kind))
        })?;
        Ok(Self {
            id: row.id,
            ticket_id: row.ticket_id,
            actor_id: row.actor_id,
            internal: row.internal,
            recipient_id: row.recipient_id,
            event: Event::from_stored(kind, row.data.0),
            created_at: row.created_at.into(),
        })
    }
}

/// An event of the whole log with what deciding who receives it needs.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub event: TicketEvent,
    /// The ticket's requester; `None` once the ticket is deleted.
    pub requester_id: Option<Uuid>,
    /// The widget visitor who opened the ticket, if any.
    pub visitor_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    #[sqlx(flatten)]
    event: EventRow,
    requester_id: Option<Uuid>,
    visitor_id: Option<Uuid>,
}

impl TryFrom<FeedRow> for FeedEvent {
    type Error = StoreError;

    fn try_from(row: FeedRow) -> Result<Self, Self::Error> {
        Ok(Self {
            requester_id: row.requester_id,
            visitor_id: row.visitor_id,
            event: TicketEvent::try_from(row.event)?,
        })
    }
}

/// How far the event log and the log of revocations are settled: every id up to these has
/// committed or never will, so a reader of the whole log that stops here skips nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub events: i64,
    pub revocations: i64,
}

impl Settled {
    fn max(self, other: Self) -> Self {
        Self {
            events: self.events.max(other.events),
            revocations: self.revocations.max(other.revocations),
        }
    }

    fn beyond(self, other: Self) -> bool {
        self.events > other.events || self.revocations > other.revocations
    }
}

/// What a settling came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settling {
    /// The settled ids; `None` until a first reading is proved.
    pub settled: Option<Settled>,
    /// Ids were drawn beyond `settled` by transactions that may still be open: settling again
    /// once they end moves it on.
    pub behind: bool,
}

/// A range of the log: the ids after `after`, up to and including `upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub after: i64,
    pub upto: i64,
}

/// One reading of the log's ends.
enum Reading {
    /// Every id up to these is committed (SQLite).
    Committed(Settled),
    /// Ids up to `drawn` were drawn by transactions below `xid`; every transaction of this
    /// database below `ended_below` had ended when the reading ran (PostgreSQL).
    Drawn {
        drawn: Settled,
        xid: i64,
        ended_below: i64,
    },
}

/// What this process knows of how far the logs are settled, shared by the store's clones.
#[derive(Debug, Default)]
pub(crate) struct Horizon {
    state: Mutex<HorizonState>,
}

#[derive(Debug, Default)]
struct HorizonState {
    settled: Option<Settled>,
    /// The highest `ended_below` read: every transaction of this database below it has ended.
    ended_below: i64,
    /// Readings whose drawers may still be open: (ids drawn, a transaction id above theirs).
    drawn: VecDeque<(Settled, i64)>,
}

impl Horizon {
    fn state(&self) -> MutexGuard<'_, HorizonState> {
        // The state is plain numbers, consistent between statements: usable after a panic.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record(&self, reading: Reading) -> Settling {
        let mut state = self.state();
        match reading {
            Reading::Committed(ids) => state.advance(ids),
            Reading::Drawn {
                drawn,
                xid,
                ended_below,
            } => {
                state.ended_below = state.ended_below.max(ended_below);
                if state.drawn.len() == MAX_DRAWN {
                    state.drawn.pop_back();
                }
                state.drawn.push_back((drawn, xid));
                let ended_below = state.ended_below;
                let proved = state
                    .drawn
                    .iter()
                    .filter(|(_, xid)| *xid <= ended_below)
                    .fold(None, |proved: Option<Settled>, (ids, _)| {
                        Some(proved.map_or(*ids, |proved| proved.max(*ids)))
                    });
                state.drawn.retain(|(_, xid)| *xid > ended_below);
                if let Some(ids) = proved {
                    state.advance(ids);
                }
            }
        }
        let settled = state.settled;
        Settling {
            settled,
            behind: state
                .drawn
                .iter()
                .any(|(ids, _)| settled.is_none_or(|settled| ids.beyond(settled))),
        }
    }
}

impl HorizonState {
    fn advance(&mut self, ids: Settled) {
        self.settled = Some(self.settled.map_or(ids, |settled| settled.max(ids)));
    }
}

/// A sign-out, password change, deactivation or role change, for closing sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Revocation {
    pub id: i64,
    pub user_id: Uuid,
    /// `None`: every session of the user.
    pub session_id: Option<Uuid>,
}

/// The event log and the log of session revocations, as read back.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    pub(crate) store: &'a Store,
}

impl Events<'_> {
    /// A ticket's events after `after` (an event id), oldest first; internal ones only when
    /// `include_internal`. Personal events (notifications) are not part of a ticket's history.
    ///
    /// # Errors
    /// The database failed.
    pub async fn of_ticket(
        &self,
        ticket_id: Uuid,
        include_internal: bool,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TicketEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM ticket_events e WHERE e.ticket_id = $1 AND e.recipient_id IS NULL \
             AND ($2 = TRUE OR e.internal = FALSE) AND e.id > $3 ORDER BY e.id LIMIT $4"
        );
        let rows: Vec<EventRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(ticket_id)
            .bind(include_internal)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(TicketEvent::try_from).collect()
    }

    /// The log in `span`, oldest first, with each ticket's requester: the relay's feed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn after(&self, span: Span, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 AND e.id <= $2 ORDER BY e.id LIMIT $3"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(span.after)
            .bind(span.upto)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The events of `span` that `user` may receive, oldest first: their notifications, and the
    /// events of the tickets they may see (all for staff; their own, without internal ones, for
    /// customers). What a reconnecting socket missed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visible_after(
        &self,
        user: Uuid,
        staff: bool,
        span: Span,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 AND e.id <= $5 AND (e.recipient_id = $2 OR (e.recipient_id IS NULL AND \
             ($3 = TRUE OR (t.requester_id = $2 AND e.internal = FALSE)))) ORDER BY e.id LIMIT $4"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(span.after)
            .bind(user)
            .bind(staff)
            .bind(i64::from(limit))
            .bind(span.upto)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The public events of `span` of the tickets a widget visitor may see, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visitor_after(
        &self,
        scope: crate::tickets::VisitorScope,
        span: Span,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 AND e.id <= $5 AND e.recipient_id IS NULL AND e.internal = FALSE \
             AND (t.visitor_id = $2 OR ($3 IS NOT NULL AND t.requester_id = $3)) ORDER BY e.id LIMIT $4"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(span.after)
            .bind(scope.visitor_id)
            .bind(scope.identity_user_id)
            .bind(i64::from(limit))
            .bind(span.upto)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The revocations of `span`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revocations_after(
        &self,
        span: Span,
        limit: u32,
    ) -> Result<Vec<Revocation>, StoreError> {
        let rows: Vec<Revocation> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, user_id, session_id FROM session_revocations WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3")
            .bind(span.after)
            .bind(span.upto)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Reads how far the logs are drawn and which transactions have ended, and moves the
    /// settled ids on as far as that proves (see the module's documentation). This process's
    /// relay does it each time it wakes.
    ///
    /// # Errors
    /// The database failed.
    pub async fn settle(&self) -> Result<Settling, StoreError> {
        Ok(self.read_ends().await?.0)
    }

    /// Settles until every id drawn before the call is settled, and returns the settled ids: a
    /// reader that starts from them misses nothing committed before the call, and the relay
    /// publishes whatever lies beyond them. A transaction open since before the call makes it
    /// wait until it ends.
    ///
    /// # Errors
    /// The database failed, or a transaction stayed open past the store's deadline.
    pub async fn settled(&self) -> Result<Settled, StoreError> {
        self.store
            .within_deadline(async {
                let (mut settling, drawn) = self.read_ends().await?;
                let mut wait = Duration::from_millis(1);
                loop {
                    if let Some(settled) = settling.settled
                        && !drawn.beyond(settled)
                    {
                        return Ok::<_, StoreError>(settled);
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(50));
                    settling = self.settle().await?;
                }
            })
            .await
    }

    /// Settles, and says up to which ids the logs were drawn (committed, on SQLite) when it
    /// read them.
    async fn read_ends(&self) -> Result<(Settling, Settled), StoreError> {
        let reading = self
            .store
            .within_deadline(async {
                match &self.store.backend {
                    Backend::Postgres(pool) => {
                        sqlx::query_as::<_, (i64, i64, i64, i64)>(SETTLE_POSTGRES)
                            .fetch_one(pool)
                            .await
                            .map(|(events, revocations, xid, ended_below)| Reading::Drawn {
                                drawn: Settled {
                                    events,
                                    revocations,
                                },
                                xid,
                                ended_below,
                            })
                    }
                    Backend::Sqlite(pool) => sqlx::query_as::<_, (i64, i64)>(SETTLE_SQLITE)
                        .fetch_one(pool)
                        .await
                        .map(|(events, revocations)| {
                            Reading::Committed(Settled {
                                events,
                                revocations,
                            })
                        }),
                }
            })
            .await?;
        let drawn = match &reading {
            Reading::Committed(ids) | Reading::Drawn { drawn: ids, .. } => *ids,
        };
        Ok((self.store.horizon.record(reading), drawn))
    }
}
