//! Imports: records from elsewhere, remembered by `(source, kind, external_id)`, so a re-run
//! (or a run resumed after a crash) updates what changed and creates nothing twice.

mod tickets;

use growdesk_domain::{Role, fold_case};
use uuid::Uuid;

use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

pub use tickets::{ImportedMessage, ImportedTicket};

/// What kind of record an import remembers by its id at the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    User,
    Category,
    Faq,
    Ticket,
    Message,
    Widget,
    Visitor,
    Webhook,
    Event,
    Mailbox,
}

impl RecordKind {
    /// The name `external_refs` keeps it under.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Category => "category",
            Self::Faq => "faq",
            Self::Ticket => "ticket",
            Self::Message => "message",
            Self::Widget => "widget",
            Self::Visitor => "visitor",
            Self::Webhook => "webhook",
            Self::Event => "event",
            Self::Mailbox => "mailbox",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an import did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Created(Uuid),
    Updated(Uuid),
    Unchanged(Uuid),
}

impl Imported {
    pub fn id(self) -> Uuid {
        match self {
            Self::Created(id) | Self::Updated(id) | Self::Unchanged(id) => id,
        }
    }

    /// A record restored under its own id: created when the insert wrote a row, unchanged
    /// when one was there already.
    pub(crate) fn restored(rows_written: u64, id: Uuid) -> Self {
        if rows_written > 0 {
            Self::Created(id)
        } else {
            Self::Unchanged(id)
        }
    }
}

/// A user from another system.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub external_id: String,
    /// Kept when free, so an export imported elsewhere keeps its ids.
    pub preferred_id: Option<Uuid>,
    /// Normalised (`growdesk_domain::Email`).
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: Stamp,
}

/// A category from another system; matched by name when new to this source.
#[derive(Debug, Clone)]
pub struct ImportedCategory {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub color: String,
    pub active: bool,
    pub position: i32,
}

/// A FAQ from another system.
#[derive(Debug, Clone)]
pub struct ImportedFaq {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    pub question: String,
    pub answer: String,
    pub category_id: Option<Uuid>,
    pub published: bool,
    pub position: i32,
}

/// Records from other systems, remembered by their ids there.
#[derive(Debug, Clone, Copy)]
pub struct Imports<'a> {
    pub(crate) store: &'a Store,
}

impl Imports<'_> {
    /// The local id an import recorded for `(source, kind, external_id)`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn local_id(
        &self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let found: Option<Uuid> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT local_id FROM external_refs WHERE source = $1 AND kind = $2 AND external_id = $3")
            .bind(source)
            .bind(kind.as_str())
            .bind(external_id)
            .fetch_optional(pool)
            .await)?;
        Ok(found)
    }

    /// Imports a user: the one imported before from this source, else the one with this email
    /// (accounts are never duplicated), else a new one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn user(&self, source: &str, user: &ImportedUser) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::User, &user.external_id).await? {
                let changed = sqlx::query(
                    "UPDATE users SET name = $2, updated_at = $3, name_key = $4 WHERE id = $1 AND name <> $2",
                )
                .bind(id)
                .bind(&user.name)
                .bind(now)
                .bind(fold_case(&user.name))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                return Ok(if changed > 0 { Imported::Updated(id) } else { Imported::Unchanged(id) });
            }
            let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
                .bind(&user.email)
                .fetch_optional(&mut *tx)
                .await?;
            let outcome = match existing {
                Some(id) => Imported::Unchanged(id),
                None => {
                    let id = tx.free_id("users", user.preferred_id).await?;
                    sqlx::query(
                        "INSERT INTO users (id, email, name, role, password_hash, active, created_at, updated_at, name_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
                    )
                    .bind(id)
                    .bind(&user.email)
                    .bind(&user.name)
                    .bind(user.role.as_str())
                    .bind(&user.password_hash)
                    .bind(user.active)
                    .bind(user.created_at)
                    .bind(fold_case(&user.name))
                    .execute(&mut *tx)
                    .await?;
                    Imported::Created(id)
                }
            };
            tx.remember_ref(source, RecordKind::User, &user.external_id, outcome.id(), now).await?;
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Imports a category: the one imported before from this source, else the one with this
    /// name (case aside), else a new one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn category(
        &self,
        source: &str,
        category: &ImportedCategory,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Category, &category.external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let key = fold_case(&category.name);
            let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM categories WHERE name_key = $1")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
            let outcome = match existing {
                Some(id) => Imported::Unchanged(id),
                None => {
                    let id = tx.free_id("categories", category.preferred_id).await?;
                    sqlx::query(
                        "INSERT INTO categories (id, name, description, color, active, position, created_at, updated_at, name_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
                    )
                    .bind(id)
                    .bind(&category.name)
                    .bind(&category.description)
                    .bind(&category.color)
                    .bind(category.active)
                    .bind(category.position)
                    .bind(now)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                    Imported::Created(id)
                }
            };
            tx.remember_ref(source, RecordKind::Category, &category.external_id, outcome.id(), now).await?;
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Imports a FAQ: the one imported before from this source is left as it is, else a new one.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category.
    pub async fn faq(&self, source: &str, faq: &ImportedFaq) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Faq, &faq.external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = tx.free_id("faqs", faq.preferred_id).await?;
            sqlx::query(
                "INSERT INTO faqs (id, question, answer, category_id, published, position, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(id)
            .bind(&faq.question)
            .bind(&faq.answer)
            .bind(faq.category_id)
            .bind(faq.published)
            .bind(faq.position)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.remember_ref(source, RecordKind::Faq, &faq.external_id, id, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// How far an incremental import of `source` has read.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        let cursor: Option<String> = on_backend!(self.store, pool => sqlx::query_scalar("SELECT cursor FROM import_cursors WHERE source = $1")
            .bind(source)
            .fetch_optional(pool)
            .await)?;
        Ok(cursor)
    }

    /// Records how far an incremental import of `source` has read.
    ///
    /// # Errors
    /// The database failed.
    pub async fn set_cursor(&self, source: &str, cursor: &str) -> Result<(), StoreError> {
        on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO import_cursors (source, cursor, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at")
            .bind(source)
            .bind(cursor)
            .bind(Stamp::now())
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }
}
