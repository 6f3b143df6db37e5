//! The email channel's records in a backup: the record of each mail taken in (so a mail
//! fetched again after a restore is still recognised), the outbox with where each mail stands,
//! the admins' templates and the addresses never mailed again, each restored once under its
//! own key. Mailboxes themselves are restored by `Mailboxes::import`.

use uuid::Uuid;

use crate::email_templates::StoredTemplate;
use crate::import_preview::{ImportPreview, Previews, Referenced};
use crate::imports::Imported;
use crate::mail::{InboundKind, OUTBOUND_COLUMNS, OutboundMail, OutboundRow, into_mails};
use crate::{Stamp, StoreError, on_backend};

use super::Backup;

/// A mail taken in, with what it became (references are local ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMailRecord {
    pub mailbox_id: Uuid,
    pub message_id: String,
    pub ticket_id: Option<Uuid>,
    pub chat_message_id: Option<Uuid>,
    pub kind: InboundKind,
    pub received_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct InboundRow {
    mailbox_id: Uuid,
    message_id: String,
    ticket_id: Option<Uuid>,
    chat_message_id: Option<Uuid>,
    kind: String,
    received_at: Stamp,
}

impl TryFrom<InboundRow> for InboundMailRecord {
    type Error = StoreError;

    fn try_from(row: InboundRow) -> Result<Self, Self::Error> {
        let kind = InboundKind::from_stored(&row.kind).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "inbound mail {:?} has kind {:?}",
                row.message_id, row.kind
            ))
        })?;
        Ok(Self {
            mailbox_id: row.mailbox_id,
            message_id: row.message_id,
            ticket_id: row.ticket_id,
            chat_message_id: row.chat_message_id,
            kind,
            received_at: row.received_at,
        })
    }
}

/// An address never mailed again, and why.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuppressionRecord {
    pub email: String,
    pub reason: String,
    pub created_at: Stamp,
}

/// One record of the email channel from a backup (references are local ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailRecord {
    Inbound(InboundMailRecord),
    /// Restored with its status: a mail queued at the backup stays queued, so the restored
    /// desk sends it, once.
    Outbound(Box<OutboundMail>),
    Template(StoredTemplate),
    Suppression(SuppressionRecord),
}

impl MailRecord {
    /// What identifies it in its table, for a dry run's memory of what it would have written.
    fn key(&self) -> (&'static str, String) {
        match self {
            Self::Inbound(mail) => (
                "inbound",
                format!("{} {}", mail.mailbox_id, mail.message_id),
            ),
            Self::Outbound(mail) => ("outbound", mail.mail.id.to_string()),
            Self::Template(template) => (
                "template",
                format!("{} {}", template.kind.as_str(), template.locale),
            ),
            Self::Suppression(suppression) => ("suppression", suppression.email.clone()),
        }
    }

    /// The id an outcome reports: the mail's, the inbound mail's ticket (else its mailbox);
    /// templates and suppressions have none (nil).
    fn id(&self) -> Uuid {
        match self {
            Self::Inbound(mail) => mail.ticket_id.unwrap_or(mail.mailbox_id),
            Self::Outbound(mail) => mail.mail.id,
            Self::Template(_) | Self::Suppression(_) => Uuid::nil(),
        }
    }

    /// The rows it refers to, which must exist for it to be written.
    fn references(&self) -> Vec<(Referenced, Uuid)> {
        let (mailbox, ticket, message) = match self {
            Self::Inbound(mail) => (Some(mail.mailbox_id), mail.ticket_id, mail.chat_message_id),
            Self::Outbound(mail) => (
                mail.mail.mailbox_id,
                mail.mail.ticket_id,
                mail.mail.message_id,
            ),
            Self::Template(_) | Self::Suppression(_) => (None, None, None),
        };
        [
            (Referenced::Mailbox, mailbox),
            (Referenced::Ticket, ticket),
            (Referenced::Message, message),
        ]
        .into_iter()
        .filter_map(|(table, id)| id.map(|id| (table, id)))
        .collect()
    }
}

impl Backup<'_> {
    /// A page of the record of mail taken in, by mailbox and `Message-ID`, after `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_inbound_mails(
        &self,
        after: Option<(Uuid, String)>,
        limit: u32,
    ) -> Result<Vec<InboundMailRecord>, StoreError> {
        let (after_mailbox, after_message) = after.unzip();
        let rows: Vec<InboundRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT mailbox_id, message_id, ticket_id, chat_message_id, kind, received_at FROM inbound_mails \
                 WHERE ($1 IS NULL OR mailbox_id > $1 OR (mailbox_id = $1 AND message_id > $2)) \
                 ORDER BY mailbox_id, message_id LIMIT $3")
            .bind(after_mailbox)
            .bind(after_message.as_deref())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(InboundMailRecord::try_from).collect()
    }

    /// A page of the outbox in id order, after mail `after`, without password resets: their
    /// link's token is not carried (a short-lived secret), so the mail would lead nowhere.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_outbound_mails(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<OutboundMail>, StoreError> {
        let sql = format!(
            "{OUTBOUND_COLUMNS} WHERE kind <> 'password_reset' AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<OutboundRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        into_mails(rows)
    }

    /// A page of the suppressed addresses in order, after `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_suppressions(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<SuppressionRecord>, StoreError> {
        let rows: Vec<SuppressionRecord> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT email, reason, created_at FROM email_suppressions WHERE ($1 IS NULL OR email > $1) \
                 ORDER BY email LIMIT $2")
            .bind(after.as_deref())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Restores a record of the email channel as it was; one already there (the same mail, the
    /// same template's kind and locale, the same address) is left as it is.
    ///
    /// # Errors
    /// `MissingReference` for an unknown mailbox, ticket or message; `Conflict` for an
    /// outbound mail whose `Message-ID` another mail has.
    pub async fn restore_mail(&self, record: &MailRecord) -> Result<Imported, StoreError> {
        let written = match record {
            MailRecord::Inbound(mail) => on_backend!(write self.store, pool => sqlx::query(
                    "INSERT INTO inbound_mails (mailbox_id, message_id, ticket_id, chat_message_id, kind, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mailbox_id, message_id) DO NOTHING")
                .bind(mail.mailbox_id)
                .bind(mail.message_id.as_str())
                .bind(mail.ticket_id)
                .bind(mail.chat_message_id)
                .bind(mail.kind.as_str())
                .bind(mail.received_at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?,
            MailRecord::Outbound(outbound) => {
                let mail = &outbound.mail;
                let references = serde_json::to_string(&mail.references)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                let attachments = serde_json::to_string(&mail.attachment_ids)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                on_backend!(write self.store, pool => sqlx::query(
                        "INSERT INTO outbound_mails (id, mailbox_id, ticket_id, message_id, kind, recipient, subject, \
                         text_body, html_body, header_message_id, in_reply_to, reference_ids, reply_to, unsubscribe_url, \
                         attachment_ids, status, attempts, next_attempt_at, last_error, created_at, sent_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
                         ON CONFLICT (id) DO NOTHING")
                    .bind(mail.id)
                    .bind(mail.mailbox_id)
                    .bind(mail.ticket_id)
                    .bind(mail.message_id)
                    .bind(mail.kind.as_str())
                    .bind(mail.recipient.as_str())
                    .bind(mail.subject.as_str())
                    .bind(mail.text_body.as_str())
                    .bind(mail.html_body.as_deref())
                    .bind(mail.header_message_id.as_str())
                    .bind(mail.in_reply_to.as_deref())
                    .bind(references.as_str())
                    .bind(mail.reply_to.as_deref())
                    .bind(mail.unsubscribe_url.as_deref())
                    .bind(attachments.as_str())
                    .bind(outbound.status.as_str())
                    .bind(outbound.attempts)
                    .bind(outbound.next_attempt_at)
                    .bind(outbound.last_error.as_deref())
                    .bind(outbound.created_at)
                    .bind(outbound.sent_at)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?
            }
            MailRecord::Template(template) => on_backend!(write self.store, pool => sqlx::query(
                    "INSERT INTO email_templates (kind, locale, subject, text_body, html_body, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, locale) DO NOTHING")
                .bind(template.kind.as_str())
                .bind(template.locale.as_str())
                .bind(template.subject.as_str())
                .bind(template.text_body.as_str())
                .bind(template.html_body.as_str())
                .bind(template.updated_at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?,
            MailRecord::Suppression(suppression) => {
                on_backend!(write self.store, pool => sqlx::query(
                    "INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (email) DO NOTHING")
                .bind(suppression.email.as_str())
                .bind(suppression.reason.as_str())
                .bind(suppression.created_at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?
            }
        };
        Ok(Imported::restored(written, record.id()))
    }
}

impl Previews<'_> {
    /// What `Backup::restore_mail` would answer.
    ///
    /// # Errors
    /// `MissingReference` for an unknown mailbox, ticket or message.
    pub async fn mail(
        &self,
        preview: &mut ImportPreview,
        record: &MailRecord,
    ) -> Result<Imported, StoreError> {
        let key = record.key();
        let stored = preview.mail_keys.contains(&key) || self.mail_stored(record).await?;
        if stored {
            return Ok(Imported::Unchanged(record.id()));
        }
        // A new mail whose `Message-ID` another mail has breaks that column's uniqueness.
        let header = match record {
            MailRecord::Outbound(mail) => {
                Some(("outbound header", mail.mail.header_message_id.clone()))
            }
            _ => None,
        };
        if let Some(header) = &header {
            let taken = preview.mail_keys.contains(header)
                || on_backend!(self.store, pool => sqlx::query_scalar::<_, i32>(
                        "SELECT 1 FROM outbound_mails WHERE header_message_id = $1")
                    .bind(header.1.as_str())
                    .fetch_optional(pool)
                    .await)?
                .is_some();
            if taken {
                return Err(StoreError::Conflict);
            }
        }
        for (table, id) in record.references() {
            if !self.preview_exists(preview, table, id).await? {
                return Err(StoreError::MissingReference);
            }
        }
        preview.mail_keys.insert(key);
        preview.mail_keys.extend(header);
        Ok(Imported::Created(record.id()))
    }

    /// Whether the database holds `record`'s key already.
    async fn mail_stored(&self, record: &MailRecord) -> Result<bool, StoreError> {
        let found: Option<i32> = match record {
            MailRecord::Inbound(mail) => on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT 1 FROM inbound_mails WHERE mailbox_id = $1 AND message_id = $2")
                .bind(mail.mailbox_id)
                .bind(mail.message_id.as_str())
                .fetch_optional(pool)
                .await)?,
            MailRecord::Outbound(mail) => on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT 1 FROM outbound_mails WHERE id = $1")
                .bind(mail.mail.id)
                .fetch_optional(pool)
                .await)?,
            MailRecord::Template(template) => on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT 1 FROM email_templates WHERE kind = $1 AND locale = $2")
                .bind(template.kind.as_str())
                .bind(template.locale.as_str())
                .fetch_optional(pool)
                .await)?,
            MailRecord::Suppression(suppression) => {
                on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT 1 FROM email_suppressions WHERE email = $1")
                .bind(suppression.email.as_str())
                .fetch_optional(pool)
                .await)?
            }
        };
        Ok(found.is_some())
    }
}
