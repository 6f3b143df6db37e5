//! The steps several write transactions share — appending events, storing a message and its
//! files, tagging a ticket, claiming an idempotency key, remembering an import's references —
//! written once as methods of a transaction on either backend.

use growdesk_domain::Event;
use sqlx::types::Json;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type};
use uuid::Uuid;

use crate::Stamp;
use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::idempotency::IdempotencyClaim;
use crate::imports::RecordKind;
use crate::tickets::MessageRecord;

/// What claiming an idempotency key inside a transaction came to.
pub(crate) enum Claim<Tx> {
    /// The key is this request's now: the transaction goes on.
    Won(Tx),
    /// The key was used before for the same request, which created this id; the transaction
    /// was rolled back.
    Replayed(Uuid),
    /// The key was used before for a different request; the transaction was rolled back.
    KeyReused,
}

/// The shared steps, on an open write transaction.
pub(crate) trait WriteTx: Sized {
    type Database: Database;

    /// Called before the transaction appends revocations (`append_events` does it for events):
    /// on PostgreSQL, gives the transaction its id before it draws one from the log's sequence,
    /// which settling the log relies on (see `events`).
    async fn before_append(&mut self) -> Result<(), sqlx::Error>;

    /// Appends `events`, stamped `now`; notifications also get their row, and public events a
    /// delivery to each webhook subscribed to their kind.
    async fn append_events(&mut self, events: &[NewEvent], now: Stamp) -> Result<(), sqlx::Error>;

    /// Stores a message of `ticket` and its attachments: a new ticket's description or a
    /// later message.
    async fn insert_message(
        &mut self,
        ticket: Uuid,
        record: &MessageRecord,
        now: Stamp,
    ) -> Result<(), sqlx::Error>;

    /// Adds `tags` to `ticket`.
    async fn insert_tags(&mut self, ticket: Uuid, tags: &[String]) -> Result<(), sqlx::Error>;

    /// Claims `claim` for `resource`, or, when the key was used before, rolls the transaction
    /// back and says for what (`pool` reads the earlier use, which on PostgreSQL waited for the
    /// first request's transaction to commit).
    async fn claim(
        self,
        pool: &Pool<Self::Database>,
        claim: &IdempotencyClaim,
        resource: Uuid,
        now: Stamp,
    ) -> Result<Claim<Self>, sqlx::Error>;

    /// The local id an import recorded for `(source, kind, external_id)`.
    async fn local_ref(
        &mut self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<Uuid>, sqlx::Error>;

    /// Records `(source, kind, external_id) → local`.
    async fn remember_ref(
        &mut self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
        local: Uuid,
        now: Stamp,
    ) -> Result<(), sqlx::Error>;

    /// `preferred` when no row of `table` has that id yet, else a fresh one.
    async fn free_id(
        &mut self,
        table: &'static str,
        preferred: Option<Uuid>,
    ) -> Result<Uuid, sqlx::Error>;
}

impl<DB> WriteTx for Transaction<'_, DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB> + Type<DB>,
    for<'q, 'a> &'a str: Encode<'q, DB> + Type<DB>,
    for<'q, 'a> &'a [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i32: Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> Stamp: Encode<'q, DB> + Type<DB>,
    for<'q, 'a> Json<&'a serde_json::Value>: Encode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    type Database = DB;

    async fn before_append(&mut self) -> Result<(), sqlx::Error> {
        if let Some(statement) = DB::BEFORE_APPEND {
            sqlx::query(statement).execute(&mut **self).await?;
        }
        Ok(())
    }

    async fn append_events(&mut self, events: &[NewEvent], now: Stamp) -> Result<(), sqlx::Error> {
        if !events.is_empty() {
            self.before_append().await?;
        }
        for event in events {
            if let (Some(recipient), Event::NotificationCreated(notification)) =
                (event.recipient_id, &event.event)
            {
                sqlx::query(
                    "INSERT INTO notifications (id, user_id, kind, ticket_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(notification.id)
                .bind(recipient)
                .bind(notification.kind.as_str())
                .bind(event.ticket_id)
                .bind(Json(&serde_json::to_value(&notification.data).map_err(unencodable)?))
                .bind(now)
                .execute(&mut **self)
                .await?;
            }
            let kind = event.event.kind().as_str();
            let event_id: i64 = sqlx::query_scalar(
                "INSERT INTO ticket_events (ticket_id, kind, actor_id, internal, recipient_id, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(event.ticket_id)
            .bind(kind)
            .bind(event.actor_id)
            .bind(event.internal)
            .bind(event.recipient_id)
            .bind(Json(&serde_json::to_value(event.event.data()).map_err(unencodable)?))
            .bind(now)
            .fetch_one(&mut **self)
            .await?;
            // The webhook outbox: written with the event, so no event is ever sent without
            // having happened, nor happens without being sent.
            if event.recipient_id.is_none() {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status, next_attempt_at, created_at) \
                     SELECT DISTINCT w.id, $1, $2, 'pending', $3, $3 FROM webhooks w \
                     JOIN webhook_subscriptions s ON s.webhook_id = w.id \
                     WHERE w.active = TRUE AND s.event_type IN ($2, '*')",
                )
                .bind(event_id)
                .bind(kind)
                .bind(now)
                .execute(&mut **self)
                .await?;
            }
        }
        Ok(())
    }

    async fn insert_message(
        &mut self,
        ticket: Uuid,
        record: &MessageRecord,
        now: Stamp,
    ) -> Result<(), sqlx::Error> {
        let message = &record.message;
        sqlx::query(
            "INSERT INTO messages (id, ticket_id, author_id, body, internal, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(message.id)
        .bind(ticket)
        .bind(message.author_id)
        .bind(message.body.as_str())
        .bind(message.internal)
        .bind(now)
        .execute(&mut **self)
        .await?;
        for attachment in &record.attachments {
            sqlx::query(
                "INSERT INTO attachments (id, message_id, ticket_id, filename, content_type, size, sha256, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(attachment.id)
            .bind(message.id)
            .bind(ticket)
            .bind(attachment.filename.as_str())
            .bind(attachment.content_type.as_str())
            .bind(attachment.size)
            .bind(attachment.sha256.as_str())
            .bind(now)
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }

    async fn insert_tags(&mut self, ticket: Uuid, tags: &[String]) -> Result<(), sqlx::Error> {
        for tag in tags {
            sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2)")
                .bind(ticket)
                .bind(tag.as_str())
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    async fn claim(
        mut self,
        pool: &Pool<DB>,
        claim: &IdempotencyClaim,
        resource: Uuid,
        now: Stamp,
    ) -> Result<Claim<Self>, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(claim.user_id)
        .bind(claim.key.as_str())
        .bind(claim.fingerprint.as_slice())
        .bind(resource)
        .bind(now)
        .execute(&mut *self)
        .await;
        match inserted {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                self.rollback().await?;
                let earlier: (Vec<u8>, Uuid) = sqlx::query_as(
                    "SELECT fingerprint, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                )
                .bind(claim.user_id)
                .bind(claim.key.as_str())
                .fetch_one(pool)
                .await?;
                Ok(if earlier.0 == claim.fingerprint {
                    Claim::Replayed(earlier.1)
                } else {
                    Claim::KeyReused
                })
            }
            other => other.map(|_| Claim::Won(self)),
        }
    }

    async fn local_ref(
        &mut self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<Uuid>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT local_id FROM external_refs WHERE source = $1 AND kind = $2 AND external_id = $3",
        )
        .bind(source)
        .bind(kind.as_str())
        .bind(external_id)
        .fetch_optional(&mut **self)
        .await
    }

    async fn remember_ref(
        &mut self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
        local: Uuid,
        now: Stamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO external_refs (source, kind, external_id, local_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(source)
        .bind(kind.as_str())
        .bind(external_id)
        .bind(local)
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn free_id(
        &mut self,
        table: &'static str,
        preferred: Option<Uuid>,
    ) -> Result<Uuid, sqlx::Error> {
        let Some(id) = preferred else {
            return Ok(Uuid::now_v7());
        };
        let taken: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {table} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut **self)
        .await?;
        Ok(if taken.is_some() { Uuid::now_v7() } else { id })
    }
}

/// Why an event's data could not become the JSON its column holds.
fn unencodable(error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(error))
}
