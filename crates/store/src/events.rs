//! The ticket event log: every change, written in the change's transaction, read back in id
//! order — by the REST API per ticket, and by the realtime relay for everyone.
//!
//! Ids must become visible in id order, or a reader resuming "after id N" could skip an id
//! that commits late. SQLite has one writer at a time; on PostgreSQL, every transaction takes
//! the same advisory lock just before it appends events or session revocations (the relay
//! tails both), so ids are handed out and committed in one order. The lock is held only from
//! the append to the commit.

use growdesk_domain::{
    Event, EventKind, NotificationCreated, NotificationData, NotificationKind, TicketEvent,
};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

/// The advisory lock that orders event appends on PostgreSQL.
pub(crate) const EVENT_ORDER_LOCK: i64 = 0x6772_6f77_6465_736b;

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

    /// The log after `after`, oldest first, with each ticket's requester: the relay's feed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 ORDER BY e.id LIMIT $2"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The events `user` may receive after `after`, oldest first: their notifications, and the
    /// events of the tickets they may see (all for staff; their own, without internal ones, for
    /// customers). What a reconnecting socket missed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visible_after(
        &self,
        user: Uuid,
        staff: bool,
        after: i64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 AND (e.recipient_id = $2 OR (e.recipient_id IS NULL AND \
             ($3 = TRUE OR (t.requester_id = $2 AND e.internal = FALSE)))) ORDER BY e.id LIMIT $4"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(user)
            .bind(staff)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The public events of the tickets a widget visitor may see, after `after`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visitor_after(
        &self,
        scope: crate::tickets::VisitorScope,
        after: i64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.requester_id, t.visitor_id FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.id > $1 AND e.recipient_id IS NULL AND e.internal = FALSE \
             AND (t.visitor_id = $2 OR ($3 IS NOT NULL AND t.requester_id = $3)) ORDER BY e.id LIMIT $4"
        );
        let rows: Vec<FeedRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(scope.visitor_id)
            .bind(scope.identity_user_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(FeedEvent::try_from).collect()
    }

    /// The newest event id (0 for an empty log).
    ///
    /// # Errors
    /// The database failed.
    pub async fn latest_id(&self) -> Result<i64, StoreError> {
        let id: Option<i64> = on_backend!(self.store, pool => sqlx::query_scalar("SELECT MAX(id) FROM ticket_events")
            .fetch_one(pool)
            .await)?;
        Ok(id.unwrap_or(0))
    }

    /// Revocations after `after`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revocations_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Revocation>, StoreError> {
        let rows: Vec<Revocation> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, user_id, session_id FROM session_revocations WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// The newest revocation id (0 when there is none).
    ///
    /// # Errors
    /// The database failed.
    pub async fn latest_revocation_id(&self) -> Result<i64, StoreError> {
        let id: Option<i64> = on_backend!(self.store, pool => sqlx::query_scalar("SELECT MAX(id) FROM session_revocations")
            .fetch_one(pool)
            .await)?;
        Ok(id.unwrap_or(0))
    }
}
