//! Messages on tickets (public replies and internal notes) and their attachments.

use std::collections::{HashMap, HashSet};

use growdesk_domain::{Attachment, Author, Message, MessageChannel, Role};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{Stamp, Store, StoreError, on_backend};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub internal: bool,
    /// How it reached the ticket.
    pub channel: MessageChannel,
}

/// A stored file to attach to a new message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// An attachment with what deciding who may download it needs.
#[derive(Debug, Clone)]
pub struct StoredAttachment {
    pub attachment: Attachment,
    pub ticket_id: Uuid,
    /// Attached to an internal note.
    pub internal: bool,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    ticket_id: Uuid,
    author_id: Uuid,
    author_name: String,
    author_role: String,
    body: String,
    internal: bool,
    created_at: Stamp,
    channel: String,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: Uuid,
    message_id: Uuid,
    ticket_id: Uuid,
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
    internal: bool,
}

impl AttachmentRow {
    fn into_stored(self) -> StoredAttachment {
        StoredAttachment {
            ticket_id: self.ticket_id,
            internal: self.internal,
            attachment: Attachment {
                id: self.id,
                filename: self.filename,
                content_type: self.content_type,
                size: self.size,
                sha256: self.sha256,
                message_id: self.message_id,
            },
        }
    }
}

const SELECT_MESSAGES: &str = "SELECT m.id, m.ticket_id, m.author_id, u.name AS author_name, u.role AS author_role, \
     m.body, m.internal, m.created_at, m.channel FROM messages m JOIN users u ON u.id = m.author_id";

const SELECT_ATTACHMENTS: &str = "SELECT a.id, a.message_id, a.ticket_id, a.filename, a.content_type, a.size, a.sha256, \
     m.internal FROM attachments a JOIN messages m ON m.id = a.message_id";

/// The messages of tickets and their attachments, as read back.
#[derive(Debug, Clone, Copy)]
pub struct Messages<'a> {
    pub(crate) store: &'a Store,
}

impl Messages<'_> {
    /// One message with its author and attachments.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Message>, StoreError> {
        let sql = format!("{SELECT_MESSAGES} WHERE m.id = $1");
        let row: Option<MessageRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(self
            .with_attachments(row.into_iter().collect())
            .await?
            .pop())
    }

    /// The messages with these ids (any order), with authors and attachments.
    ///
    /// # Errors
    /// The database failed.
    pub async fn by_ids(&self, ids: &[Uuid]) -> Result<Vec<Message>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<MessageRow> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(SELECT_MESSAGES);
            query.push(" WHERE m.id IN (");
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await
        })?;
        self.with_attachments(rows).await
    }

    /// Every message (internal ones too) of these tickets, oldest first: for exports, one
    /// query per page of tickets.
    ///
    /// # Errors
    /// The database failed.
    pub async fn of_tickets(&self, ticket_ids: &[Uuid]) -> Result<Vec<Message>, StoreError> {
        if ticket_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<MessageRow> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(SELECT_MESSAGES);
            query.push(" WHERE m.ticket_id IN (");
            let mut list = query.separated(", ");
            for id in ticket_ids {
                list.push_bind(*id);
            }
            query.push(") ORDER BY m.id");
            query.build_query_as().fetch_all(pool).await
        })?;
        self.with_attachments(rows).await
    }

    /// A page of a ticket's messages, oldest first, after message `after`; internal notes only
    /// when `include_internal`. Two queries whatever the page size.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        ticket_id: Uuid,
        include_internal: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.ticket_id = $1 AND ($2 = TRUE OR m.internal = FALSE) \
             AND ($3 IS NULL OR m.id > $3) ORDER BY m.id LIMIT $4"
        );
        let rows: Vec<MessageRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(ticket_id)
            .bind(include_internal)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        self.with_attachments(rows).await
    }

    async fn with_attachments(&self, rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
        let mut attachments: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
        if !rows.is_empty() {
            let found: Vec<AttachmentRow> = on_backend!(self.store, pool => {
                let mut query = QueryBuilder::new(SELECT_ATTACHMENTS);
                query.push(" WHERE a.message_id IN (");
                let mut list = query.separated(", ");
                for row in &rows {
                    list.push_bind(row.id);
                }
                query.push(") ORDER BY a.id");
                query.build_query_as().fetch_all(pool).await
            })?;
            for row in found {
                let stored = row.into_stored();
                attachments
                    .entry(stored.attachment.message_id)
                    .or_default()
                    .push(stored.attachment);
            }
        }
        rows.into_iter()
            .map(|row| {
                let role: Role = row.author_role.parse().map_err(|_| {
                    StoreError::Corrupt(format!(
                        "user {} has role {:?}",
                        row.author_id, row.author_role
                    ))
                })?;
                let channel: MessageChannel = row.channel.parse().map_err(|_| {
                    StoreError::Corrupt(format!("message {} has channel {:?}", row.id, row.channel))
                })?;
                Ok(Message {
                    id: row.id,
                    ticket_id: row.ticket_id,
                    author: Author {
                        id: row.author_id,
                        name: row.author_name,
                        role,
                    },
                    body: row.body,
                    internal: row.internal,
                    created_at: row.created_at.into(),
                    attachments: attachments.remove(&row.id).unwrap_or_default(),
                    channel,
                    // The service fills it from `mail().deliveries`, for staff only.
                    delivery: None,
                })
            })
            .collect()
    }

    /// Which of these contents (hex SHA-256) a stored attachment names.
    ///
    /// # Errors
    /// The database failed.
    pub async fn named_contents(&self, sha256s: &[String]) -> Result<HashSet<String>, StoreError> {
        if sha256s.is_empty() {
            return Ok(HashSet::new());
        }
        let named: Vec<String> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new("SELECT DISTINCT sha256 FROM attachments WHERE sha256 IN (");
            let mut list = query.separated(", ");
            for sha256 in sha256s {
                list.push_bind(sha256.as_str());
            }
            query.push(")");
            query.build_query_scalar().fetch_all(pool).await
        })?;
        Ok(named.into_iter().collect())
    }

    /// An attachment with its ticket and whether it belongs to an internal note.
    ///
    /// # Errors
    /// The database failed.
    pub async fn attachment(&self, id: Uuid) -> Result<Option<StoredAttachment>, StoreError> {
        let sql = format!("{SELECT_ATTACHMENTS} WHERE a.id = $1");
        let row: Option<AttachmentRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(AttachmentRow::into_stored))
    }
}
