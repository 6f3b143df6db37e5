//! The ticket event log: every change, written in the change's transaction, read back in id
//! order.

use growdesk_domain::{EventKind, TicketEvent};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub ticket_id: Uuid,
    pub kind: EventKind,
    pub actor_id: Option<Uuid>,
    /// Staff-only (about an internal note).
    pub internal: bool,
    pub data: serde_json::Value,
}

impl NewEvent {
    /// An event everyone who may see the ticket may see.
    pub fn public(
        ticket_id: Uuid,
        kind: EventKind,
        actor_id: Option<Uuid>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            ticket_id,
            kind,
            actor_id,
            internal: false,
            data,
        }
    }
}

/// Appends `$events` (a slice of `NewEvent`) inside the open transaction `$tx`, stamped `$now`.
/// A macro rather than a function so one body serves both backends' transaction types.
macro_rules! insert_events {
    ($tx:ident, $events:expr, $now:expr) => {
        for event in $events {
            sqlx::query(
                "INSERT INTO ticket_events (ticket_id, kind, actor_id, internal, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(event.ticket_id)
            .bind(event.kind.as_str())
            .bind(event.actor_id)
            .bind(event.internal)
            .bind(sqlx::types::Json(&event.data))
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_events;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    ticket_id: Uuid,
    kind: String,
    actor_id: Option<Uuid>,
    internal: bool,
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
            kind,
            actor_id: row.actor_id,
            internal: row.internal,
            data: row.data.0,
            created_at: row.created_at.into(),
        })
    }
}

impl Store {
    /// A ticket's events after `after` (an event id), oldest first; internal ones only when
    /// `include_internal`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_ticket_events(
        &self,
        ticket_id: Uuid,
        include_internal: bool,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TicketEvent>, StoreError> {
        let rows: Vec<EventRow> = on_backend!(self, pool => sqlx::query_as(
                "SELECT id, ticket_id, kind, actor_id, internal, data, created_at FROM ticket_events \
                 WHERE ticket_id = $1 AND ($2 = TRUE OR internal = FALSE) AND id > $3 ORDER BY id LIMIT $4")
            .bind(ticket_id)
            .bind(include_internal)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(TicketEvent::try_from).collect()
    }
}
