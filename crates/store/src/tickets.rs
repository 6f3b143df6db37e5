//! Tickets: create, read, list with filters and keyset pagination, change, delete, and the
//! counts of the dashboard.

mod changes;
mod page;
mod reads;
mod stats;

use growdesk_domain::event::{self, Deleted, Opened, WidgetContext};
use growdesk_domain::{
    Assignee, Event, MessageBody, MessageChannel, Priority, Requester, Subject, Tags, Ticket,
    TicketSource, TicketStatus,
};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::events::NewEvent;
use crate::idempotency::{Created, IdempotencyClaim};
use crate::mail::{InboundRecord, MailTx as _, NewOutboundMail};
use crate::messages::{NewAttachment, NewMessage};
use crate::widgets::Visitor;
use crate::write_tx::{Claim, WriteTx as _};
use crate::{Stamp, Store, StoreError, on_backend};

use changes::message_events;
pub use changes::{Changed, MessageRecord, TicketChange};
pub use page::{AssigneeFilter, SortKey, TicketCursor, TicketFilter, TicketSort, VisitorScope};
pub use reads::ReadMark;
pub use stats::{SlaCounts, TicketStats};

/// The ticket query's columns up to its tags: a ticket `t` with its requester's and assignee's
/// names, which must then be joined by `TICKET_NAMES`.
pub(crate) const TICKET_COLUMNS: &str = "SELECT t.id, t.number, t.subject, t.status, t.priority, t.category_id, \
     t.requester_id, r.name AS requester_name, r.email AS requester_email, \
     t.assignee_id, a.name AS assignee_name, t.source, t.version, t.created_at, t.updated_at, \
     t.first_response_at, t.resolved_at, t.closed_at, t.visitor_id, t.mailbox_id, ";

/// Joins the tickets `t` to their requester's and assignee's names. Left joins keep the
/// tickets the outer loop: with inner joins SQLite 3.51 chose to scan users and sort.
pub(crate) const TICKET_NAMES: &str =
    " t LEFT JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id";

/// The ticket query (each ticket with its names and tags, as `TicketRow` reads it), for the
/// tickets chosen by `rest` (a `WHERE` and what follows), in one allocation.
pub(crate) fn ticket_query<DB: Dialect>(rest: &[&str]) -> String {
    let head = [
        TICKET_COLUMNS,
        DB::TICKET_TAGS,
        " AS tags FROM tickets",
        TICKET_NAMES,
    ];
    let mut sql = String::with_capacity(head.iter().chain(rest).map(|part| part.len()).sum());
    for part in head.iter().chain(rest) {
        sql.push_str(part);
    }
    sql
}

#[derive(sqlx::FromRow)]
pub(crate) struct TicketRow {
    id: Uuid,
    number: i64,
    subject: String,
    status: String,
    priority: i16,
    category_id: Option<Uuid>,
    requester_id: Uuid,
    requester_name: String,
    requester_email: String,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    source: String,
    version: i64,
    created_at: Stamp,
    updated_at: Stamp,
    first_response_at: Option<Stamp>,
    resolved_at: Option<Stamp>,
    closed_at: Option<Stamp>,
    visitor_id: Option<Uuid>,
    mailbox_id: Option<Uuid>,
    /// A JSON array of tag names, sorted.
    tags: String,
    /// Only queries for a reader select it (`reads::UNREAD`).
    #[sqlx(default)]
    unread: Option<bool>,
}

impl TicketRow {
    pub(crate) fn into_ticket(self) -> Result<Ticket, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("ticket {} has {what} {value:?}", self.id))
        };
        let tags: Vec<String> =
            serde_json::from_str(&self.tags).map_err(|_| corrupt("tags", &self.tags))?;
        let status: TicketStatus = self
            .status
            .parse()
            .map_err(|_| corrupt("status", &self.status))?;
        let source: TicketSource = self
            .source
            .parse()
            .map_err(|_| corrupt("source", &self.source))?;
        let priority = Priority::from_rank(self.priority)
            .ok_or_else(|| corrupt("priority", &self.priority.to_string()))?;
        let assignee = match (self.assignee_id, self.assignee_name) {
            (Some(id), Some(name)) => Some(Assignee { id, name }),
            _ => None,
        };
        Ok(Ticket {
            id: self.id,
            number: self.number,
            subject: self.subject,
            status,
            priority,
            category_id: self.category_id,
            requester: Requester {
                id: self.requester_id,
                name: self.requester_name,
                email: self.requester_email,
            },
            assignee_id: self.assignee_id,
            assignee,
            tags,
            source,
            version: self.version,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            first_response_at: self.first_response_at.map(Into::into),
            resolved_at: self.resolved_at.map(Into::into),
            closed_at: self.closed_at.map(Into::into),
            visitor_id: self.visitor_id,
            mailbox_id: self.mailbox_id,
            unread: self.unread,
        })
    }
}

/// A ticket to open, with its first message (the description).
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// A fresh UUIDv7, chosen by the caller so notifications can name the ticket.
    pub id: Uuid,
    pub subject: Subject,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub source: TicketSource,
    pub tags: Tags,
    /// Who opened it (the requester, or staff on their behalf).
    pub actor_id: Uuid,
    /// The description, authored by the requester.
    pub description: MessageBody,
    /// Written with the ticket's own events (notifications about it).
    pub extra_events: Vec<NewEvent>,
    /// The widget visitor who opened it, if it came through the widget.
    pub visitor_id: Option<Uuid>,
    /// Where a widget conversation came from (page URL, browser), kept in the `created` event.
    pub context: Option<WidgetContext>,
    /// How the description reached us.
    pub channel: MessageChannel,
    /// The mailbox the ticket's mail goes out from (a ticket opened by email).
    pub mailbox_id: Option<Uuid>,
    /// The description's files.
    pub attachments: Vec<NewAttachment>,
    /// Internal notes written after the description, in the same transaction (about the
    /// mail the ticket came from, say). Their ids are drawn by the store after the
    /// description's, so that they follow it; the ids given are not kept.
    pub notes: Vec<MessageRecord>,
    /// Mail queued with the ticket, in its transaction.
    pub mail: Vec<NewOutboundMail>,
    /// The mail the ticket was opened from, recorded in its transaction: a mail imported
    /// before makes the whole creation fail with `Conflict`.
    pub inbound: Option<InboundRecord>,
}

/// The changeable state of a ticket, complete: the service reads a ticket, applies the rules,
/// and writes the result back with the version it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    /// `Some` replaces the tag set.
    pub tags: Option<Tags>,
    pub first_response_at: Option<Stamp>,
    pub resolved_at: Option<Stamp>,
    pub closed_at: Option<Stamp>,
}

impl TicketState {
    /// The state of `ticket` as it is, tags unchanged.
    pub fn of(ticket: &Ticket) -> Self {
        Self {
            subject: ticket.subject.clone(),
            status: ticket.status,
            priority: ticket.priority,
            category_id: ticket.category_id,
            assignee_id: ticket.assignee_id,
            tags: None,
            first_response_at: ticket.first_response_at.map(Stamp::from),
            resolved_at: ticket.resolved_at.map(Stamp::from),
            closed_at: ticket.closed_at.map(Stamp::from),
        }
    }
}

/// Tickets: open, read, list, change, delete, and the dashboard's counts.
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'a> {
    pub(crate) store: &'a Store,
}

impl Tickets<'_> {
    /// Opens a ticket with its description as the first message, its tags, and `created` and
    /// `message_created` events, in one transaction.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category, requester or mailbox; `Conflict` when
    /// `new.inbound` was imported before (nothing is written).
    pub async fn create(
        &self,
        new: NewTicket,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        self.create_with_visitor(new, None, claim).await
    }

    /// As `create`, recording `new_visitor` (whose id `new.visitor_id` names) in the same
    /// transaction after the claim, so that a retried first widget message finds the first
    /// ticket and leaves no second visitor.
    ///
    /// # Errors
    /// As `create`.
    pub async fn create_with_visitor(
        &self,
        new: NewTicket,
        new_visitor: Option<&Visitor>,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        let id = new.id;
        let message = NewMessage {
            id: Uuid::now_v7(),
            ticket_id: id,
            author_id: new.requester_id,
            body: new.description.as_str().to_owned(),
            internal: false,
            channel: new.channel,
        };
        let now = Stamp::now();
        on_backend!(self.store, pool, Db => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(claim) = claim {
                tx = match tx.claim(claim, id, now).await? {
                    Claim::Won(tx) => tx,
                    Claim::Replayed(ticket) => return Ok(Created::Replayed(ticket)),
                    Claim::KeyReused => return Ok(Created::KeyReused),
                };
            }
            if let Some(visitor) = new_visitor {
                sqlx::query("INSERT INTO visitors (id, widget_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(visitor.id)
                    .bind(visitor.widget_id)
                    .bind(visitor.user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let sql = format!(
                "INSERT INTO tickets (id, number, subject, status, priority, category_id, requester_id, source, \
                 created_at, updated_at, visitor_id, mailbox_id) VALUES ($1, {}, $2, 'open', $3, $4, $5, $6, $7, $7, $8, $9) RETURNING number",
                Db::NEXT_TICKET_NUMBER
            );
            let number: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(new.subject.as_str())
                .bind(new.priority.rank())
                .bind(new.category_id)
                .bind(new.requester_id)
                .bind(new.source.as_str())
                .bind(now)
                .bind(new.visitor_id)
                .bind(new.mailbox_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.insert_tags(id, new.tags.as_slice()).await?;
            let description = MessageRecord { message: message.clone(), attachments: new.attachments.clone() };
            tx.insert_message(id, &description, now).await?;
            if let Some(inbound) = &new.inbound {
                tx.record_inbound(inbound, Some(id), Some(description.message.id), now).await?;
            }
            let opened = Opened {
                number,
                subject: new.subject.as_str().to_owned(),
                priority: new.priority,
                category_id: new.category_id,
                requester_id: new.requester_id,
                source: new.source,
                tags: new.tags.as_slice().to_vec(),
                context: new.context.clone(),
            };
            let mut events = vec![NewEvent::public(id, Some(new.actor_id), Event::Created(event::Created::Opened(opened)))];
            events.extend(message_events(id, &description));
            for note in &new.notes {
                let mut note = note.clone();
                note.message.id = Uuid::now_v7();
                tx.insert_message(id, &note, now).await?;
                events.extend(message_events(id, &note));
            }
            events.extend(new.extra_events.iter().cloned());
            tx.append_events(&events, now).await?;
            tx.queue_mails(&new.mail, now).await?;
            tx.commit().await?;
            self.store.announce_change();
            Ok(Created::New(id))
        })
    }

    /// One ticket with its names and tags.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        let row: Option<TicketRow> = on_backend!(self.store, pool, Db => {
            let sql = ticket_query::<Db>(&[" WHERE t.id = $1"]);
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await
        })?;
        row.map(TicketRow::into_ticket).transpose()
    }

    /// The ticket of a number (`[#123]` in a mail's subject).
    ///
    /// # Errors
    /// The database failed.
    pub async fn by_number(&self, number: i64) -> Result<Option<Ticket>, StoreError> {
        let row: Option<TicketRow> = on_backend!(self.store, pool, Db => {
            let sql = ticket_query::<Db>(&[" WHERE t.number = $1"]);
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(number).fetch_optional(pool).await
        })?;
        row.map(TicketRow::into_ticket).transpose()
    }

    /// Deletes a ticket with its messages, attachments and tags, leaving a `deleted` event.
    /// Whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid, actor: Uuid) -> Result<bool, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let deleted = sqlx::query("DELETE FROM tickets WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            if deleted == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            let events = [NewEvent::public(id, Some(actor), Event::Deleted(Deleted {}))];
            tx.append_events(&events, now).await?;
            tx.commit().await?;
            self.store.announce_change();
            Ok(true)
        })
    }
}
