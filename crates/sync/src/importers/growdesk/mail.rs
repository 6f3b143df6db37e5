//! Restoring an export's email channel: mailboxes with their passwords and cursors, the record
//! of mail taken in, the outbox as it stood, the admins' templates and the suppressed
//! addresses.

use growdesk_domain::Email;
use growdesk_domain::mail::MailKind;
use growdesk_service::imports::Import;
use growdesk_store::{
    Stamp,
    backup::{InboundMailRecord, MailRecord, SuppressionRecord},
    email_templates::StoredTemplate,
    imports::{Imported, RecordKind},
    mail::{InboundKind, NewOutboundMail, OutboundMail},
    mailboxes::{MailboxBackup, MailboxCursor, MailboxFields, MailboxSecrets},
};

use super::{Refusal, SOURCE, local, local_opt};
use crate::format::{
    ExportedEmailSuppression, ExportedEmailTemplate, ExportedInboundMail, ExportedMailbox,
    ExportedOutboundMail,
};

/// `value` unless blank.
fn filled<'a>(name: &str, value: &'a str) -> Result<&'a str, String> {
    if value.trim().is_empty() {
        Err(format!("{name} must not be empty"))
    } else {
        Ok(value)
    }
}

fn address(name: &str, value: &str) -> Result<Email, String> {
    Email::parse(value).map_err(|error| format!("{name} {error}"))
}

/// The checks the database's constraints would otherwise make fail the whole restore.
pub(super) fn check_mailbox(mailbox: &ExportedMailbox) -> Result<(), String> {
    address("address", &mailbox.address)?;
    filled("display_name", &mailbox.display_name)?;
    if let Some(imap) = &mailbox.imap {
        filled("imap.host", &imap.host)?;
        filled("imap.username", &imap.username)?;
        filled("imap.folder", &imap.folder)?;
    }
    if let Some(smtp) = &mailbox.smtp {
        filled("smtp.host", &smtp.host)?;
        filled("smtp.username", &smtp.username)?;
    }
    let ports = [
        mailbox.imap.as_ref().map(|imap| imap.port),
        mailbox.smtp.as_ref().map(|smtp| smtp.port),
    ];
    if ports.contains(&Some(0)) {
        return Err("a port must be between 1 and 65535".to_owned());
    }
    Ok(())
}

/// Restores a mailbox with its passwords and cursor; its default category must have come
/// with the export.
pub(super) async fn restore_mailbox(
    target: &mut Import,
    mailbox: ExportedMailbox,
) -> Result<Imported, Refusal> {
    let restored = MailboxBackup {
        id: mailbox.id,
        fields: MailboxFields {
            address: address("address", &mailbox.address).map_err(Refusal::Record)?,
            display_name: mailbox.display_name,
            imap: mailbox.imap,
            smtp: mailbox.smtp,
            default_category_id: local_opt(
                target,
                RecordKind::Category,
                mailbox.default_category_id,
            )
            .await?,
            default_priority: mailbox.default_priority,
            acknowledge: mailbox.acknowledge,
            active: mailbox.active,
        },
        secrets: MailboxSecrets {
            imap_password: mailbox.imap_password,
            smtp_password: mailbox.smtp_password,
        },
        cursor: mailbox.cursor.map(|cursor| MailboxCursor {
            uid_validity: cursor.uid_validity,
            last_uid: cursor.last_uid,
        }),
        created_at: Stamp::from(mailbox.created_at),
        updated_at: Stamp::from(mailbox.updated_at),
    };
    Ok(target
        .mailbox(SOURCE, &mailbox.id.to_string(), &restored)
        .await?)
}

/// Restores the record of a mail taken in; its mailbox, and the ticket and message it became,
/// must have come with the export.
pub(super) async fn restore_inbound(
    target: &mut Import,
    mail: ExportedInboundMail,
) -> Result<Imported, Refusal> {
    let kind = InboundKind::from_stored(&mail.mail_kind).ok_or_else(|| {
        Refusal::Record(format!("unknown inbound mail kind {:?}", mail.mail_kind))
    })?;
    let record = InboundMailRecord {
        mailbox_id: local(target, RecordKind::Mailbox, mail.mailbox_id).await?,
        message_id: filled("message_id", &mail.message_id)
            .map_err(Refusal::Record)?
            .to_owned(),
        ticket_id: local_opt(target, RecordKind::Ticket, mail.ticket_id).await?,
        chat_message_id: local_opt(target, RecordKind::Message, mail.chat_message_id).await?,
        kind,
        received_at: Stamp::from(mail.received_at),
    };
    Ok(target.mail(&MailRecord::Inbound(record)).await?)
}

/// Restores a mail of the outbox with its status: a sent one stays sent, a queued one is sent
/// by the restored desk. A password reset is refused: its link's token is not carried.
pub(super) async fn restore_outbound(
    target: &mut Import,
    mail: ExportedOutboundMail,
) -> Result<Imported, Refusal> {
    if mail.mail_kind == MailKind::PasswordReset {
        return Err(Refusal::Record(
            "password reset mails are not restored: their links' tokens are not carried".to_owned(),
        ));
    }
    let recipient = address("recipient", &mail.recipient).map_err(Refusal::Record)?;
    filled("header_message_id", &mail.header_message_id).map_err(Refusal::Record)?;
    let record = OutboundMail {
        mail: NewOutboundMail {
            id: mail.id,
            mailbox_id: local_opt(target, RecordKind::Mailbox, mail.mailbox_id).await?,
            ticket_id: local_opt(target, RecordKind::Ticket, mail.ticket_id).await?,
            message_id: local_opt(target, RecordKind::Message, mail.message_id).await?,
            kind: mail.mail_kind,
            recipient: recipient.into_inner(),
            subject: mail.subject,
            text_body: mail.text_body,
            html_body: mail.html_body,
            header_message_id: mail.header_message_id,
            in_reply_to: mail.in_reply_to,
            references: mail.references,
            reply_to: mail.reply_to,
            unsubscribe_url: mail.unsubscribe_url,
            attachment_ids: mail.attachment_ids,
        },
        status: mail.status,
        attempts: mail.attempts,
        next_attempt_at: Stamp::from(mail.next_attempt_at),
        last_error: mail.last_error,
        created_at: Stamp::from(mail.created_at),
        sent_at: mail.sent_at.map(Stamp::from),
    };
    Ok(target.mail(&MailRecord::Outbound(Box::new(record))).await?)
}

/// Restores an admin's template; one the desk has for the same kind and locale is kept.
pub(super) async fn restore_template(
    target: &mut Import,
    template: ExportedEmailTemplate,
) -> Result<Imported, Refusal> {
    filled("locale", &template.locale).map_err(Refusal::Record)?;
    filled("subject", &template.subject).map_err(Refusal::Record)?;
    let record = StoredTemplate {
        kind: template.mail_kind,
        locale: template.locale,
        subject: template.subject,
        text_body: template.text_body,
        html_body: template.html_body,
        updated_at: Stamp::from(template.updated_at),
    };
    Ok(target.mail(&MailRecord::Template(record)).await?)
}

/// Restores a suppressed address with its reason.
pub(super) async fn restore_suppression(
    target: &mut Import,
    suppression: ExportedEmailSuppression,
) -> Result<Imported, Refusal> {
    let record = SuppressionRecord {
        email: address("email", &suppression.email)
            .map_err(Refusal::Record)?
            .into_inner(),
        reason: filled("reason", &suppression.reason)
            .map_err(Refusal::Record)?
            .to_owned(),
        created_at: Stamp::from(suppression.created_at),
    };
    Ok(target.mail(&MailRecord::Suppression(record)).await?)
}
