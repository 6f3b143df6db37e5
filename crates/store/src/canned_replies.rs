//! Canned replies: titled texts agents insert into their replies, each kept by one agent or
//! shared with every agent.

use growdesk_domain::MessageBody;
use growdesk_domain::fold_case;
use growdesk_domain::workspace::{CannedReply, Shortcut, Title};
use uuid::Uuid;

use crate::import_preview::{ImportPreview, Previews};
use crate::imports::Imported;
use crate::views::TitleCursor;
use crate::{Stamp, Store, StoreError, on_backend};

#[derive(sqlx::FromRow)]
struct ReplyRow {
    id: Uuid,
    owner_id: Option<Uuid>,
    title: String,
    body: String,
    shortcut: Option<String>,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<ReplyRow> for CannedReply {
    fn from(row: ReplyRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            body: row.body,
            shortcut: row.shortcut,
            shared: row.owner_id.is_none(),
            owner_id: row.owner_id,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

const COLUMNS: &str = "id, owner_id, title, body, shortcut, created_at, updated_at";

/// A canned reply's fields, complete: to create one and, merged by the service, to change one.
#[derive(Debug, Clone)]
pub struct ReplyFields {
    pub title: Title,
    pub body: MessageBody,
    pub shortcut: Option<Shortcut>,
}

/// A canned reply from a backup, restored under its id, owner and times.
#[derive(Debug, Clone)]
pub struct RestoredReply {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub fields: ReplyFields,
    pub created_at: Stamp,
    pub updated_at: Stamp,
}

/// Canned replies.
#[derive(Debug, Clone, Copy)]
pub struct CannedReplies<'a> {
    pub(crate) store: &'a Store,
}

impl CannedReplies<'_> {
    /// Keeps a reply for `owner`, or for everyone when `None`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn create(
        &self,
        owner: Option<Uuid>,
        fields: &ReplyFields,
    ) -> Result<CannedReply, StoreError> {
        let sql = format!(
            "INSERT INTO canned_replies (id, owner_id, title, title_key, body, shortcut, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
        );
        let row: ReplyRow = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(Uuid::now_v7())
            .bind(owner)
            .bind(fields.title.as_str())
            .bind(fold_case(fields.title.as_str()))
            .bind(fields.body.as_str())
            .bind(fields.shortcut.as_ref().map(Shortcut::as_str))
            .bind(Stamp::now())
            .fetch_one(pool)
            .await)?;
        Ok(row.into())
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<CannedReply>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM canned_replies WHERE id = $1");
        let row: Option<ReplyRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(CannedReply::from))
    }

    /// Up to `limit` of the replies `viewer` keeps and the shared ones, after `after`, by
    /// title; with `prefix` (folded), only those whose title or shortcut starts with it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        viewer: Uuid,
        prefix: Option<&str>,
        after: Option<&TitleCursor>,
        limit: u32,
    ) -> Result<Vec<CannedReply>, StoreError> {
        // Two ranges of the owner index (the viewer's, the shared), each read in title order;
        // the prefix is tested on the rows read, of which an agent has tens, not millions.
        let sql = format!(
            "SELECT {COLUMNS} FROM canned_replies \
             WHERE (owner_id = $1 OR owner_id IS NULL) \
             AND ($2 IS NULL OR substr(title_key, 1, $3) = $2 OR substr(shortcut, 1, $3) = $2) \
             AND ($4 IS NULL OR title_key > $4 OR (title_key = $4 AND id > $5)) \
             ORDER BY title_key, id LIMIT $6"
        );
        let prefix_chars = prefix.map_or(0, |prefix| {
            i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX)
        });
        let rows: Vec<ReplyRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(viewer)
            .bind(prefix)
            .bind(prefix_chars)
            .bind(after.map(|cursor| cursor.key.as_str()))
            .bind(after.map(|cursor| cursor.id))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(CannedReply::from).collect())
    }

    /// Replaces a reply's fields; `None` when it does not exist.
    ///
    /// # Errors
    /// The database failed.
    pub async fn update(
        &self,
        id: Uuid,
        fields: &ReplyFields,
    ) -> Result<Option<CannedReply>, StoreError> {
        let sql = format!(
            "UPDATE canned_replies SET title = $2, title_key = $3, body = $4, shortcut = $5, \
             updated_at = $6 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row: Option<ReplyRow> = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(fields.title.as_str())
            .bind(fold_case(fields.title.as_str()))
            .bind(fields.body.as_str())
            .bind(fields.shortcut.as_ref().map(Shortcut::as_str))
            .bind(Stamp::now())
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(CannedReply::from))
    }

    /// A page of every reply, personal and shared, in id order after `after`: for a backup.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<CannedReply>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM canned_replies WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<ReplyRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(CannedReply::from).collect())
    }

    /// Restores a reply from a backup; one already there under its id is left as it is.
    ///
    /// # Errors
    /// `MissingReference` for an unknown owner.
    pub async fn restore(&self, reply: &RestoredReply) -> Result<Imported, StoreError> {
        let fields = &reply.fields;
        let written = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO canned_replies (id, owner_id, title, title_key, body, shortcut, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING")
            .bind(reply.id)
            .bind(reply.owner_id)
            .bind(fields.title.as_str())
            .bind(fold_case(fields.title.as_str()))
            .bind(fields.body.as_str())
            .bind(fields.shortcut.as_ref().map(Shortcut::as_str))
            .bind(reply.created_at)
            .bind(reply.updated_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(Imported::restored(written, reply.id))
    }

    /// Whether the reply existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted: u64 = on_backend!(write self.store, pool => sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}

impl Previews<'_> {
    /// What `restore` would answer, for a dry run.
    ///
    /// # Errors
    /// `MissingReference` for an unknown owner.
    pub async fn canned_reply(
        &self,
        preview: &mut ImportPreview,
        reply: &RestoredReply,
    ) -> Result<Imported, StoreError> {
        self.restore_by_id(preview, "canned_replies", reply.id, reply.owner_id)
            .await
    }
}
