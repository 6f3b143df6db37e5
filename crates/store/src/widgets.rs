//! Widgets and their visitors.

use growdesk_domain::{Priority, Widget, WidgetSettings};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

const COLUMNS: &str = "id, key, name, allowed_origins, settings, identity_secret, enforce_identity, active, \
     default_category_id, default_priority, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct WidgetRow {
    id: Uuid,
    key: String,
    name: String,
    allowed_origins: Json<Vec<String>>,
    settings: Json<WidgetSettings>,
    identity_secret: Option<String>,
    enforce_identity: bool,
    active: bool,
    default_category_id: Option<Uuid>,
    default_priority: i16,
    created_at: Stamp,
    updated_at: Stamp,
}

impl TryFrom<WidgetRow> for Widget {
    type Error = StoreError;

    fn try_from(row: WidgetRow) -> Result<Self, Self::Error> {
        let default_priority = Priority::from_rank(row.default_priority).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "widget {} has priority {}",
                row.id, row.default_priority
            ))
        })?;
        Ok(Self {
            id: row.id,
            key: row.key,
            name: row.name,
            allowed_origins: row.allowed_origins.0,
            settings: row.settings.0,
            identity_secret: row.identity_secret,
            enforce_identity: row.enforce_identity,
            active: row.active,
            default_category_id: row.default_category_id,
            default_priority,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

/// A widget's fields, complete.
#[derive(Debug, Clone)]
pub struct WidgetFields {
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub settings: WidgetSettings,
    pub identity_secret: Option<String>,
    pub enforce_identity: bool,
    pub active: bool,
    pub default_category_id: Option<Uuid>,
    pub default_priority: Priority,
}

/// A visitor: a browser that opened a conversation through a widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Visitor {
    pub id: Uuid,
    pub widget_id: Uuid,
    /// The customer record its first ticket was filed under.
    pub user_id: Uuid,
}

/// Chat widgets and their visitors.
#[derive(Debug, Clone, Copy)]
pub struct Widgets<'a> {
    pub(crate) store: &'a Store,
}

impl Widgets<'_> {
    /// # Errors
    /// `Conflict` if the key is taken (practically never: keys are random).
    pub async fn create(&self, key: &str, fields: &WidgetFields) -> Result<Widget, StoreError> {
        let now = Stamp::now();
        let sql = format!(
            "INSERT INTO widgets (id, key, name, allowed_origins, settings, identity_secret, enforce_identity, active, \
             default_category_id, default_priority, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {COLUMNS}"
        );
        let row: WidgetRow = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(Uuid::now_v7())
            .bind(key)
            .bind(&fields.name)
            .bind(Json(&fields.allowed_origins))
            .bind(Json(&fields.settings))
            .bind(&fields.identity_secret)
            .bind(fields.enforce_identity)
            .bind(fields.active)
            .bind(fields.default_category_id)
            .bind(fields.default_priority.rank())
            .bind(now)
            .fetch_one(pool)
            .await)?;
        row.try_into()
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Widget>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM widgets WHERE id = $1");
        let row: Option<WidgetRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(pool).await)?;
        row.map(Widget::try_from).transpose()
    }

    /// # Errors
    /// The database failed.
    pub async fn by_key(&self, key: &str) -> Result<Option<Widget>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM widgets WHERE key = $1");
        let row: Option<WidgetRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(key).fetch_optional(pool).await)?;
        row.map(Widget::try_from).transpose()
    }

    /// Every widget (an installation has few), oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self) -> Result<Vec<Widget>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM widgets ORDER BY id");
        let rows: Vec<WidgetRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await)?;
        rows.into_iter().map(Widget::try_from).collect()
    }

    /// Replaces a widget's fields (and its key, when `key` is given); `None` when it does not
    /// exist.
    ///
    /// # Errors
    /// The database failed.
    pub async fn update(
        &self,
        id: Uuid,
        key: Option<&str>,
        fields: &WidgetFields,
    ) -> Result<Option<Widget>, StoreError> {
        let sql = format!(
            "UPDATE widgets SET key = COALESCE($2, key), name = $3, allowed_origins = $4, settings = $5, \
             identity_secret = $6, enforce_identity = $7, active = $8, default_category_id = $9, default_priority = $10, \
             updated_at = $11 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row: Option<WidgetRow> = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(key)
            .bind(&fields.name)
            .bind(Json(&fields.allowed_origins))
            .bind(Json(&fields.settings))
            .bind(&fields.identity_secret)
            .bind(fields.enforce_identity)
            .bind(fields.active)
            .bind(fields.default_category_id)
            .bind(fields.default_priority.rank())
            .bind(Stamp::now())
            .fetch_optional(pool)
            .await)?;
        row.map(Widget::try_from).transpose()
    }

    /// Deletes a widget; its tickets stay (without their visitor link).
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_backend!(write self.store, pool => sqlx::query("DELETE FROM widgets WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }

    /// Whether any active widget allows `origin` (for CORS preflights, which carry no key).
    ///
    /// # Errors
    /// The database failed.
    pub async fn any_allows(&self, origin: &str) -> Result<bool, StoreError> {
        let lists: Vec<Json<Vec<String>>> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT allowed_origins FROM widgets WHERE active = TRUE")
            .fetch_all(pool)
            .await)?;
        Ok(lists
            .iter()
            .any(|list| list.0.iter().any(|allowed| allowed == origin)))
    }

    /// A visitor, while the account it was filed under is active: a deactivated customer's
    /// visitors are refused like the customer.
    ///
    /// # Errors
    /// The database failed.
    pub async fn active_visitor(&self, id: Uuid) -> Result<Option<Visitor>, StoreError> {
        let row: Option<Visitor> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT v.id, v.widget_id, v.user_id FROM visitors v JOIN users u ON u.id = v.user_id \
                 WHERE v.id = $1 AND u.active = TRUE")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }
}
