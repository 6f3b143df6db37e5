//! Notifications: what each user was told, and whether they have read it.

use growdesk_domain::{Notification, NotificationKind};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: Uuid,
    kind: String,
    ticket_id: Uuid,
    data: Json<serde_json::Value>,
    read_at: Option<Stamp>,
    created_at: Stamp,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;

    fn try_from(row: NotificationRow) -> Result<Self, Self::Error> {
        let kind = NotificationKind::from_stored(&row.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("notification {} has kind {:?}", row.id, row.kind))
        })?;
        Ok(Self {
            id: row.id,
            kind,
            ticket_id: row.ticket_id,
            data: row.data.0,
            read_at: row.read_at.map(Into::into),
            created_at: row.created_at.into(),
        })
    }
}

/// Users' notifications.
#[derive(Debug, Clone, Copy)]
pub struct Notifications<'a> {
    pub(crate) store: &'a Store,
}

impl Notifications<'_> {
    /// A page of `user`'s notifications, newest first, before `before`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        user: Uuid,
        unread_only: bool,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<NotificationRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, kind, ticket_id, data, read_at, created_at FROM notifications \
                 WHERE user_id = $1 AND ($2 = FALSE OR read_at IS NULL) AND ($3 IS NULL OR id < $3) \
                 ORDER BY id DESC LIMIT $4")
            .bind(user)
            .bind(unread_only)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Notification::try_from).collect()
    }

    /// Marks one of `user`'s notifications read; whether it is theirs.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_read(&self, user: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let found = on_backend!(write self.store, pool => sqlx::query(
                "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .bind(Stamp::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(found > 0)
    }

    /// Marks all of `user`'s notifications read; how many were unread.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_all_read(&self, user: Uuid) -> Result<u64, StoreError> {
        let marked = on_backend!(write self.store, pool => sqlx::query(
                "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user)
            .bind(Stamp::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(marked)
    }
}
