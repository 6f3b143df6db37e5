//! Imports: records from elsewhere, remembered by `(source, kind, external_id)`, so a re-run
//! (or a run resumed after a crash) updates what changed and creates nothing twice.

use growdesk_domain::event;
use growdesk_domain::{Event, Priority, Role, TicketSource, TicketStatus, fold_case};
use sha2::Digest as _;
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::messages::{NewAttachment, NewMessage};
use crate::tickets::MessageRecord;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

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

/// A message of an imported ticket.
#[derive(Debug, Clone)]
pub struct ImportedMessage {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    /// A local user id.
    pub author_id: Uuid,
    pub body: String,
    pub internal: bool,
    pub created_at: Stamp,
    pub attachments: Vec<NewAttachment>,
}

/// A ticket from another system, with its conversation; references are local ids.
#[derive(Debug, Clone)]
pub struct ImportedTicket {
    pub external_id: String,
    pub preferred_id: Option<Uuid>,
    /// Kept when free (a GrowDesk export); otherwise the next number.
    pub preferred_number: Option<i64>,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub assignee_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub source: TicketSource,
    pub created_at: Stamp,
    pub updated_at: Stamp,
    pub first_response_at: Option<Stamp>,
    pub resolved_at: Option<Stamp>,
    pub closed_at: Option<Stamp>,
    pub messages: Vec<ImportedMessage>,
    /// The source's own values (ids, statuses, channels), kept in the `created` event.
    pub original: serde_json::Value,
}

impl ImportedTicket {
    /// A fingerprint of the fields a re-import may change, as the source has them.
    pub(crate) fn digest(&self) -> String {
        let stamp = |stamp: Option<Stamp>| {
            stamp
                .map(|stamp| stamp.into_inner().unix_timestamp_nanos().to_string())
                .unwrap_or_default()
        };
        let uuid = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        let fields = [
            self.subject.clone(),
            self.status.as_str().to_owned(),
            self.priority.rank().to_string(),
            uuid(self.category_id),
            uuid(self.assignee_id),
            stamp(Some(self.updated_at)),
            stamp(self.first_response_at),
            stamp(self.resolved_at),
            stamp(self.closed_at),
            self.tags.join("\u{1f}"),
        ];
        let hash = sha2::Sha256::digest(fields.join("\u{1e}").as_bytes());
        hash.iter().map(|byte| format!("{byte:02x}")).collect()
    }
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
        on_backend!(self.store, pool, Db => {
            let mut tx = pool.begin_with(Db::BEGIN_WRITE).await?;
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
        on_backend!(self.store, pool, Db => {
            let mut tx = pool.begin_with(Db::BEGIN_WRITE).await?;
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
        on_backend!(self.store, pool, Db => {
            let mut tx = pool.begin_with(Db::BEGIN_WRITE).await?;
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

    /// Imports a ticket and its conversation in one transaction: created when new to this
    /// source; otherwise its fields are brought up to date and messages not seen before are
    /// added. Original timestamps are kept.
    ///
    /// # Errors
    /// `MissingReference` for unknown local users or categories.
    pub async fn ticket(
        &self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        self.write_imported_ticket(source, ticket, true).await
    }

    /// As `import_ticket`, without logging the ticket's creation: for a backup whose own event
    /// log is restored after its tickets.
    ///
    /// # Errors
    /// `MissingReference` for unknown local users or categories.
    pub async fn restore_ticket(
        &self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        self.write_imported_ticket(source, ticket, false).await
    }

    async fn write_imported_ticket(
        &self,
        source: &str,
        ticket: &ImportedTicket,
        log_creation: bool,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        let outcome = on_backend!(self.store, pool, Db => {
            let mut tx = pool.begin_with(Db::BEGIN_WRITE).await?;
            let digest = ticket.digest();
            let known: Option<(Uuid, Option<String>)> = sqlx::query_as(
                "SELECT local_id, digest FROM external_refs WHERE source = $1 AND kind = 'ticket' AND external_id = $2",
            )
            .bind(source)
            .bind(&ticket.external_id)
            .fetch_optional(&mut *tx)
            .await?;
            let mut outcome = match known {
                Some((id, seen)) if seen.as_deref() == Some(digest.as_str()) => Imported::Unchanged(id),
                Some((id, _)) => {
                    sqlx::query(
                        "UPDATE tickets SET subject = $2, status = $3, priority = $4, category_id = $5, assignee_id = $6, \
                         updated_at = $7, first_response_at = $8, resolved_at = $9, closed_at = $10, version = version + 1 \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&ticket.subject)
                    .bind(ticket.status.as_str())
                    .bind(ticket.priority.rank())
                    .bind(ticket.category_id)
                    .bind(ticket.assignee_id)
                    .bind(ticket.updated_at)
                    .bind(ticket.first_response_at)
                    .bind(ticket.resolved_at)
                    .bind(ticket.closed_at)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1").bind(id).execute(&mut *tx).await?;
                    tx.insert_tags(id, &ticket.tags).await?;
                    Imported::Updated(id)
                }
                None => {
                    let id = tx.free_id("tickets", ticket.preferred_id).await?;
                    let number_taken: Option<i32> = match ticket.preferred_number {
                        Some(number) => sqlx::query_scalar("SELECT 1 FROM tickets WHERE number = $1").bind(number).fetch_optional(&mut *tx).await?,
                        None => Some(1),
                    };
                    let number = match (ticket.preferred_number, number_taken) {
                        (Some(number), None) => number.to_string(),
                        _ => Db::NEXT_TICKET_NUMBER.to_owned(),
                    };
                    let sql = format!(
                        "INSERT INTO tickets (id, number, subject, status, priority, category_id, requester_id, assignee_id, \
                         source, created_at, updated_at, first_response_at, resolved_at, closed_at) \
                         VALUES ($1, {number}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .bind(&ticket.subject)
                        .bind(ticket.status.as_str())
                        .bind(ticket.priority.rank())
                        .bind(ticket.category_id)
                        .bind(ticket.requester_id)
                        .bind(ticket.assignee_id)
                        .bind(ticket.source.as_str())
                        .bind(ticket.created_at)
                        .bind(ticket.updated_at)
                        .bind(ticket.first_response_at)
                        .bind(ticket.resolved_at)
                        .bind(ticket.closed_at)
                        .execute(&mut *tx)
                        .await?;
                    tx.insert_tags(id, &ticket.tags).await?;
                    tx.remember_ref(source, RecordKind::Ticket, &ticket.external_id, id, now).await?;
                    if log_creation {
                        let imported = event::Imported { imported_from: source.to_owned(), original: ticket.original.clone() };
                        let created = [NewEvent::public(id, None, Event::Created(event::Created::Imported(imported)))];
                        tx.append_events(&created, now).await?;
                    }
                    Imported::Created(id)
                }
            };
            let id = outcome.id();
            sqlx::query("UPDATE external_refs SET digest = $3 WHERE source = $1 AND kind = 'ticket' AND external_id = $2")
                .bind(source)
                .bind(&ticket.external_id)
                .bind(&digest)
                .execute(&mut *tx)
                .await?;
            for message in &ticket.messages {
                if tx.local_ref(source, RecordKind::Message, &message.external_id).await?.is_some() {
                    continue;
                }
                let message_id = tx.free_id("messages", message.preferred_id).await?;
                let record = MessageRecord {
                    message: NewMessage { id: message_id, ticket_id: id, author_id: message.author_id, body: message.body.clone(), internal: message.internal },
                    attachments: message.attachments.clone(),
                };
                tx.insert_message(id, &record, message.created_at).await?;
                tx.remember_ref(source, RecordKind::Message, &message.external_id, message_id, now).await?;
                if outcome == Imported::Unchanged(id) {
                    outcome = Imported::Updated(id);
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(outcome)
        })?;
        if matches!(outcome, Imported::Created(_)) {
            self.store.announce_change();
        }
        Ok(outcome)
    }

    /// After imports that kept ticket numbers: new tickets continue after the highest.
    ///
    /// # Errors
    /// The database failed.
    pub async fn continue_ticket_numbers(&self) -> Result<(), StoreError> {
        if let crate::Backend::Postgres(pool) = &self.store.backend {
            sqlx::query("SELECT setval('ticket_number_seq', GREATEST((SELECT COALESCE(MAX(number), 0) FROM tickets), 1))")
                .execute(pool)
                .await?;
        }
        Ok(())
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
        on_backend!(self.store, pool => sqlx::query(
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
