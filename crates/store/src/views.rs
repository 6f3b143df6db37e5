//! Saved views: named ticket filters, each kept by one agent or shared with every agent.

use growdesk_domain::fold_case;
use growdesk_domain::workspace::{SavedView, Title, ViewFilter};
use uuid::Uuid;

use crate::import_preview::{ImportPreview, Previews};
use crate::imports::Imported;
use crate::{Stamp, Store, StoreError, on_backend};

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: Uuid,
    owner_id: Option<Uuid>,
    name: String,
    filter: String,
    created_at: Stamp,
    updated_at: Stamp,
}

impl TryFrom<ViewRow> for SavedView {
    type Error = StoreError;

    fn try_from(row: ViewRow) -> Result<Self, StoreError> {
        let filter: ViewFilter = serde_json::from_str(&row.filter)
            .map_err(|error| StoreError::Corrupt(format!("saved view {}: {error}", row.id)))?;
        Ok(Self {
            id: row.id,
            name: row.name,
            shared: row.owner_id.is_none(),
            owner_id: row.owner_id,
            filter,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

const COLUMNS: &str = "id, owner_id, name, filter, created_at, updated_at";

/// A position in a list of saved views or canned replies: the folded name or title, then the
/// id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleCursor {
    pub key: String,
    pub id: Uuid,
}

/// A saved view from a backup, restored under its id, owner and times.
#[derive(Debug, Clone)]
pub struct RestoredView {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub name: Title,
    pub filter: ViewFilter,
    pub created_at: Stamp,
    pub updated_at: Stamp,
}

/// Saved views.
#[derive(Debug, Clone, Copy)]
pub struct Views<'a> {
    pub(crate) store: &'a Store,
}

impl Views<'_> {
    /// Keeps a view for `owner`, or for everyone when `None`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn create(
        &self,
        owner: Option<Uuid>,
        name: &Title,
        filter: &ViewFilter,
    ) -> Result<SavedView, StoreError> {
        let sql = format!(
            "INSERT INTO saved_views (id, owner_id, name, name_key, filter, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        );
        let filter = filter_json(filter)?;
        let row: ViewRow = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(Uuid::now_v7())
            .bind(owner)
            .bind(name.as_str())
            .bind(fold_case(name.as_str()))
            .bind(&filter)
            .bind(Stamp::now())
            .fetch_one(pool)
            .await)?;
        row.try_into()
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<SavedView>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM saved_views WHERE id = $1");
        let row: Option<ViewRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(SavedView::try_from).transpose()
    }

    /// Up to `limit` of the views `viewer` keeps and the shared ones, after `after`, by name.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        viewer: Uuid,
        after: Option<&TitleCursor>,
        limit: u32,
    ) -> Result<Vec<SavedView>, StoreError> {
        // Two ranges of the owner index (the viewer's, the shared), each read in name order.
        let sql = format!(
            "SELECT {COLUMNS} FROM saved_views \
             WHERE (owner_id = $1 OR owner_id IS NULL) \
             AND ($2 IS NULL OR name_key > $2 OR (name_key = $2 AND id > $3)) \
             ORDER BY name_key, id LIMIT $4"
        );
        let rows: Vec<ViewRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(viewer)
            .bind(after.map(|cursor| cursor.key.as_str()))
            .bind(after.map(|cursor| cursor.id))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(SavedView::try_from).collect()
    }

    /// Renames a view and replaces its filter; `None` when it does not exist.
    ///
    /// # Errors
    /// The database failed.
    pub async fn update(
        &self,
        id: Uuid,
        name: &Title,
        filter: &ViewFilter,
    ) -> Result<Option<SavedView>, StoreError> {
        let sql = format!(
            "UPDATE saved_views SET name = $2, name_key = $3, filter = $4, updated_at = $5 \
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let filter = filter_json(filter)?;
        let row: Option<ViewRow> = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(name.as_str())
            .bind(fold_case(name.as_str()))
            .bind(&filter)
            .bind(Stamp::now())
            .fetch_optional(pool)
            .await)?;
        row.map(SavedView::try_from).transpose()
    }

    /// A page of every view, personal and shared, in id order after `after`: for a backup.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SavedView>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM saved_views WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<ViewRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(SavedView::try_from).collect()
    }

    /// Restores a view from a backup; one already there under its id is left as it is.
    ///
    /// # Errors
    /// `MissingReference` for an unknown owner.
    pub async fn restore(&self, view: &RestoredView) -> Result<Imported, StoreError> {
        let filter = filter_json(&view.filter)?;
        let written = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO saved_views (id, owner_id, name, name_key, filter, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING")
            .bind(view.id)
            .bind(view.owner_id)
            .bind(view.name.as_str())
            .bind(fold_case(view.name.as_str()))
            .bind(&filter)
            .bind(view.created_at)
            .bind(view.updated_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(Imported::restored(written, view.id))
    }

    /// Whether the view existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted: u64 = on_backend!(write self.store, pool => sqlx::query("DELETE FROM saved_views WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}

fn filter_json(filter: &ViewFilter) -> Result<String, StoreError> {
    serde_json::to_string(filter).map_err(|error| StoreError::Corrupt(error.to_string()))
}

impl Previews<'_> {
    /// What `restore` would answer, for a dry run.
    ///
    /// # Errors
    /// `MissingReference` for an unknown owner.
    pub async fn view(
        &self,
        preview: &mut ImportPreview,
        view: &RestoredView,
    ) -> Result<Imported, StoreError> {
        self.restore_by_id(preview, "saved_views", view.id, view.owner_id)
            .await
    }
}
