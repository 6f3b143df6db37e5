//! Changing a ticket under its lock: the caller's rules decide on the ticket as it is, and
//! what they decide is written before anyone else can change it.
//!
//! The ticket is read inside the transaction — with `FOR UPDATE` on PostgreSQL, under the
//! write lock `BEGIN IMMEDIATE` took on SQLite — so concurrent changes queue up instead of
//! overwriting each other or failing: no lost update, no retry loop.

use growdesk_domain::event::{AttachmentAdded, MessageAdded};
use growdesk_domain::{Event, Ticket};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::idempotency::IdempotencyClaim;
use crate::mail::{InboundRecord, MailTx as _, NewOutboundMail};
use crate::messages::{NewAttachment, NewMessage};
use crate::tickets::{TicketRow, TicketState, Tickets, ticket_query};
use crate::write_tx::{Claim, WriteTx as _};
use crate::{Stamp, StoreError, on_backend};

/// A message to add with a change, and its files.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub message: NewMessage,
    pub attachments: Vec<NewAttachment>,
}

/// What the rules decided: the ticket's new state, the events that say why, maybe a message
/// (whose `message_created` and `attachment_added` events are added here), the mail it sends,
/// and the imported mail it came from.
#[derive(Debug, Clone)]
pub struct TicketChange {
    pub state: TicketState,
    pub events: Vec<NewEvent>,
    pub message: Option<MessageRecord>,
    /// Internal notes written after the message (about the mail it came from, say).
    pub notes: Vec<MessageRecord>,
    /// Queued in the change's transaction: sent exactly when the change is made.
    pub mail: Vec<NewOutboundMail>,
    /// The mail this change was imported from (its message, if any, is what the mail
    /// became): a mail imported before makes the whole change fail with `Conflict`.
    pub inbound: Option<InboundRecord>,
}

/// What came of a change.
#[derive(Debug)]
pub enum Changed<E> {
    /// Written; the id of the message added, if any, and when (the ticket's `updated_at`, and
    /// the message's `created_at`), so that the caller need not read back what it wrote.
    Applied {
        message_id: Option<Uuid>,
        at: Stamp,
    },
    /// The rules decided nothing changes.
    Unchanged,
    /// The rules refused.
    Refused(E),
    NotFound,
    /// The idempotency key was used before for the same request, which created this message.
    Replayed(Uuid),
    /// The idempotency key was used before for a different request.
    KeyReused,
}

impl Tickets<'_> {
    /// Locks ticket `id`, lets `decide` rule on it, and writes the decision with its events (and
    /// message) in the same transaction. `claim` is the idempotency key of a message post,
    /// claimed for the message's id.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category or assignee; `Conflict` when the change's
    /// `inbound` mail was imported before (nothing is written).
    pub async fn change<E, F>(
        &self,
        id: Uuid,
        claim: Option<(&IdempotencyClaim, Uuid)>,
        decide: F,
    ) -> Result<Changed<E>, StoreError>
    where
        F: FnOnce(&Ticket) -> Result<TicketChange, E>,
    {
        let now = Stamp::now();
        // `decide` runs once, so this transaction is not retried; on SQLite it runs on the single
        // writer, which holds the write lock, so it never meets a stale snapshot anyway.
        let outcome = self.store.within_deadline(async { on_backend!(once self.store, pool, Db => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some((claim, message)) = claim {
                tx = match tx.claim(claim, message, now).await? {
                    Claim::Won(tx) => tx,
                    Claim::Replayed(message) => return Ok(Changed::Replayed(message)),
                    Claim::KeyReused => return Ok(Changed::KeyReused),
                };
            }
            let sql = ticket_query::<Db>(&[" WHERE t.id = $1", Db::LOCK_TICKET]);
            let row: Option<TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Ok(Changed::NotFound);
            };
            let ticket = row.into_ticket()?;
            let change = match decide(&ticket) {
                Ok(change) => change,
                Err(refusal) => {
                    tx.rollback().await?;
                    return Ok(Changed::Refused(refusal));
                }
            };
            if change.events.is_empty() && change.message.is_none() && change.notes.is_empty() && change.mail.is_empty() && change.inbound.is_none() {
                tx.rollback().await?;
                return Ok(Changed::Unchanged);
            }
            let state = &change.state;
            sqlx::query(
                "UPDATE tickets SET subject = $2, status = $3, priority = $4, category_id = $5, assignee_id = $6, \
                 first_response_at = $7, resolved_at = $8, closed_at = $9, version = version + 1, updated_at = $10 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&state.subject)
            .bind(state.status.as_str())
            .bind(state.priority.rank())
            .bind(state.category_id)
            .bind(state.assignee_id)
            .bind(state.first_response_at)
            .bind(state.resolved_at)
            .bind(state.closed_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some(tags) = &state.tags {
                sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1").bind(id).execute(&mut *tx).await?;
                tx.insert_tags(id, tags.as_slice()).await?;
            }
            let mut events = change.events.clone();
            if let Some(record) = &change.message {
                tx.insert_message(id, record, now).await?;
                events.extend(message_events(id, record));
            }
            for note in &change.notes {
                tx.insert_message(id, note, now).await?;
                events.extend(message_events(id, note));
            }
            tx.append_events(&events, now).await?;
            if let Some(inbound) = &change.inbound {
                let message = change.message.as_ref().map(|record| record.message.id);
                tx.record_inbound(inbound, Some(id), message, now).await?;
            }
            tx.queue_mails(&change.mail, now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Changed::Applied { message_id: change.message.as_ref().map(|record| record.message.id), at: now })
        })}).await?;
        if matches!(outcome, Changed::Applied { .. }) {
            self.store.announce_change();
        }
        Ok(outcome)
    }
}

/// The events a new message brings: `message_created`, and `attachment_added` per file. Those
/// about an internal note are internal too.
pub(super) fn message_events(ticket_id: Uuid, record: &MessageRecord) -> Vec<NewEvent> {
    let message = &record.message;
    let event = |event| NewEvent {
        ticket_id,
        actor_id: Some(message.author_id),
        internal: message.internal,
        recipient_id: None,
        event,
    };
    let mut events = vec![event(Event::MessageCreated(MessageAdded {
        message_id: message.id,
    }))];
    for attachment in &record.attachments {
        events.push(event(Event::AttachmentAdded(AttachmentAdded {
            message_id: message.id,
            attachment_id: attachment.id,
            filename: attachment.filename.clone(),
        })));
    }
    events
}
