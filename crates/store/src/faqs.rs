//! FAQs: questions and answers, kept by staff, published to customers.
//!
//! Each write is one statement, yet runs in a transaction: on SQLite, a write to the
//! full-text-indexed `faqs` refused outside one (an unknown category) left its connection
//! failing its next write with "database is locked" once another connection had written.

use growdesk_domain::Faq;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::dialect::{Dialect, MATCH_END};
use crate::{Stamp, Store, StoreError, on_backend};

#[derive(sqlx::FromRow)]
struct FaqRow {
    id: Uuid,
    question: String,
    answer: String,
    category_id: Option<Uuid>,
    published: bool,
    position: i32,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<FaqRow> for Faq {
    fn from(row: FaqRow) -> Self {
        Self {
            id: row.id,
            question: row.question,
            answer: row.answer,
            category_id: row.category_id,
            published: row.published,
            position: row.position,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

const COLUMNS: &str = "f.id, f.question, f.answer, f.category_id, f.published, f.position, f.created_at, f.updated_at";

/// A FAQ's fields, complete.
#[derive(Debug, Clone)]
pub struct FaqFields {
    pub question: String,
    pub answer: String,
    pub category_id: Option<Uuid>,
    pub published: bool,
    pub position: i32,
}

/// Filters for the FAQ list.
#[derive(Debug, Clone, Default)]
pub struct FaqFilter {
    pub published: Option<bool>,
    pub category_id: Option<Uuid>,
    /// Search terms (letters and digits only); every one must match the question or answer.
    pub terms: Vec<String>,
}

/// Where a FAQ page starts: after this position and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqCursor {
    pub position: i32,
    pub id: Uuid,
}

/// Frequently asked questions.
#[derive(Debug, Clone, Copy)]
pub struct Faqs<'a> {
    pub(crate) store: &'a Store,
}

impl Faqs<'_> {
    /// # Errors
    /// `MissingReference` for an unknown category.
    pub async fn create(&self, fields: FaqFields) -> Result<Faq, StoreError> {
        let now = Stamp::now();
        let row: FaqRow = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let row = sqlx::query_as(
                    "INSERT INTO faqs (id, question, answer, category_id, published, position, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     RETURNING id, question, answer, category_id, published, position, created_at, updated_at")
                .bind(Uuid::now_v7())
                .bind(&fields.question)
                .bind(&fields.answer)
                .bind(fields.category_id)
                .bind(fields.published)
                .bind(fields.position)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        })?;
        Ok(row.into())
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Faq>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM faqs f WHERE f.id = $1");
        let row: Option<FaqRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Faq::from))
    }

    /// One page of FAQs in display order (position, then creation).
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        filter: &FaqFilter,
        after: Option<FaqCursor>,
        limit: u32,
    ) -> Result<Vec<Faq>, StoreError> {
        let rows: Vec<FaqRow> = on_backend!(self.store, pool, Db => {
            let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} FROM faqs f WHERE TRUE"));
            if let Some(published) = filter.published {
                query.push(" AND f.published = ").push_bind(published);
            }
            if let Some(category) = filter.category_id {
                query.push(" AND f.category_id = ").push_bind(category);
            }
            if !filter.terms.is_empty() {
                let search = Db::search_query(&filter.terms);
                query.push(" AND ").push(Db::FAQ_MATCHES);
                query.push_bind(search).push(MATCH_END);
            }
            if let Some(cursor) = after {
                query.push(" AND (f.position > ").push_bind(cursor.position);
                query.push(" OR (f.position = ").push_bind(cursor.position);
                query.push(" AND f.id > ").push_bind(cursor.id).push("))");
            }
            query.push(" ORDER BY f.position, f.id LIMIT ").push_bind(i64::from(limit));
            query.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(Faq::from).collect())
    }

    /// Replaces a FAQ's fields; `None` when it does not exist.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category.
    pub async fn update(&self, id: Uuid, fields: FaqFields) -> Result<Option<Faq>, StoreError> {
        let row: Option<FaqRow> = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let row = sqlx::query_as(
                    "UPDATE faqs SET question = $2, answer = $3, category_id = $4, published = $5, position = $6, \
                     updated_at = $7 WHERE id = $1 \
                     RETURNING id, question, answer, category_id, published, position, created_at, updated_at")
                .bind(id)
                .bind(&fields.question)
                .bind(&fields.answer)
                .bind(fields.category_id)
                .bind(fields.published)
                .bind(fields.position)
                .bind(Stamp::now())
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        })?;
        Ok(row.map(Faq::from))
    }

    /// Deletes a FAQ; whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let deleted = sqlx::query("DELETE FROM faqs WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted)
        })?;
        Ok(deleted > 0)
    }
}
