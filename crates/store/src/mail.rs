//! The mail taken in and sent out: the record of each mail imported (by mailbox and
//! `Message-ID`, so none is imported twice), the outbox the sync server sends from, and the
//! addresses never mailed again.
//!
//! Outbox rows and inbound records are written in the transaction of the ticket or message
//! they belong to (`NewTicket`, `TicketChange`, through `MailTx`): a mail is queued exactly
//! when its message is stored, and a mail is recorded as imported exactly when what it became
//! is.

use std::collections::HashMap;
use std::ops::DerefMut;

use growdesk_domain::Delivery;
use growdesk_domain::mail::{DeliveryStatus, MailKind};
use sqlx::{Encode, Executor, IntoArguments, QueryBuilder, Type};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::write_tx::WriteHandle;
use crate::{Stamp, Store, StoreError, on_backend};

/// A mail to queue in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboundMail {
    pub id: Uuid,
    /// The mailbox it goes out from (`None`: the sender picks the default one).
    pub mailbox_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    /// The message it carries (an agent's reply), if any.
    pub message_id: Option<Uuid>,
    pub kind: MailKind,
    /// Stored lower-cased, as every address GrowDesk keeps.
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// Its `Message-ID` header, `<uuid@domain>`.
    pub header_message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub reply_to: Option<String>,
    pub unsubscribe_url: Option<String>,
    /// Attachments (of the message) sent with it.
    pub attachment_ids: Vec<Uuid>,
}

/// A mail of the outbox and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMail {
    pub mail: NewOutboundMail,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Stamp,
    pub last_error: Option<String>,
    pub created_at: Stamp,
    pub sent_at: Option<Stamp>,
}

impl OutboundMail {
    /// The mail as staff see it on the ticket.
    pub fn delivery(&self) -> Delivery {
        Delivery {
            mail_id: self.mail.id,
            kind: self.mail.kind,
            recipient: self.mail.recipient.clone(),
            status: self.status,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: self.created_at.into(),
            sent_at: self.sent_at.map(Into::into),
        }
    }
}

/// What an imported mail was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundKind {
    /// A mail from a person: a new ticket or a message on one.
    Message,
    /// An automatic answer (out of office, an autoresponder), recorded and never answered.
    AutoReply,
    /// A delivery status notification about a mail we sent.
    Bounce,
    /// Taken in and dropped (from one of our own addresses, say), remembered so that it is
    /// not considered again.
    Ignored,
}

impl InboundKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::AutoReply => "auto_reply",
            Self::Bounce => "bounce",
            Self::Ignored => "ignored",
        }
    }

    /// The kind `as_str` stored, if it is one.
    pub fn from_stored(stored: &str) -> Option<Self> {
        [Self::Message, Self::AutoReply, Self::Bounce, Self::Ignored]
            .into_iter()
            .find(|kind| kind.as_str() == stored)
    }
}

/// A mail imported from a mailbox, recorded with what it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    pub mailbox_id: Uuid,
    /// Its `Message-ID` (without `<>`, as the parser gives it).
    pub message_id: String,
    pub kind: InboundKind,
}

/// `id` as our `Message-ID` headers are stored: within `<>`, whether or not it came with them.
fn bracketed(id: &str) -> String {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{bare}>")
}

/// Writing mail records inside a write transaction of either backend.
pub(crate) trait MailTx {
    /// Queues `mails`, due at once.
    async fn queue_mails(
        &mut self,
        mails: &[NewOutboundMail],
        now: Stamp,
    ) -> Result<(), sqlx::Error>;

    /// Records `record` as imported into `ticket` as `message`; a mail recorded before fails
    /// the transaction with a unique violation (`StoreError::Conflict`).
    async fn record_inbound(
        &mut self,
        record: &InboundRecord,
        ticket: Option<Uuid>,
        message: Option<Uuid>,
        now: Stamp,
    ) -> Result<(), sqlx::Error>;
}

impl<T, DB> MailTx for T
where
    T: WriteHandle<Database = DB> + DerefMut<Target = DB::Connection>,
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB> + Type<DB>,
    for<'q, 'a> &'a str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Stamp: Encode<'q, DB> + Type<DB>,
{
    async fn queue_mails(
        &mut self,
        mails: &[NewOutboundMail],
        now: Stamp,
    ) -> Result<(), sqlx::Error> {
        for mail in mails {
            let references = serde_json::to_string(&mail.references).map_err(unencodable)?;
            let attachments = serde_json::to_string(&mail.attachment_ids).map_err(unencodable)?;
            sqlx::query(
                "INSERT INTO outbound_mails (id, mailbox_id, ticket_id, message_id, kind, recipient, subject, \
                 text_body, html_body, header_message_id, in_reply_to, reference_ids, reply_to, unsubscribe_url, \
                 attachment_ids, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'queued', 0, $16, $16)",
            )
            .bind(mail.id)
            .bind(mail.mailbox_id)
            .bind(mail.ticket_id)
            .bind(mail.message_id)
            .bind(mail.kind.as_str())
            .bind(mail.recipient.trim().to_lowercase())
            .bind(mail.subject.as_str())
            .bind(mail.text_body.as_str())
            .bind(mail.html_body.clone())
            .bind(bracketed(&mail.header_message_id))
            .bind(mail.in_reply_to.clone())
            .bind(references)
            .bind(mail.reply_to.clone())
            .bind(mail.unsubscribe_url.clone())
            .bind(attachments)
            .bind(now)
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }

    async fn record_inbound(
        &mut self,
        record: &InboundRecord,
        ticket: Option<Uuid>,
        message: Option<Uuid>,
        now: Stamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO inbound_mails (mailbox_id, message_id, ticket_id, chat_message_id, kind, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.mailbox_id)
        .bind(record.message_id.as_str())
        .bind(ticket)
        .bind(message)
        .bind(record.kind.as_str())
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}

/// Why a list could not become the JSON its column holds.
fn unencodable(error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(error))
}

pub(crate) const OUTBOUND_COLUMNS: &str = "SELECT id, mailbox_id, ticket_id, message_id, kind, recipient, subject, text_body, \
     html_body, header_message_id, in_reply_to, reference_ids, reply_to, unsubscribe_url, attachment_ids, status, \
     attempts, next_attempt_at, last_error, created_at, sent_at FROM outbound_mails";

#[derive(sqlx::FromRow)]
pub(crate) struct OutboundRow {
    id: Uuid,
    mailbox_id: Option<Uuid>,
    ticket_id: Option<Uuid>,
    message_id: Option<Uuid>,
    kind: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: Option<String>,
    header_message_id: String,
    in_reply_to: Option<String>,
    reference_ids: String,
    reply_to: Option<String>,
    unsubscribe_url: Option<String>,
    attachment_ids: String,
    status: String,
    attempts: i32,
    next_attempt_at: Stamp,
    last_error: Option<String>,
    created_at: Stamp,
    sent_at: Option<Stamp>,
}

impl TryFrom<OutboundRow> for OutboundMail {
    type Error = StoreError;

    fn try_from(row: OutboundRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("mail {} has {what} {value:?}", row.id))
        };
        let kind: MailKind = row.kind.parse().map_err(|_| corrupt("kind", &row.kind))?;
        let status: DeliveryStatus = row
            .status
            .parse()
            .map_err(|_| corrupt("status", &row.status))?;
        let references: Vec<String> = serde_json::from_str(&row.reference_ids)
            .map_err(|_| corrupt("references", &row.reference_ids))?;
        let attachment_ids: Vec<Uuid> = serde_json::from_str(&row.attachment_ids)
            .map_err(|_| corrupt("attachments", &row.attachment_ids))?;
        Ok(Self {
            mail: NewOutboundMail {
                id: row.id,
                mailbox_id: row.mailbox_id,
                ticket_id: row.ticket_id,
                message_id: row.message_id,
                kind,
                recipient: row.recipient,
                subject: row.subject,
                text_body: row.text_body,
                html_body: row.html_body,
                header_message_id: row.header_message_id,
                in_reply_to: row.in_reply_to,
                references,
                reply_to: row.reply_to,
                unsubscribe_url: row.unsubscribe_url,
                attachment_ids,
            },
            status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
        })
    }
}

/// What staff see of a mail, without its bodies: the columns of `DeliveryRow`.
const DELIVERY_COLUMNS: &str = "SELECT id, message_id, kind, recipient, status, attempts, last_error, created_at, \
     sent_at FROM outbound_mails";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    message_id: Option<Uuid>,
    kind: String,
    recipient: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: Stamp,
    sent_at: Option<Stamp>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("mail {} has {what} {value:?}", self.id))
        };
        Ok(Delivery {
            mail_id: self.id,
            kind: self.kind.parse().map_err(|_| corrupt("kind", &self.kind))?,
            status: self
                .status
                .parse()
                .map_err(|_| corrupt("status", &self.status))?,
            recipient: self.recipient,
            attempts: self.attempts,
            last_error: self.last_error,
            created_at: self.created_at.into(),
            sent_at: self.sent_at.map(Into::into),
        })
    }
}

pub(crate) fn into_mails(rows: Vec<OutboundRow>) -> Result<Vec<OutboundMail>, StoreError> {
    rows.into_iter().map(OutboundMail::try_from).collect()
}

/// The mail taken in and sent out, and the addresses never mailed again.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    pub(crate) store: &'a Store,
}

impl Mail<'_> {
    /// Queues mails that belong to no ticket change (a password reset's link).
    ///
    /// # Errors
    /// `Conflict` for a `Message-ID` queued before; `MissingReference` for an unknown
    /// mailbox, ticket or message.
    pub async fn enqueue(&self, mails: Vec<NewOutboundMail>) -> Result<(), StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            tx.queue_mails(&mails, now).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// The queued mails due by `now`, longest waiting first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn due(&self, now: Stamp, limit: u32) -> Result<Vec<OutboundMail>, StoreError> {
        let sql = format!(
            "{OUTBOUND_COLUMNS} WHERE status = 'queued' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let rows: Vec<OutboundRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        into_mails(rows)
    }

    /// One mail of the outbox.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<OutboundMail>, StoreError> {
        let sql = format!("{OUTBOUND_COLUMNS} WHERE id = $1");
        let row: Option<OutboundRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(OutboundMail::try_from).transpose()
    }

    /// Records that queued mail `id` was accepted by the SMTP server at `at`; whether it was
    /// still queued.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_sent(&self, id: Uuid, at: Stamp) -> Result<bool, StoreError> {
        self.finish_attempt(id, "sent", None, at, Some(at)).await
    }

    /// Records a failed attempt at queued mail `id`, to be tried again at `next_attempt_at`;
    /// whether it was still queued.
    ///
    /// # Errors
    /// The database failed.
    pub async fn retry_later(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: Stamp,
    ) -> Result<bool, StoreError> {
        self.finish_attempt(id, "queued", Some(error), next_attempt_at, None)
            .await
    }

    /// Records that queued mail `id` failed for good (a permanent refusal, or too many
    /// attempts); whether it was still queued.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_failed(&self, id: Uuid, error: &str) -> Result<bool, StoreError> {
        let now = Stamp::now();
        self.finish_attempt(id, "failed", Some(error), now, None)
            .await
    }

    /// One attempt at a queued mail: only a queued mail moves, so two senders racing on one
    /// mail (a lease lost mid-send) record one outcome. A password reset's bodies are blanked
    /// once it is sent or given up: they carry the link, which is kept nowhere else but as its
    /// SHA-256.
    async fn finish_attempt(
        &self,
        id: Uuid,
        status: &str,
        error: Option<&str>,
        next_attempt_at: Stamp,
        sent_at: Option<Stamp>,
    ) -> Result<bool, StoreError> {
        let updated = on_backend!(write self.store, pool => sqlx::query(
                "UPDATE outbound_mails SET status = $2, attempts = attempts + 1, last_error = $3, \
                 next_attempt_at = $4, sent_at = $5, \
                 text_body = CASE WHEN kind = 'password_reset' AND $2 <> 'queued' THEN '' ELSE text_body END, \
                 html_body = CASE WHEN kind = 'password_reset' AND $2 <> 'queued' THEN NULL ELSE html_body END \
                 WHERE id = $1 AND status = 'queued'")
            .bind(id)
            .bind(status)
            .bind(error)
            .bind(next_attempt_at)
            .bind(sent_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated > 0)
    }

    /// Marks the sent mail whose `Message-ID` a bounce names as bounced, with the bounce's
    /// diagnostic; the mail, or `None` when no sent mail has that id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_bounced(
        &self,
        header_message_id: &str,
        error: &str,
    ) -> Result<Option<OutboundMail>, StoreError> {
        let sql = format!(
            "UPDATE outbound_mails SET status = 'bounced', last_error = $2 \
             WHERE header_message_id = $1 AND status IN ('sent', 'bounced') \
             RETURNING {}",
            OUTBOUND_COLUMNS
                .trim_start_matches("SELECT ")
                .trim_end_matches(" FROM outbound_mails")
        );
        let header = bracketed(header_message_id);
        let row: Option<OutboundRow> = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(header.as_str())
            .bind(error)
            .fetch_optional(pool)
            .await)?;
        row.map(OutboundMail::try_from).transpose()
    }

    /// The outbound mails with any of these `Message-ID`s (with or without `<>`).
    ///
    /// # Errors
    /// The database failed.
    pub async fn by_header_ids(&self, ids: &[String]) -> Result<Vec<OutboundMail>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let headers: Vec<String> = ids.iter().map(|id| bracketed(id)).collect();
        let rows: Vec<OutboundRow> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(OUTBOUND_COLUMNS);
            query.push(" WHERE header_message_id IN (");
            let mut list = query.separated(", ");
            for header in &headers {
                list.push_bind(header.as_str());
            }
            query.push(") ORDER BY created_at DESC, id DESC");
            query.build_query_as().fetch_all(pool).await
        })?;
        into_mails(rows)
    }

    /// The ticket of the latest of our sent mails named by these `Message-ID`s (a reply's
    /// `In-Reply-To` and `References`, with or without `<>`).
    ///
    /// # Errors
    /// The database failed.
    pub async fn ticket_by_header_ids(&self, ids: &[String]) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .by_header_ids(ids)
            .await?
            .into_iter()
            .find_map(|mail| mail.mail.ticket_id))
    }

    /// The ticket a mail we imported became, by any of these `Message-ID`s (with or without
    /// `<>`): a customer's follow-up to their own mail threads by it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn ticket_by_received_ids(&self, ids: &[String]) -> Result<Option<Uuid>, StoreError> {
        if ids.is_empty() {
            return Ok(None);
        }
        let bare: Vec<String> = ids
            .iter()
            .map(|id| bracketed(id).trim_matches(['<', '>']).to_owned())
            .collect();
        Ok(on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(
                "SELECT ticket_id FROM inbound_mails WHERE ticket_id IS NOT NULL AND message_id IN (",
            );
            let mut list = query.separated(", ");
            for id in &bare {
                list.push_bind(id.as_str());
            }
            query.push(") ORDER BY received_at DESC LIMIT 1");
            query.build_query_scalar().fetch_optional(pool).await
        })?)
    }

    /// The `Message-ID`s (without `<>`) of the last `limit` mails imported into a ticket as
    /// messages, oldest first: a reply names the last in `In-Reply-To` and them in `References`,
    /// which holds only so many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn latest_received_ids(
        &self,
        ticket_id: Uuid,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT message_id FROM inbound_mails WHERE ticket_id = $1 AND kind = 'message' \
                 ORDER BY received_at DESC, message_id DESC LIMIT $2")
            .bind(ticket_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        ids.reverse();
        Ok(ids)
    }

    /// How many mails of `kind` were queued for `recipient` (compared lower-cased, as the
    /// outbox stores recipients) since `since`: the cap on acknowledgements.
    ///
    /// # Errors
    /// The database failed.
    pub async fn sent_recently(
        &self,
        recipient: &str,
        kind: MailKind,
        since: Stamp,
    ) -> Result<i64, StoreError> {
        Ok(on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbound_mails WHERE recipient = $1 AND kind = $2 AND created_at >= $3")
            .bind(recipient.trim().to_lowercase())
            .bind(kind.as_str())
            .bind(since)
            .fetch_one(pool)
            .await)?)
    }

    /// Whether mail `message_id` of `mailbox_id` was imported before.
    ///
    /// # Errors
    /// The database failed.
    pub async fn inbound_seen(
        &self,
        mailbox_id: Uuid,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<i32> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT 1 FROM inbound_mails WHERE mailbox_id = $1 AND message_id = $2")
            .bind(mailbox_id)
            .bind(message_id)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Records a mail imported without a ticket change (an auto-reply to no ticket, a mail
    /// dropped): whether it was new (`false`: recorded before).
    ///
    /// # Errors
    /// `MissingReference` for an unknown mailbox or ticket.
    pub async fn record_inbound(
        &self,
        record: &InboundRecord,
        ticket_id: Option<Uuid>,
    ) -> Result<bool, StoreError> {
        let now = Stamp::now();
        let inserted = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO inbound_mails (mailbox_id, message_id, ticket_id, chat_message_id, kind, received_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT (mailbox_id, message_id) DO NOTHING")
            .bind(record.mailbox_id)
            .bind(record.message_id.as_str())
            .bind(ticket_id)
            .bind(record.kind.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(inserted > 0)
    }

    /// The latest mail each of these messages caused, in one query.
    ///
    /// # Errors
    /// The database failed.
    pub async fn deliveries(
        &self,
        message_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Delivery>, StoreError> {
        if message_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<DeliveryRow> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(DELIVERY_COLUMNS);
            query.push(" WHERE message_id IN (");
            let mut list = query.separated(", ");
            for id in message_ids {
                list.push_bind(*id);
            }
            query.push(") ORDER BY created_at, id");
            query.build_query_as().fetch_all(pool).await
        })?;
        let mut latest = HashMap::new();
        for row in rows {
            if let Some(message) = row.message_id {
                latest.insert(message, row.into_delivery()?);
            }
        }
        Ok(latest)
    }

    /// Every mail of a ticket (replies, acknowledgements, notices), newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn of_ticket(&self, ticket_id: Uuid) -> Result<Vec<Delivery>, StoreError> {
        self.page_of_ticket(ticket_id, None, u32::MAX).await
    }

    /// Up to `limit` mails of a ticket, newest first (by when they were queued, then id),
    /// after the mail queued at `after` with that id: a page of [`of_ticket`](Self::of_ticket).
    ///
    /// # Errors
    /// The database failed.
    pub async fn page_of_ticket(
        &self,
        ticket_id: Uuid,
        after: Option<(Stamp, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new(DELIVERY_COLUMNS);
            query.push(" WHERE ticket_id = ").push_bind(ticket_id);
            if let Some((at, id)) = after {
                query
                    .push(" AND (created_at < ")
                    .push_bind(at)
                    .push(" OR (created_at = ")
                    .push_bind(at)
                    .push(" AND id < ")
                    .push_bind(id)
                    .push("))");
            }
            query
                .push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(i64::from(limit));
            query.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// Whether `email` is never to be mailed again.
    ///
    /// # Errors
    /// The database failed.
    pub async fn suppressed(&self, email: &str) -> Result<bool, StoreError> {
        let found: Option<i32> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT 1 FROM email_suppressions WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Which of `emails` are never to be mailed again, with why (lower-cased email → reason),
    /// in one query.
    ///
    /// # Errors
    /// The database failed.
    pub async fn suppressions(
        &self,
        emails: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let lowered: Vec<String> = emails
            .iter()
            .map(|email| email.trim().to_lowercase())
            .collect();
        let rows: Vec<(String, String)> = on_backend!(self.store, pool => {
            let mut query = QueryBuilder::new("SELECT email, reason FROM email_suppressions WHERE email IN (");
            let mut list = query.separated(", ");
            for email in &lowered {
                list.push_bind(email.as_str());
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// Never mails `email` again (unsubscribed, or a permanent bounce); the first reason
    /// given is kept.
    ///
    /// # Errors
    /// The database failed.
    pub async fn suppress(&self, email: &str, reason: &str) -> Result<(), StoreError> {
        let now = Stamp::now();
        on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (email) DO NOTHING")
            .bind(email.trim().to_lowercase())
            .bind(reason)
            .bind(now)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Never mails `email` again, for `reason` whatever the reason was before (a hard bounce
    /// of an address that had unsubscribed: it is dead now, not just unwilling).
    ///
    /// # Errors
    /// The database failed.
    pub async fn replace_suppression(&self, email: &str, reason: &str) -> Result<(), StoreError> {
        let now = Stamp::now();
        on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (email) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at")
            .bind(email.trim().to_lowercase())
            .bind(reason)
            .bind(now)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Mails `email` again if it was suppressed for `reason` (a bounced address that writes
    /// in again works); whether it was.
    ///
    /// # Errors
    /// The database failed.
    pub async fn lift_suppression(&self, email: &str, reason: &str) -> Result<bool, StoreError> {
        let lifted = on_backend!(write self.store, pool => sqlx::query(
                "DELETE FROM email_suppressions WHERE email = $1 AND reason = $2")
            .bind(email.trim().to_lowercase())
            .bind(reason)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(lifted > 0)
    }
}
