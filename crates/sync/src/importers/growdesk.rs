//! `import json`: GrowDesk's own export (see `format`). Ids and ticket numbers are kept where
//! they are free, so an export imported into an empty instance reproduces it — the documented
//! way to move from SQLite to PostgreSQL, and to restore a backup. Widgets, webhooks and
//! mailboxes keep their keys, secrets and passwords; attachments' files are checked against
//! their SHA-256 and stored.

use std::path::Path;

use growdesk_domain::{
    Color, Email, Event, EventKind, MessageBody, MessageChannel, NotificationKind, PersonName,
    Subject, Tags,
};
use growdesk_service::ServiceError;
use growdesk_service::imports::Import;
use growdesk_store::{
    FileStore, Stamp, Store,
    backup::{
        ImportedVisitor, ImportedWebhook, ImportedWidget, NotificationRecord, RestoredEvent,
        TimedTable,
    },
    imports::{
        ImportedCategory, ImportedFaq, ImportedMessage, ImportedTicket, ImportedUser, RecordKind,
    },
    messages::NewAttachment,
    widgets::WidgetFields,
};

use crate::format::{self, ExportedTicket, Line};
use crate::importers::Report;

mod attachments;
mod mail;
mod workspace;

use crate::importers::records::{Lines, MAX_LINE_BYTES};
use attachments::{Attachments, attachment_bytes};

/// The source name imports from GrowDesk exports are remembered under.
pub(crate) const SOURCE: &str = "growdesk";

/// Imports the export at `path` (a `.jsonl` file or a directory holding one), line by line,
/// storing attachments' files in `files`. Unless `merge`, the database must hold nothing but
/// what earlier runs of this import wrote (a restore goes into an empty database). A dry run
/// writes nothing and reports the counts the run would.
///
/// # Errors
/// The database holds records of its own (without `merge`), the file cannot be read (any
/// read error ends the import), an attachment cannot be stored, or the database fails; bad
/// lines, overlong ones included, are reported, not errors.
pub(crate) async fn import(
    store: &Store,
    files: &FileStore,
    path: &Path,
    merge: bool,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let file = crate::export::target(path);
    let mut target = Import::new(store.clone(), dry_run);
    if !merge && target.holds_records_not_imported_from(SOURCE).await? {
        anyhow::bail!(
            "the database already holds accounts, tickets or settings of its own: a backup is \
             restored into an empty database (pass --merge to import into this one anyway)"
        );
    }
    let attachments = Attachments {
        exported: crate::export::attachments_dir(&file),
        files,
    };
    let unreadable =
        |error: std::io::Error| anyhow::anyhow!("cannot read {}: {error}", file.display());
    let mut lines = Lines::new(
        std::io::BufReader::new(std::fs::File::open(&file).map_err(unreadable)?),
        MAX_LINE_BYTES,
    );
    let mut report = Report::new(SOURCE, dry_run);
    let mut kept_numbers = false;
    let mut restored_log = false;
    let mut logs_itself = false;
    while let Some((number, line)) = lines.next_line().map_err(unreadable)? {
        let position = format!("line {number}");
        let line = match line {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => line,
            Err(reason) => {
                report.refuse(position, reason);
                continue;
            }
        };
        let record = match serde_json::from_str::<Line>(line) {
            Ok(record) => record,
            Err(error) => {
                report.refuse(position, format!("not a record of this format: {error}"));
                continue;
            }
        };
        if let Line::Header(header) = &record {
            if header.format != format::FORMAT || header.version > format::VERSION {
                anyhow::bail!(
                    "{} is not a GrowDesk export this version can read",
                    file.display()
                );
            }
            logs_itself = header.version >= 2;
            continue;
        }
        kept_numbers |= matches!(record, Line::Ticket(_));
        restored_log |= matches!(record, Line::Event(_));
        match write(&mut target, &attachments, logs_itself, record).await {
            Ok(outcome) => report.record(outcome),
            Err(Refusal::Record(reason)) => report.refuse(position, reason),
            Err(Refusal::Database(error)) => return Err(error.into()),
            Err(Refusal::Storage(error)) => {
                anyhow::bail!("cannot store an attachment's file: {error}")
            }
        }
    }
    target.finish_restore(kept_numbers, restored_log).await?;
    Ok(report)
}

enum Refusal {
    Record(String),
    Database(ServiceError),
    Storage(std::io::Error),
}

impl From<ServiceError> for Refusal {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Conflict(reason) => Self::Record(reason),
            other => Self::Database(other),
        }
    }
}

/// The domain checks every record passes before it is written.
fn check(record: &Line, attachments: &Attachments<'_>) -> Result<(), String> {
    let field = |name: &str, error: growdesk_domain::ValueError| format!("{name} {error}");
    match record {
        Line::Header(_) => {}
        Line::User(user) => {
            Email::parse(&user.email).map_err(|error| field("email", error))?;
            PersonName::parse(&user.name).map_err(|error| field("name", error))?;
        }
        Line::Category(category) => {
            PersonName::parse(&category.name).map_err(|error| field("name", error))?;
            Color::parse(&category.color).map_err(|error| field("color", error))?;
        }
        Line::Faq(faq) => {
            MessageBody::parse(&faq.question).map_err(|error| field("question", error))?;
            MessageBody::parse(&faq.answer).map_err(|error| field("answer", error))?;
        }
        Line::Ticket(ticket) => {
            Subject::parse(&ticket.subject).map_err(|error| field("subject", error))?;
            Tags::parse(&ticket.tags).map_err(|error| format!("tags {error}"))?;
            for message in &ticket.messages {
                MessageBody::parse(&message.body).map_err(|error| field("message body", error))?;
                for attachment in &message.attachments {
                    attachment_bytes(attachments, attachment)?;
                }
            }
        }
        Line::Widget(widget) => {
            PersonName::parse(&widget.name).map_err(|error| field("name", error))?;
            if widget.key.trim().is_empty() {
                return Err("key must not be empty".to_owned());
            }
        }
        Line::Mailbox(mailbox) => mail::check_mailbox(mailbox)?,
        // Views and canned replies are checked as they are built (`workspace`); a read mark's
        // reader and ticket, as it is restored.
        Line::Visitor(_)
        | Line::Event(_)
        | Line::Notification(_)
        | Line::View(_)
        | Line::CannedReply(_)
        | Line::ReadMark(_) => {}
        // The email channel's records are checked as they are built (`mail`).
        Line::InboundMail(_)
        | Line::OutboundMail(_)
        | Line::EmailTemplate(_)
        | Line::EmailSuppression(_) => {}
        Line::Webhook(webhook) => {
            // As the API checks at save; whether the target is globally reachable is checked
            // at each delivery, as for every webhook.
            let url = url::Url::parse(&webhook.url).map_err(|error| format!("url {error}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err("url must be http or https".to_owned());
            }
            if webhook.event_types.is_empty()
                || !webhook
                    .event_types
                    .iter()
                    .all(|name| growdesk_domain::webhook::is_webhook_event(name))
            {
                return Err("event_types must name known event types, or `*`".to_owned());
            }
            if webhook.secret.trim().is_empty() {
                return Err("secret must not be empty".to_owned());
            }
        }
    }
    Ok(())
}

async fn local(target: &Import, kind: RecordKind, id: uuid::Uuid) -> Result<uuid::Uuid, Refusal> {
    target
        .local_id(SOURCE, kind, &id.to_string())
        .await?
        .ok_or_else(|| {
            Refusal::Record(format!(
                "refers to {kind} {id}, which the export did not hold before it"
            ))
        })
}

async fn local_opt(
    target: &Import,
    kind: RecordKind,
    id: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, Refusal> {
    match id {
        Some(id) => local(target, kind, id).await.map(Some),
        None => Ok(None),
    }
}

/// Writes one record; `logs_itself`: the export carries its event log (version 2), so a
/// restored ticket's creation is not logged again.
async fn write(
    target: &mut Import,
    attachments: &Attachments<'_>,
    logs_itself: bool,
    record: Line,
) -> Result<growdesk_store::imports::Imported, Refusal> {
    check(&record, attachments).map_err(Refusal::Record)?;
    Ok(match record {
        Line::Header(_) => return Err(Refusal::Record("a second header".to_owned())),
        Line::User(user) => {
            let times = (Some(user.created_at), user.updated_at);
            let notify_new_tickets = user.notify_new_tickets;
            let locale = user.locale;
            let email =
                Email::parse(&user.email).map_err(|error| Refusal::Record(error.to_string()))?;
            let outcome = target
                .user(
                    SOURCE,
                    &ImportedUser {
                        external_id: user.id.to_string(),
                        preferred_id: Some(user.id),
                        email: email.into_inner(),
                        name: user.name,
                        role: user.role,
                        active: user.active,
                        password_hash: user.password_hash,
                        created_at: Stamp::from(user.created_at),
                    },
                )
                .await?;
            if notify_new_tickets || locale.is_some() {
                target
                    .keep_preferences(outcome, notify_new_tickets, locale.as_deref())
                    .await?;
            }
            keep_times(target, TimedTable::Users, outcome, times).await?
        }
        Line::Category(category) => {
            let times = (category.created_at, category.updated_at);
            let outcome = target
                .category(
                    SOURCE,
                    &ImportedCategory {
                        external_id: category.id.to_string(),
                        preferred_id: Some(category.id),
                        name: category.name,
                        description: category.description,
                        color: category.color,
                        active: category.active,
                        position: category.position,
                    },
                )
                .await?;
            keep_times(target, TimedTable::Categories, outcome, times).await?
        }
        Line::Faq(faq) => {
            let category_id = local_opt(target, RecordKind::Category, faq.category_id).await?;
            let times = (faq.created_at, faq.updated_at);
            let outcome = target
                .faq(
                    SOURCE,
                    &ImportedFaq {
                        external_id: faq.id.to_string(),
                        preferred_id: Some(faq.id),
                        question: faq.question,
                        answer: faq.answer,
                        category_id,
                        published: faq.published,
                        position: faq.position,
                    },
                )
                .await?;
            keep_times(target, TimedTable::Faqs, outcome, times).await?
        }
        Line::Widget(widget) => {
            let default_category_id =
                local_opt(target, RecordKind::Category, widget.default_category_id).await?;
            target
                .widget(
                    SOURCE,
                    &ImportedWidget {
                        external_id: widget.id.to_string(),
                        preferred_id: Some(widget.id),
                        key: widget.key,
                        fields: WidgetFields {
                            name: widget.name,
                            allowed_origins: widget.allowed_origins,
                            settings: widget.settings,
                            identity_secret: widget.identity_secret,
                            enforce_identity: widget.enforce_identity,
                            active: widget.active,
                            default_category_id,
                            default_priority: widget.default_priority,
                        },
                        created_at: Stamp::from(widget.created_at),
                        updated_at: Stamp::from(widget.updated_at),
                    },
                )
                .await?
        }
        Line::Visitor(visitor) => {
            let imported = ImportedVisitor {
                external_id: visitor.id.to_string(),
                preferred_id: Some(visitor.id),
                widget_id: local(target, RecordKind::Widget, visitor.widget_id).await?,
                user_id: local(target, RecordKind::User, visitor.user_id).await?,
                created_at: Stamp::from(visitor.created_at),
            };
            target.visitor(SOURCE, &imported).await?
        }
        Line::Webhook(webhook) => {
            target
                .webhook(
                    SOURCE,
                    &ImportedWebhook {
                        external_id: webhook.id.to_string(),
                        preferred_id: Some(webhook.id),
                        url: webhook.url,
                        secret: webhook.secret,
                        event_types: webhook.event_types,
                        active: webhook.active,
                        created_at: Stamp::from(webhook.created_at),
                        updated_at: Stamp::from(webhook.updated_at),
                    },
                )
                .await?
        }
        Line::Ticket(ticket) => import_ticket(target, attachments, logs_itself, *ticket).await?,
        Line::Event(event) => {
            // Data its kind does not describe (older releases, hand edits) is kept as it is;
            // a kind this release does not know could not be read back, so it is refused.
            let kind = EventKind::from_stored(&event.event)
                .ok_or_else(|| Refusal::Record(format!("unknown event kind {:?}", event.event)))?;
            let restored = RestoredEvent {
                id: event.id,
                ticket_id: local_or_same(target, RecordKind::Ticket, event.ticket_id).await?,
                actor_id: local_or_same_opt(target, event.actor_id).await?,
                internal: event.internal,
                recipient_id: local_or_same_opt(target, event.recipient_id).await?,
                event: Event::from_stored(kind, event.data),
                created_at: Stamp::from(event.created_at),
            };
            target.event(SOURCE, &restored).await?
        }
        Line::Notification(notification) => {
            let kind =
                NotificationKind::from_stored(&notification.notification).ok_or_else(|| {
                    Refusal::Record(format!(
                        "unknown notification kind {:?}",
                        notification.notification
                    ))
                })?;
            let restored = NotificationRecord {
                id: notification.id,
                user_id: local(target, RecordKind::User, notification.user_id).await?,
                kind,
                ticket_id: local_or_same(target, RecordKind::Ticket, notification.ticket_id)
                    .await?,
                data: notification.data,
                read_at: notification.read_at.map(Stamp::from),
                created_at: Stamp::from(notification.created_at),
            };
            target.notification(&restored).await?
        }
        Line::View(view) => workspace::restore_view(target, view).await?,
        Line::CannedReply(reply) => workspace::restore_canned_reply(target, reply).await?,
        Line::ReadMark(mark) => workspace::restore_read_mark(target, mark).await?,
        Line::Mailbox(mailbox) => mail::restore_mailbox(target, *mailbox).await?,
        Line::InboundMail(inbound) => mail::restore_inbound(target, inbound).await?,
        Line::OutboundMail(outbound) => mail::restore_outbound(target, *outbound).await?,
        Line::EmailTemplate(template) => mail::restore_template(target, template).await?,
        Line::EmailSuppression(suppression) => {
            mail::restore_suppression(target, suppression).await?
        }
    })
}

/// A record this run created gets the times it was exported with (version 2 exports have them).
async fn keep_times(
    target: &Import,
    table: TimedTable,
    outcome: growdesk_store::imports::Imported,
    (created_at, updated_at): (Option<time::OffsetDateTime>, Option<time::OffsetDateTime>),
) -> Result<growdesk_store::imports::Imported, Refusal> {
    if let (Some(created_at), Some(updated_at)) = (created_at, updated_at) {
        target
            .keep_times(table, outcome, created_at.into(), updated_at.into())
            .await?;
    }
    Ok(outcome)
}

/// The local id of a record the log names; the exported one when the export did not hold the
/// record (the log outlives deleted tickets).
async fn local_or_same(
    target: &Import,
    kind: RecordKind,
    id: uuid::Uuid,
) -> Result<uuid::Uuid, Refusal> {
    Ok(target
        .local_id(SOURCE, kind, &id.to_string())
        .await?
        .unwrap_or(id))
}

async fn local_or_same_opt(
    target: &Import,
    user: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, Refusal> {
    match user {
        Some(id) => local_or_same(target, RecordKind::User, id).await.map(Some),
        None => Ok(None),
    }
}

async fn import_ticket(
    target: &mut Import,
    attachments: &Attachments<'_>,
    logs_itself: bool,
    ticket: ExportedTicket,
) -> Result<growdesk_store::imports::Imported, Refusal> {
    let visitor_id = local_opt(target, RecordKind::Visitor, ticket.visitor_id).await?;
    let mailbox_id = local_opt(target, RecordKind::Mailbox, ticket.mailbox_id).await?;
    let version = ticket.version;
    let mut messages = Vec::with_capacity(ticket.messages.len());
    for message in ticket.messages {
        let mut stored = Vec::with_capacity(message.attachments.len());
        for attachment in message.attachments {
            let bytes = attachment_bytes(attachments, &attachment).map_err(Refusal::Record)?;
            target
                .store_file(attachments.files, &bytes)
                .map_err(Refusal::Storage)?;
            stored.push(NewAttachment {
                id: attachment.id,
                filename: attachment.filename,
                content_type: attachment.content_type,
                size: attachment.size,
                sha256: attachment.sha256,
            });
        }
        messages.push(ImportedMessage {
            external_id: message.id.to_string(),
            preferred_id: Some(message.id),
            author_id: local(target, RecordKind::User, message.author_id).await?,
            body: message.body,
            internal: message.internal,
            created_at: Stamp::from(message.created_at),
            attachments: stored,
            channel: message.channel.unwrap_or(MessageChannel::Import),
        });
    }
    let imported = ImportedTicket {
        external_id: ticket.id.to_string(),
        preferred_id: Some(ticket.id),
        preferred_number: Some(ticket.number),
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        category_id: local_opt(target, RecordKind::Category, ticket.category_id).await?,
        requester_id: local(target, RecordKind::User, ticket.requester_id).await?,
        assignee_id: local_opt(target, RecordKind::User, ticket.assignee_id).await?,
        tags: Tags::parse(&ticket.tags)
            .map_err(Refusal::Record)?
            .into_inner(),
        source: ticket.source,
        created_at: Stamp::from(ticket.created_at),
        updated_at: Stamp::from(ticket.updated_at),
        first_response_at: ticket.first_response_at.map(Stamp::from),
        resolved_at: ticket.resolved_at.map(Stamp::from),
        closed_at: ticket.closed_at.map(Stamp::from),
        messages,
        original: serde_json::Value::Null,
    };
    let outcome = if logs_itself {
        target.restored_ticket(SOURCE, &imported).await?
    } else {
        target.ticket(SOURCE, &imported).await?
    };
    if let Some(version) = version {
        target.keep_ticket_version(outcome, version).await?;
    }
    target
        .link_ticket_origin(outcome.id(), visitor_id, mailbox_id)
        .await?;
    Ok(outcome)
}
