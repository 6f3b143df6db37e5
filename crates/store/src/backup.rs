//! Backups: what `growdesk-sync export` reads beyond the API's own views (visitors) and what `import json` writes back under the ids,
//! keys and secrets it had, so a restored widget or webhook keeps working where it is embedded.

use sqlx::types::Json;
use uuid::Uuid;

use crate::dialect::pick;
use crate::imports::{free_id, local_ref, remember_ref};
use crate::{Imported, Stamp, Store, StoreError, WidgetFields, on_backend};

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

/// A table whose restored rows keep the exported creation and change times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedTable {
    Categories,
    Faqs,
}

impl TimedTable {
    fn name(self) -> &'static str {
        match self {
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

impl Store {
    /// A page of visitors in id order, after visitor `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_visitors(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<VisitorRecord>, StoreError> {
        let rows: Vec<VisitorRecord> = on_backend!(self, pool => sqlx::query_as(
                "SELECT id, widget_id, user_id, created_at FROM visitors WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
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
        on_backend!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(created_at)
            .bind(updated_at)
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
        on_backend!(self, pool => sqlx::query("UPDATE tickets SET version = $2 WHERE id = $1")
            .bind(id)
            .bind(version)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Links an imported ticket to the visitor it came through.
    ///
    /// # Errors
    /// `MissingReference` for an unknown visitor.
    pub async fn link_ticket_visitor(
        &self,
        ticket_id: Uuid,
        visitor_id: Uuid,
    ) -> Result<(), StoreError> {
        on_backend!(self, pool => sqlx::query("UPDATE tickets SET visitor_id = $2 WHERE id = $1")
            .bind(ticket_id)
            .bind(visitor_id)
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
        on_backend!(self, pool => {
            let mut tx = pool.begin_with(pick(pool, "BEGIN", "BEGIN IMMEDIATE")).await?;
            if let Some(id) = local_ref!(tx, source, "widget", &widget.external_id) {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = free_id!(tx, "widgets", widget.preferred_id);
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
            remember_ref!(tx, source, "widget", &widget.external_id, id, now);
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
        on_backend!(self, pool => {
            let mut tx = pool.begin_with(pick(pool, "BEGIN", "BEGIN IMMEDIATE")).await?;
            if let Some(id) = local_ref!(tx, source, "webhook", &webhook.external_id) {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = free_id!(tx, "webhooks", webhook.preferred_id);
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
            remember_ref!(tx, source, "webhook", &webhook.external_id, id, now);
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
        on_backend!(self, pool => {
            let mut tx = pool.begin_with(pick(pool, "BEGIN", "BEGIN IMMEDIATE")).await?;
            if let Some(id) = local_ref!(tx, source, "visitor", &visitor.external_id) {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = free_id!(tx, "visitors", visitor.preferred_id);
            sqlx::query("INSERT INTO visitors (id, widget_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(visitor.widget_id)
                .bind(visitor.user_id)
                .bind(visitor.created_at)
                .execute(&mut *tx)
                .await?;
            remember_ref!(tx, source, "visitor", &visitor.external_id, id, now);
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// Whether the database holds any account, category, FAQ, ticket, widget or webhook that
    /// an import from `source` did not write: a restore into it would merge two installations.
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
        let found: bool = on_backend!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(source)
            .fetch_one(pool)
            .await)?;
        Ok(found)
    }
}
