//! Backups: what `growdesk-sync export` reads beyond the API's own views (visitors,
//! notifications, users' locales, the email channel's records in `mail`) and what
//! `import json` writes back under the ids, keys and secrets it had, so a restored widget or
//! webhook keeps working where it is embedded.

use std::collections::HashMap;

use growdesk_domain::{Event, NotificationKind};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::imports::{Imported, RecordKind};
use crate::widgets::WidgetFields;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

mod mail;

pub use mail::{InboundMailRecord, MailRecord, SuppressionRecord};

/// A widget from a GrowDesk export, with its public key and identity secret.
#[derive(Debug, Clone)]
pub struct ImportedWidget {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    pub key: String,
    pub fields: WidgetFields,
    pub created_at: Stamp,
    pub updated_at: Stamp,
}

/// A webhook from a GrowDesk export, with its signing secret.
#[derive(Debug, Clone)]
pub struct ImportedWebhook {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    pub url: String,
    pub secret: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: Stamp,
    pub updated_at: Stamp,
}

/// A visitor from a GrowDesk export; references are local ids.
#[derive(Debug, Clone)]
pub struct ImportedVisitor {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    pub widget_id: Uuid,
    pub user_id: Uuid,
    pub created_at: Stamp,
}

/// An entry of the event log from a GrowDesk export; references are local ids.
#[derive(Debug, Clone)]
pub struct RestoredEvent {
    /// The id it had, kept when free so realtime clients resume where they were.
    pub id: i64,
    pub ticket_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub internal: bool,
    pub recipient_id: Option<Uuid>,
    pub event: Event,
    pub created_at: Stamp,
}

/// A stored notification, as exported and restored (references are local ids).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub ticket_id: Uuid,
    pub data: serde_json::Value,
    pub read_at: Option<Stamp>,
    pub created_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    ticket_id: Uuid,
    data: Json<serde_json::Value>,
    read_at: Option<Stamp>,
    created_at: Stamp,
}

impl TryFrom<NotificationRow> for NotificationRecord {
    type Error = StoreError;

    fn try_from(row: NotificationRow) -> Result<Self, Self::Error> {
        let kind = NotificationKind::from_stored(&row.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("notification {} has kind {:?}", row.id, row.kind))
        })?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            kind,
            ticket_id: row.ticket_id,
            data: row.data.0,
            read_at: row.read_at,
            created_at: row.created_at,
        })
    }
}

/// A table whose restored rows keep the exported creation and change times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedTable {
    Users,
    Categories,
    Faqs,
}

impl TimedTable {
    fn name(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Categories => "categories",
            Self::Faqs => "faqs",
        }
    }
}

/// A visitor as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VisitorRecord {
    pub id: Uuid,
    pub widget_id: Uuid,
    pub user_id: Uuid,
    pub created_at: Stamp,
}

/// What a backup reads and a restore writes beyond the imports.
#[derive(Debug, Clone, Copy)]
pub struct Backup<'a> {
    pub(crate) store: &'a Store,
}

impl Backup<'_> {
    /// A page of visitors in id order, after visitor `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_visitors(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<VisitorRecord>, StoreError> {
        let rows: Vec<VisitorRecord> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, widget_id, user_id, created_at FROM visitors WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Restores an entry of the event log under its own id when free (the next one otherwise),
    /// once per source: the outcome's id is the entry's ticket. No webhook delivery is queued:
    /// the event happened before the backup.
    ///
    /// # Errors
    /// The database failed.
    pub async fn restore_event(
        &self,
        source: &str,
        event: &RestoredEvent,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        let external_id = event.id.to_string();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if tx.local_ref(source, RecordKind::Event, &external_id).await?.is_some() {
                tx.commit().await?;
                return Ok(Imported::Unchanged(event.ticket_id));
            }
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM ticket_events WHERE id = $1")
                .bind(event.id)
                .fetch_optional(&mut *tx)
                .await?;
            let kept_id = if taken.is_some() { None } else { Some(event.id) };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO ticket_events (id, ticket_id, kind, actor_id, internal, recipient_id, data, created_at) \
                 VALUES (COALESCE($1, (SELECT COALESCE(MAX(id), 0) + 1 FROM ticket_events)), $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(kept_id)
            .bind(event.ticket_id)
            .bind(event.event.kind().as_str())
            .bind(event.actor_id)
            .bind(event.internal)
            .bind(event.recipient_id)
            .bind(Json(event.event.data()))
            .bind(event.created_at)
            .fetch_one(&mut *tx)
            .await?;
            // external_refs holds uuids: an event's local id, a number, goes in the low 64 bits.
            let local = Uuid::from_u64_pair(0, id.unsigned_abs());
            tx.remember_ref(source, RecordKind::Event, &external_id, local, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(event.ticket_id))
        })
    }

    /// After restoring an event log: new entries continue after the highest id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn continue_event_ids(&self) -> Result<(), StoreError> {
        if let crate::Backend::Postgres(pool) = &self.store.backend {
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('ticket_events', 'id'), \
                 GREATEST((SELECT COALESCE(MAX(id), 0) FROM ticket_events), 1))",
            )
            .execute(pool)
            .await?;
        }
        Ok(())
    }

    /// A page of stored notifications in id order, after notification `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_notifications(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows: Vec<NotificationRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT id, user_id, kind, ticket_id, data, read_at, created_at FROM notifications \
                 WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(NotificationRecord::try_from).collect()
    }

    /// Restores a notification under its id, read or unread as it was; one already there is
    /// left as it is.
    ///
    /// # Errors
    /// `MissingReference` for an unknown user.
    pub async fn restore_notification(
        &self,
        notification: &NotificationRecord,
    ) -> Result<Imported, StoreError> {
        let written = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO notifications (id, user_id, kind, ticket_id, data, read_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING")
            .bind(notification.id)
            .bind(notification.user_id)
            .bind(notification.kind.as_str())
            .bind(notification.ticket_id)
            .bind(Json(&notification.data))
            .bind(notification.read_at)
            .bind(notification.created_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(Imported::restored(written, notification.id))
    }

    /// Gives a restored row the times it had when exported (an import stamps its own).
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_exported_times(
        &self,
        table: TimedTable,
        id: Uuid,
        created_at: Stamp,
        updated_at: Stamp,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {} SET created_at = $2, updated_at = $3 WHERE id = $1",
            table.name()
        );
        on_backend!(write self.store, pool => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(created_at)
            .bind(updated_at)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// The locales of those of `users` who chose one (the language of their mail), in one
    /// query.
    ///
    /// # Errors
    /// The database failed.
    pub async fn user_locales(&self, users: &[Uuid]) -> Result<HashMap<Uuid, String>, StoreError> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String)> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new("SELECT id, locale FROM users WHERE locale IS NOT NULL AND id IN (");
            let mut list = query.separated(", ");
            for id in users {
                list.push_bind(*id);
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// Gives a restored account the choices it had: new-ticket notifications (staff) and the
    /// locale of its mail.
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_preferences(
        &self,
        id: Uuid,
        notify_new_tickets: bool,
        locale: Option<&str>,
    ) -> Result<(), StoreError> {
        on_backend!(write self.store, pool => sqlx::query("UPDATE users SET notify_new_tickets = $2, locale = $3 WHERE id = $1")
            .bind(id)
            .bind(notify_new_tickets)
            .bind(locale)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Gives a restored ticket the version it had when exported, so a client's `If-Match`
    /// still means what it meant.
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_ticket_version(&self, id: Uuid, version: i64) -> Result<(), StoreError> {
        on_backend!(write self.store, pool => sqlx::query("UPDATE tickets SET version = $2 WHERE id = $1")
            .bind(id)
            .bind(version)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Links an imported ticket to the widget visitor it came through and the mailbox its mail
    /// goes out from, each when given.
    ///
    /// # Errors
    /// `MissingReference` for an unknown visitor or mailbox.
    pub async fn link_ticket_origin(
        &self,
        ticket_id: Uuid,
        visitor_id: Option<Uuid>,
        mailbox_id: Option<Uuid>,
    ) -> Result<(), StoreError> {
        on_backend!(write self.store, pool => sqlx::query(
                "UPDATE tickets SET visitor_id = COALESCE($2, visitor_id), mailbox_id = COALESCE($3, mailbox_id) WHERE id = $1")
            .bind(ticket_id)
            .bind(visitor_id)
            .bind(mailbox_id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Imports a widget: the one imported before from this source is left as it is, else a new
    /// one under the exported key.
    ///
    /// # Errors
    /// `Conflict` when another widget has the key; `MissingReference` for an unknown category.
    pub async fn import_widget(
        &self,
        source: &str,
        widget: &ImportedWidget,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        let fields = &widget.fields;
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Widget, &widget.external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = tx.free_id("widgets", widget.preferred_id).await?;
            sqlx::query(
                "INSERT INTO widgets (id, key, name, allowed_origins, settings, identity_secret, enforce_identity, active, \
                 default_category_id, default_priority, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(&widget.key)
            .bind(&fields.name)
            .bind(Json(&fields.allowed_origins))
            .bind(Json(&fields.settings))
            .bind(&fields.identity_secret)
            .bind(fields.enforce_identity)
            .bind(fields.active)
            .bind(fields.default_category_id)
            .bind(fields.default_priority.rank())
            .bind(widget.created_at)
            .bind(widget.updated_at)
            .execute(&mut *tx)
            .await?;
            tx.remember_ref(source, RecordKind::Widget, &widget.external_id, id, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// Imports a webhook with its subscriptions: the one imported before from this source is
    /// left as it is, else a new one with the exported secret.
    ///
    /// # Errors
    /// The database failed.
    pub async fn import_webhook(
        &self,
        source: &str,
        webhook: &ImportedWebhook,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Webhook, &webhook.external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = tx.free_id("webhooks", webhook.preferred_id).await?;
            sqlx::query(
                "INSERT INTO webhooks (id, url, secret, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&webhook.url)
            .bind(&webhook.secret)
            .bind(webhook.active)
            .bind(webhook.created_at)
            .bind(webhook.updated_at)
            .execute(&mut *tx)
            .await?;
            for event_type in &webhook.event_types {
                sqlx::query("INSERT INTO webhook_subscriptions (webhook_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(event_type)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.remember_ref(source, RecordKind::Webhook, &webhook.external_id, id, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// Imports a visitor: the one imported before from this source is left as it is, else a
    /// new one.
    ///
    /// # Errors
    /// `MissingReference` for an unknown widget or user.
    pub async fn import_visitor(
        &self,
        source: &str,
        visitor: &ImportedVisitor,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Visitor, &visitor.external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = tx.free_id("visitors", visitor.preferred_id).await?;
            sqlx::query("INSERT INTO visitors (id, widget_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(visitor.widget_id)
                .bind(visitor.user_id)
                .bind(visitor.created_at)
                .execute(&mut *tx)
                .await?;
            tx.remember_ref(source, RecordKind::Visitor, &visitor.external_id, id, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// Whether the database holds any account, category, FAQ, ticket, widget, webhook or
    /// mailbox that an import from `source` did not write: a restore into it would merge two
    /// installations.
    ///
    /// # Errors
    /// The database failed.
    pub async fn holds_records_not_imported_from(&self, source: &str) -> Result<bool, StoreError> {
        let tables = [
            "users",
            "categories",
            "faqs",
            "tickets",
            "widgets",
            "webhooks",
            "mailboxes",
        ];
        let checks: Vec<String> = tables
            .iter()
            .map(|table| {
                format!(
                    "EXISTS (SELECT 1 FROM {table} t WHERE NOT EXISTS \
                     (SELECT 1 FROM external_refs r WHERE r.source = $1 AND r.local_id = t.id))"
                )
            })
            .collect();
        let sql = format!("SELECT {}", checks.join(" OR "));
        let found: bool = on_backend!(self.store, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(source)
            .fetch_one(pool)
            .await)?;
        Ok(found)
    }
}
