//! GrowDesk's own export format: JSON Lines, one record per line, each tagged with its `kind`,
//! in dependency order (users and categories before the tickets that name them), so that
//! exports and imports stream with bounded memory. Attachments' bytes are files beside the
//! export, in `attachments/`, each named by its SHA-256.
//!
//! Version 2 added widgets, visitors, webhooks, a ticket's visitor and version, users',
//! categories' and FAQs' times, staff's new-ticket notification choice, messages' attachments, the event log and notifications, then saved views, canned replies and read marks, then the
//! email channel: mailboxes (with their passwords and cursors) before the tickets that name
//! them, users' locales, tickets' mailboxes, and after the tickets the mail taken in and sent,
//! the admins' templates and the suppressed addresses (a version 2 file without any of these
//! still is one); version 1 files,
//! which have none of them, still import (their tickets' creation is logged at import).
//! Webhooks come last, after the log, so restoring old events queues no deliveries.

use growdesk_domain::mail::{DeliveryStatus, ImapSettings, MailKind, SmtpSettings};
use growdesk_domain::workspace::ViewFilter;
use growdesk_domain::{MessageChannel, Priority, Role, TicketSource, TicketStatus, WidgetSettings};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The format's name in the header line.
pub(crate) const FORMAT: &str = "growdesk-export";
/// The format's version; an importer refuses newer ones.
pub(crate) const VERSION: u32 = 2;
/// The file an export into a directory writes (and an import from a directory reads).
pub(crate) const FILE_NAME: &str = "growdesk-export.jsonl";
/// The directory, beside the export file, holding attachments' bytes.
pub(crate) const ATTACHMENTS_DIR: &str = "attachments";

/// One line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Line {
    Header(Header),
    User(ExportedUser),
    Category(ExportedCategory),
    Faq(ExportedFaq),
    Widget(Box<ExportedWidget>),
    Visitor(ExportedVisitor),
    Ticket(Box<ExportedTicket>),
    Event(ExportedEvent),
    Notification(ExportedNotification),
    View(ExportedView),
    CannedReply(ExportedCannedReply),
    ReadMark(ExportedReadMark),
    Mailbox(Box<ExportedMailbox>),
    InboundMail(ExportedInboundMail),
    OutboundMail(Box<ExportedOutboundMail>),
    EmailTemplate(ExportedEmailTemplate),
    EmailSuppression(ExportedEmailSuppression),
    Webhook(ExportedWebhook),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) exported_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedUser {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) active: bool,
    /// The Argon2id PHC string, so people keep their passwords on the new instance.
    pub(crate) password_hash: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) updated_at: Option<OffsetDateTime>,
    /// Staff: notified of every new ticket.
    #[serde(default)]
    pub(crate) notify_new_tickets: bool,
    /// The locale of their mail, when they chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedCategory {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) color: String,
    pub(crate) active: bool,
    pub(crate) position: i32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) updated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedFaq {
    pub(crate) id: Uuid,
    pub(crate) question: String,
    pub(crate) answer: String,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) published: bool,
    pub(crate) position: i32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) updated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedMessage {
    pub(crate) id: Uuid,
    pub(crate) author_id: Uuid,
    pub(crate) body: String,
    pub(crate) internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(default)]
    pub(crate) attachments: Vec<ExportedAttachment>,
    /// How it reached the ticket; absent in exports made before the email channel, whose
    /// messages are restored as imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) channel: Option<MessageChannel>,
}

/// An attachment's metadata; its bytes are `attachments/<sha256>` beside the export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedAttachment {
    pub(crate) id: Uuid,
    pub(crate) filename: String,
    pub(crate) content_type: String,
    pub(crate) size: i64,
    pub(crate) sha256: String,
}

/// A widget with its public key and identity secret, so embedded pages keep working.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedWidget {
    pub(crate) id: Uuid,
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) settings: WidgetSettings,
    pub(crate) identity_secret: Option<String>,
    pub(crate) enforce_identity: bool,
    pub(crate) active: bool,
    pub(crate) default_category_id: Option<Uuid>,
    pub(crate) default_priority: Priority,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

/// A browser that opened conversations through a widget, filed under a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedVisitor {
    pub(crate) id: Uuid,
    pub(crate) widget_id: Uuid,
    pub(crate) user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

/// An entry of the event log (ticket histories, realtime resume ids, the audit trail), under
/// its own id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedEvent {
    pub(crate) id: i64,
    pub(crate) ticket_id: Uuid,
    /// `created`, `status_changed`, … as stored.
    pub(crate) event: String,
    pub(crate) actor_id: Option<Uuid>,
    pub(crate) internal: bool,
    pub(crate) recipient_id: Option<Uuid>,
    pub(crate) data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

/// A user's notification, read or not.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedNotification {
    pub(crate) id: Uuid,
    pub(crate) user_id: Uuid,
    /// The notification's kind, as stored.
    pub(crate) notification: String,
    pub(crate) ticket_id: Uuid,
    pub(crate) data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

/// A saved view, personal (`owner_id`) or shared (`null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedView {
    pub(crate) id: Uuid,
    pub(crate) owner_id: Option<Uuid>,
    pub(crate) name: String,
    pub(crate) filter: ViewFilter,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

/// A canned reply, personal (`owner_id`) or shared (`null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedCannedReply {
    pub(crate) id: Uuid,
    pub(crate) owner_id: Option<Uuid>,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) shortcut: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

/// How far a staff member had read a ticket: its latest event's id when they last opened it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedReadMark {
    pub(crate) user_id: Uuid,
    pub(crate) ticket_id: Uuid,
    pub(crate) last_event_id: i64,
}

/// A webhook with its signing secret, so receivers keep verifying deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedWebhook {
    pub(crate) id: Uuid,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) event_types: Vec<String>,
    pub(crate) active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedTicket {
    pub(crate) id: Uuid,
    pub(crate) number: i64,
    pub(crate) subject: String,
    pub(crate) status: TicketStatus,
    pub(crate) priority: Priority,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) requester_id: Uuid,
    pub(crate) assignee_id: Option<Uuid>,
    pub(crate) tags: Vec<String>,
    pub(crate) source: TicketSource,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) first_response_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) closed_at: Option<OffsetDateTime>,
    /// The ticket's version (its count of changes), which clients send back in `If-Match`.
    #[serde(default)]
    pub(crate) version: Option<i64>,
    /// The widget visitor the ticket came through.
    #[serde(default)]
    pub(crate) visitor_id: Option<Uuid>,
    /// The mailbox its mail goes out from (a ticket opened by mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mailbox_id: Option<Uuid>,
    pub(crate) messages: Vec<ExportedMessage>,
}

/// A mailbox with its IMAP and SMTP passwords (carried as webhooks' secrets are, so mail goes
/// on without typing them again) and how far its folder was read (so a restored desk does not
/// fetch it all again).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedMailbox {
    pub(crate) id: Uuid,
    pub(crate) address: String,
    pub(crate) display_name: String,
    pub(crate) imap: Option<ImapSettings>,
    pub(crate) imap_password: Option<String>,
    pub(crate) smtp: Option<SmtpSettings>,
    pub(crate) smtp_password: Option<String>,
    pub(crate) default_category_id: Option<Uuid>,
    pub(crate) default_priority: Priority,
    pub(crate) acknowledge: bool,
    pub(crate) active: bool,
    /// `UIDVALIDITY` and the last UID read, absent before the first fetch.
    pub(crate) cursor: Option<ExportedCursor>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedCursor {
    pub(crate) uid_validity: u32,
    pub(crate) last_uid: u32,
}

/// A mail taken in, by mailbox and `Message-ID`, and what it became: a mail fetched again
/// after a restore is recognised and not imported twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedInboundMail {
    pub(crate) mailbox_id: Uuid,
    pub(crate) message_id: String,
    pub(crate) ticket_id: Option<Uuid>,
    /// The ticket message it became.
    pub(crate) chat_message_id: Option<Uuid>,
    /// What it was: `message`, `auto_reply`, `bounce` or `ignored` (`kind` names the line's).
    pub(crate) mail_kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) received_at: OffsetDateTime,
}

/// A mail of the outbox with where it stands: sent ones are never sent again; one still
/// queued is sent once, by the restored desk. Password resets are not carried.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedOutboundMail {
    pub(crate) id: Uuid,
    pub(crate) mailbox_id: Option<Uuid>,
    pub(crate) ticket_id: Option<Uuid>,
    pub(crate) message_id: Option<Uuid>,
    /// Why it was sent (`kind` names the line's).
    pub(crate) mail_kind: MailKind,
    pub(crate) recipient: String,
    pub(crate) subject: String,
    pub(crate) text_body: String,
    pub(crate) html_body: Option<String>,
    pub(crate) header_message_id: String,
    pub(crate) in_reply_to: Option<String>,
    pub(crate) references: Vec<String>,
    pub(crate) reply_to: Option<String>,
    pub(crate) unsubscribe_url: Option<String>,
    pub(crate) attachment_ids: Vec<Uuid>,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempts: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) next_attempt_at: OffsetDateTime,
    pub(crate) last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) sent_at: Option<OffsetDateTime>,
}

/// An admin's wording of a kind of mail in a locale.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedEmailTemplate {
    /// The kind of mail it words (`kind` names the line's).
    pub(crate) mail_kind: MailKind,
    pub(crate) locale: String,
    pub(crate) subject: String,
    pub(crate) text_body: String,
    pub(crate) html_body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
}

/// An address never mailed again (unsubscribed, or bounced for good), and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedEmailSuppression {
    pub(crate) email: String,
    pub(crate) reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}
