//! How a write transaction begins and ends on each backend (`Store::begin_write`), and the steps
//! several write transactions share — appending events, storing a message and its files,
//! tagging a ticket, claiming an idempotency key, remembering an import's references — written
//! once as methods of a transaction on either backend.
//!
//! On PostgreSQL a write is a transaction of its own on a pooled connection. On SQLite it is a
//! turn of the process's single writer (`sqlite::writer`): a savepoint in a batch that commits
//! the writes queued together; its `commit` returns once the batch is committed.

use std::ops::DerefMut;

use growdesk_domain::Event;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::types::Json;
use sqlx::{Decode, Encode, Executor, IntoArguments, Postgres, Sqlite, Transaction, Type};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::idempotency::IdempotencyClaim;
use crate::imports::RecordKind;
use crate::sqlite::writer::Turn;
use crate::tickets::MessageRecord;
use crate::{Stamp, Store};

impl Store {
    /// Begins a write transaction on `pool`, the pool `on_backend!` gave: it ends with the
    /// handle's `commit` or `rollback`, or rolls back when dropped.
    pub(crate) async fn begin_write<P: WritePool>(
        &self,
        pool: &P,
    ) -> Result<P::Write, sqlx::Error> {
        pool.begin_write(self).await
    }
}

/// A backend's pool, as the start of write transactions.
pub(crate) trait WritePool {
    type Write: WriteHandle;

    async fn begin_write(&self, store: &Store) -> Result<Self::Write, sqlx::Error>;
}

impl WritePool for PgPool {
    type Write = Transaction<'static, Postgres>;

    async fn begin_write(&self, _: &Store) -> Result<Self::Write, sqlx::Error> {
        self.begin_with(Postgres::BEGIN_WRITE).await
    }
}

impl WritePool for SqlitePool {
    type Write = Turn;

    async fn begin_write(&self, store: &Store) -> Result<Turn, sqlx::Error> {
        store.sqlite_writer(self).begin().await
    }
}

/// An open write transaction of either backend, whose statements run on the connection it
/// derefs to. Each ends with its own `commit` (for a turn, a wait for its batch's commit); the
/// shared steps may also roll one back.
pub(crate) trait WriteHandle: Sized {
    type Database: Dialect;

    async fn rollback(self) -> Result<(), sqlx::Error>;
}

impl<DB: Dialect> WriteHandle for Transaction<'_, DB> {
    type Database = DB;

    async fn rollback(self) -> Result<(), sqlx::Error> {
        Transaction::rollback(self).await
    }
}

impl WriteHandle for Turn {
    type Database = Sqlite;

    async fn rollback(self) -> Result<(), sqlx::Error> {
        Turn::rollback(self).await
    }
}

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
    /// Called before the transaction appends revocations (`APPEND_EVENTS` does it for events):
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
    /// back and says for what. The earlier use is read inside the transaction: on PostgreSQL
    /// the claim waited for the first request's transaction to commit, and on SQLite the first
    /// request may be a write of the same batch, not committed yet.
    async fn claim(
        self,
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

impl<T, DB> WriteTx for T
where
    T: WriteHandle<Database = DB> + DerefMut<Target = DB::Connection>,
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
    async fn before_append(&mut self) -> Result<(), sqlx::Error> {
        if let Some(statement) = DB::BEFORE_APPEND {
            sqlx::query(statement).execute(&mut **self).await?;
        }
        Ok(())
    }

    async fn append_events(&mut self, events: &[NewEvent], now: Stamp) -> Result<(), sqlx::Error> {
        if let Some(statement) = DB::APPEND_EVENTS {
            if !events.is_empty() {
                sqlx::query(statement)
                    .bind(Json(&as_rows(events)?))
                    .bind(now)
                    .execute(&mut **self)
                    .await?;
            }
            return Ok(());
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
            "INSERT INTO messages (id, ticket_id, author_id, body, internal, created_at, channel) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(message.id)
        .bind(ticket)
        .bind(message.author_id)
        .bind(message.body.as_str())
        .bind(message.internal)
        .bind(now)
        .bind(message.channel.as_str())
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
        claim: &IdempotencyClaim,
        resource: Uuid,
        now: Stamp,
    ) -> Result<Claim<Self>, sqlx::Error> {
        let inserted: Option<i32> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING RETURNING 1",
        )
        .bind(claim.user_id)
        .bind(claim.key.as_str())
        .bind(claim.fingerprint.as_slice())
        .bind(resource)
        .bind(now)
        .fetch_optional(&mut *self)
        .await?;
        if inserted.is_some() {
            return Ok(Claim::Won(self));
        }
        let earlier: (Vec<u8>, Uuid) = sqlx::query_as(
            "SELECT fingerprint, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(claim.user_id)
        .bind(claim.key.as_str())
        .fetch_one(&mut *self)
        .await?;
        self.rollback().await?;
        Ok(if earlier.0 == claim.fingerprint {
            Claim::Replayed(earlier.1)
        } else {
            Claim::KeyReused
        })
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

/// `events` as the JSON array a one-statement append (`Dialect::APPEND_EVENTS`) reads, in
/// order, each with its notification's row when it is one.
fn as_rows(events: &[NewEvent]) -> Result<serde_json::Value, sqlx::Error> {
    let rows = events
        .iter()
        .enumerate()
        .map(|(seq, event)| {
            let notification = match (event.recipient_id, &event.event) {
                (Some(_), Event::NotificationCreated(notification)) => Some(serde_json::json!({
                    "id": notification.id,
                    "kind": notification.kind.as_str(),
                    "data": serde_json::to_value(&notification.data).map_err(unencodable)?,
                })),
                _ => None,
            };
            Ok(serde_json::json!({
                "seq": seq,
                "ticket_id": event.ticket_id,
                "kind": event.event.kind().as_str(),
                "actor_id": event.actor_id,
                "internal": event.internal,
                "recipient_id": event.recipient_id,
                "data": serde_json::to_value(event.event.data()).map_err(unencodable)?,
                "notification": notification,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(serde_json::Value::Array(rows))
}

/// Why an event's data could not become the JSON its column holds.
fn unencodable(error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(error))
}
