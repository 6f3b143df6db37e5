//! Imported tickets with their conversations: created when new to their source, brought up to
//! date when seen again, their messages added once.

use growdesk_domain::{Event, MessageChannel, Priority, TicketSource, TicketStatus};
use sha2::Digest as _;
use uuid::Uuid;

use super::{Imported, Imports, RecordKind};
use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::messages::{NewAttachment, NewMessage};
use crate::tickets::MessageRecord;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, StoreError, on_backend};

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
    /// How it reached the ticket: `Import` for another system's messages, the channel it
    /// had for a GrowDesk backup's.
    pub channel: MessageChannel,
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

impl Imports<'_> {
    /// Imports a ticket and its conversation in one transaction: created when new to this
    /// source, its creation logged as `creation` (`None`: a backup whose own event log is
    /// restored after its tickets); otherwise its fields are brought up to date and messages
    /// not seen before are added. Original timestamps are kept.
    ///
    /// # Errors
    /// `MissingReference` for unknown local users or categories.
    pub async fn ticket(
        &self,
        source: &str,
        ticket: &ImportedTicket,
        creation: Option<&Event>,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        let outcome = on_backend!(self.store, pool, Db => {
            let mut tx = self.store.begin_write(pool).await?;
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
                    if let Some(creation) = creation {
                        tx.append_events(&[NewEvent::public(id, None, creation.clone())], now).await?;
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
                    message: NewMessage { id: message_id, ticket_id: id, author_id: message.author_id, body: message.body.clone(), internal: message.internal, channel: message.channel },
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
}
