//! Categories: the small, admin-kept list that sorts tickets.

use growdesk_domain::event::Change;
use growdesk_domain::{Category, Event, fold_case};
use uuid::Uuid;

use crate::events::NewEvent;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: Uuid,
    name: String,
    description: String,
    color: String,
    active: bool,
    position: i32,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<CategoryRow> for Category {
    fn from(row: CategoryRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            description: row.description,
            color: row.color,
            active: row.active,
            position: row.position,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

const COLUMNS: &str = "id, name, description, color, active, position, created_at, updated_at";

/// A category's fields, complete: used to create one and, merged by the service, to change one.
#[derive(Debug, Clone)]
pub struct CategoryFields {
    pub name: String,
    pub description: String,
    pub color: String,
    pub active: bool,
    pub position: i32,
}

/// What deleting a category came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryDeletion {
    Deleted {
        reassigned: u64,
    },
    /// Tickets still use it and no replacement was given.
    InUse {
        tickets: u64,
    },
    NotFound,
}

/// Ticket categories.
#[derive(Debug, Clone, Copy)]
pub struct Categories<'a> {
    pub(crate) store: &'a Store,
}

impl Categories<'_> {
    /// # Errors
    /// `Conflict` when the name is taken, whatever its case (its `fold_case` key).
    pub async fn create(&self, fields: CategoryFields) -> Result<Category, StoreError> {
        let now = Stamp::now();
        let sql = format!(
            "INSERT INTO categories (id, name, description, color, active, position, created_at, updated_at, name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING {COLUMNS}"
        );
        let key = fold_case(&fields.name);
        let row: CategoryRow = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(Uuid::now_v7())
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(&fields.color)
            .bind(fields.active)
            .bind(fields.position)
            .bind(now)
            .bind(&key)
            .fetch_one(pool)
            .await)?;
        Ok(row.into())
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Category>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM categories WHERE id = $1");
        let row: Option<CategoryRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Category::from))
    }

    /// Every category in display order (there are few), optionally only active ones.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self, active_only: bool) -> Result<Vec<Category>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM categories WHERE ($1 = FALSE OR active = TRUE) ORDER BY position, name_key, id"
        );
        let rows: Vec<CategoryRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(active_only)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Category::from).collect())
    }

    /// Replaces a category's fields; `None` when it does not exist.
    ///
    /// # Errors
    /// `Conflict` when the new name is taken, whatever its case.
    pub async fn update(
        &self,
        id: Uuid,
        fields: CategoryFields,
    ) -> Result<Option<Category>, StoreError> {
        let sql = format!(
            "UPDATE categories SET name = $2, description = $3, color = $4, active = $5, position = $6, \
             updated_at = $7, name_key = $8 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let key = fold_case(&fields.name);
        let row: Option<CategoryRow> = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(&fields.color)
            .bind(fields.active)
            .bind(fields.position)
            .bind(Stamp::now())
            .bind(&key)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Category::from))
    }

    /// Deletes a category. Tickets using it block the deletion unless `reassign_to` is given, in
    /// which case they move there first, each with a `category_changed` event by `actor`.
    ///
    /// # Errors
    /// `MissingReference` when `reassign_to` does not exist.
    pub async fn delete(
        &self,
        id: Uuid,
        reassign_to: Option<Uuid>,
        actor: Uuid,
    ) -> Result<CategoryDeletion, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            // Lock the row first (a write), so the count below cannot go stale.
            let exists = sqlx::query("UPDATE categories SET updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if exists == 0 {
                return Ok(CategoryDeletion::NotFound);
            }
            let used: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tickets WHERE category_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let reassigned = used.len() as u64;
            match reassign_to {
                None if !used.is_empty() => {
                    tx.rollback().await?;
                    return Ok(CategoryDeletion::InUse { tickets: reassigned });
                }
                Some(target) if !used.is_empty() => {
                    sqlx::query(
                        "UPDATE tickets SET category_id = $2, version = version + 1, updated_at = $3 \
                         WHERE category_id = $1",
                    )
                    .bind(id)
                    .bind(target)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let merged = Change { from: Some(id), to: Some(target) };
                    let events: Vec<NewEvent> = used
                        .iter()
                        .map(|ticket| NewEvent::public(*ticket, Some(actor), Event::CategoryChanged(merged.clone())))
                        .collect();
                    tx.append_events(&events, now).await?;
                }
                _ => {}
            }
            sqlx::query("DELETE FROM categories WHERE id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            self.store.announce_change();
            Ok(CategoryDeletion::Deleted { reassigned })
        })
    }
}
