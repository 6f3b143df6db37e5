//! Webhooks, their subscriptions, and the delivery outbox the sync server works through.

use std::collections::HashMap;

use growdesk_domain::{DeliveryStatus, Event, EventKind, Webhook, WebhookDelivery};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

/// A webhook's fields, complete (the secret is set once, at creation).
#[derive(Debug, Clone)]
pub struct WebhookFields {
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: Uuid,
    url: String,
    secret: String,
    active: bool,
    created_at: Stamp,
    updated_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    webhook_id: Uuid,
    event_id: i64,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: Stamp,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: Stamp,
    finished_at: Option<Stamp>,
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        let status = DeliveryStatus::from_stored(&row.status).ok_or_else(|| {
            StoreError::Corrupt(format!("delivery {} has status {}", row.id, row.status))
        })?;
        Ok(Self {
            id: row.id,
            webhook_id: row.webhook_id,
            event_id: row.event_id,
            event_type: row.event_type,
            status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.into(),
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: row.created_at.into(),
            finished_at: row.finished_at.map(Into::into),
        })
    }
}

/// A delivery whose time has come, with what it carries and where it goes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub attempts: i32,
    pub created_at: Stamp,
    pub url: String,
    pub secret: String,
    pub event_id: i64,
    pub ticket_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub internal: bool,
    pub event: Event,
    pub event_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    attempts: i32,
    created_at: Stamp,
    url: String,
    secret: String,
    event_id: i64,
    event_type: String,
    ticket_id: Uuid,
    actor_id: Option<Uuid>,
    internal: bool,
    data: Json<serde_json::Value>,
    event_at: Stamp,
}

impl TryFrom<DueRow> for DueDelivery {
    type Error = StoreError;

    fn try_from(row: DueRow) -> Result<Self, Self::Error> {
        let kind = EventKind::from_stored(&row.event_type).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "event {} has kind {:?}",
                row.event_id, row.event_type
            ))
        })?;
        Ok(Self {
            id: row.id,
            attempts: row.attempts,
            created_at: row.created_at,
            url: row.url,
            secret: row.secret,
            event_id: row.event_id,
            ticket_id: row.ticket_id,
            actor_id: row.actor_id,
            internal: row.internal,
            event: Event::from_stored(kind, row.data.0),
            event_at: row.event_at,
        })
    }
}

/// What came of one attempt.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub status: DeliveryStatus,
    /// When to try again, for a pending delivery.
    pub next_attempt_at: Stamp,
    pub http_status: Option<i32>,
    pub error: Option<String>,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, \
     last_status, last_error, created_at, finished_at";

/// Webhooks and the deliveries of events to them.
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) store: &'a Store,
}

impl Webhooks<'_> {
    /// Webhooks with their subscriptions, in one query for all of them.
    async fn with_subscriptions(&self, rows: Vec<WebhookRow>) -> Result<Vec<Webhook>, StoreError> {
        let pairs: Vec<(Uuid, String)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT webhook_id, event_type FROM webhook_subscriptions ORDER BY event_type")
            .fetch_all(pool)
            .await)?;
        let mut types: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (webhook, event_type) in pairs {
            types.entry(webhook).or_default().push(event_type);
        }
        Ok(rows
            .into_iter()
            .map(|row| Webhook {
                event_types: types.remove(&row.id).unwrap_or_default(),
                id: row.id,
                url: row.url,
                secret: row.secret,
                active: row.active,
                created_at: row.created_at.into(),
                updated_at: row.updated_at.into(),
            })
            .collect())
    }

    /// Every webhook, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<WebhookRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, url, secret, active, created_at, updated_at FROM webhooks ORDER BY id")
            .fetch_all(pool)
            .await)?;
        self.with_subscriptions(rows).await
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Webhook>, StoreError> {
        let row: Option<WebhookRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, url, secret, active, created_at, updated_at FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(self
            .with_subscriptions(row.into_iter().collect())
            .await?
            .pop())
    }

    /// Creates (`id` new) or replaces (`id` existing) a webhook and its subscriptions in one
    /// transaction; `None` when asked to replace one that does not exist.
    async fn write_webhook(
        &self,
        id: Uuid,
        secret: Option<&str>,
        fields: &WebhookFields,
    ) -> Result<Option<Webhook>, StoreError> {
        let now = Stamp::now();
        let written = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let affected = match secret {
                Some(secret) => sqlx::query(
                        "INSERT INTO webhooks (id, url, secret, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
                    .bind(id)
                    .bind(&fields.url)
                    .bind(secret)
                    .bind(fields.active)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?,
                None => sqlx::query("UPDATE webhooks SET url = $2, active = $3, updated_at = $4 WHERE id = $1")
                    .bind(id)
                    .bind(&fields.url)
                    .bind(fields.active)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?,
            }
            .rows_affected();
            if affected == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query("DELETE FROM webhook_subscriptions WHERE webhook_id = $1").bind(id).execute(&mut *tx).await?;
            for event_type in &fields.event_types {
                sqlx::query("INSERT INTO webhook_subscriptions (webhook_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(event_type)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<bool, StoreError>(true)
        })?;
        if written {
            self.get(id).await
        } else {
            Ok(None)
        }
    }

    /// # Errors
    /// The database failed.
    pub async fn create(
        &self,
        secret: &str,
        fields: &WebhookFields,
    ) -> Result<Webhook, StoreError> {
        let id = Uuid::now_v7();
        self.write_webhook(id, Some(secret), fields)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("webhook {id} vanished after its creation")))
    }

    /// `None` when there is no such webhook.
    ///
    /// # Errors
    /// The database failed.
    pub async fn update(
        &self,
        id: Uuid,
        fields: &WebhookFields,
    ) -> Result<Option<Webhook>, StoreError> {
        self.write_webhook(id, None, fields).await
    }

    /// Deletes a webhook with its deliveries; `false` when there was none.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let affected = on_backend!(write self.store, pool => sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected > 0)
    }

    /// A webhook's deliveries, newest first, those older than `before` (a delivery id).
    ///
    /// # Errors
    /// The database failed.
    pub async fn deliveries(
        &self,
        webhook: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<DeliveryRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(webhook)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(WebhookDelivery::try_from).collect()
    }

    /// Pending deliveries due at `now`, oldest first, with their event and target.
    ///
    /// # Errors
    /// The database failed.
    pub async fn due_deliveries(
        &self,
        now: Stamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows: Vec<DueRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT d.id, d.attempts, d.created_at, w.url, w.secret, d.event_id, d.event_type, \
                 e.ticket_id, e.actor_id, e.internal, e.data, e.created_at AS event_at \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 JOIN ticket_events e ON e.id = d.event_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2")
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(DueDelivery::try_from).collect()
    }

    /// Records one attempt at delivery `id`, made at `now`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn record_delivery_attempt(
        &self,
        id: i64,
        attempt: &DeliveryAttempt,
        now: Stamp,
    ) -> Result<(), StoreError> {
        let finished = (attempt.status != DeliveryStatus::Pending).then_some(now);
        on_backend!(write self.store, pool => sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
                 last_status = $4, last_error = $5, finished_at = $6 WHERE id = $1")
            .bind(id)
            .bind(attempt.status.as_str())
            .bind(attempt.next_attempt_at)
            .bind(attempt.http_status)
            .bind(&attempt.error)
            .bind(finished)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Removes delivered and failed deliveries finished before `cutoff`; how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn prune_deliveries(&self, cutoff: Stamp) -> Result<u64, StoreError> {
        let affected = on_backend!(write self.store, pool => sqlx::query(
                "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < $1")
            .bind(cutoff)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected)
    }
}
