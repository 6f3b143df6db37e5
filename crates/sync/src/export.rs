//! `growdesk-sync export`: everything, in GrowDesk's export format, streamed page by page,
//! with attachments' files copied beside it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use std::collections::{HashMap, HashSet};

use growdesk_app::private_file::PrivateFile;
use growdesk_domain::{Attachment, Message};
use growdesk_store::{
    FileStore, Store,
    events::Span,
    faqs::FaqFilter,
    tickets::{TicketFilter, TicketSort},
};

use crate::format::{
    self, ExportedAttachment, ExportedCannedReply, ExportedCategory, ExportedCursor,
    ExportedEmailSuppression, ExportedEmailTemplate, ExportedEvent, ExportedFaq,
    ExportedInboundMail, ExportedMailbox, ExportedMessage, ExportedNotification,
    ExportedOutboundMail, ExportedReadMark, ExportedTicket, ExportedUser, ExportedView,
    ExportedVisitor, ExportedWebhook, ExportedWidget, Header, Line,
};

/// Records read per query.
const PAGE: u32 = 500;

/// What an export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Exported {
    pub(crate) users: usize,
    pub(crate) categories: usize,
    pub(crate) faqs: usize,
    pub(crate) widgets: usize,
    pub(crate) visitors: usize,
    pub(crate) webhooks: usize,
    pub(crate) tickets: usize,
    pub(crate) messages: usize,
    pub(crate) attachments: usize,
    pub(crate) events: usize,
    pub(crate) notifications: usize,
    pub(crate) views: usize,
    pub(crate) canned_replies: usize,
    pub(crate) read_marks: usize,
    pub(crate) mailboxes: usize,
    pub(crate) inbound_mails: usize,
    pub(crate) outbound_mails: usize,
    pub(crate) email_templates: usize,
    pub(crate) email_suppressions: usize,
}

/// Where the export goes: a `.jsonl` file, or the standard file inside a directory.
pub(crate) fn target(path: &Path) -> PathBuf {
    if path
        .extension()
        .is_some_and(|extension| extension == "jsonl" || extension == "json")
    {
        path.to_owned()
    } else {
        path.join(format::FILE_NAME)
    }
}

/// The directory beside an export file that holds its attachments' bytes.
pub(crate) fn attachments_dir(export_file: &Path) -> PathBuf {
    export_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(format::ATTACHMENTS_DIR)
}

/// Writes every user, category, mailbox, FAQ, widget, visitor, ticket (with its messages and
/// their attachments), event, notification, saved view, canned reply, read mark, mail taken in
/// and sent, email template, suppressed address and webhook of `store` to `path`, and copies
/// the attachments' files from `files` beside it. The file holds password hashes and secrets: it is written as a
/// `PrivateFile`, readable by its owner only, and appears at `path` only once complete.
///
/// # Errors
/// The database or a file failed, or an attachment's file is missing from `files`.
pub(crate) async fn export(
    store: &Store,
    files: &FileStore,
    path: &Path,
) -> anyhow::Result<Exported> {
    let file = target(path);
    let mut copied = HashSet::new();
    let mut out = PrivateFile::create(&file)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", file.display()))?;
    let mut write = |line: &Line| -> anyhow::Result<()> {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    let mut counts = Exported::default();
    write(&Line::Header(Header {
        format: format::FORMAT.to_owned(),
        version: format::VERSION,
        exported_at: time::OffsetDateTime::now_utc(),
    }))?;

    let mut after = None;
    loop {
        let page = store.users().export(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.user.id);
        let ids: Vec<uuid::Uuid> = page.iter().map(|credentials| credentials.user.id).collect();
        let mut locales = store.backup().user_locales(&ids).await?;
        for credentials in page {
            let user = credentials.user;
            let locale = locales.remove(&user.id);
            write(&Line::User(ExportedUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role: user.role,
                active: user.active,
                password_hash: credentials.password_hash,
                created_at: user.created_at,
                updated_at: Some(user.updated_at),
                notify_new_tickets: user.notify_new_tickets,
                locale,
            }))?;
            counts.users += 1;
        }
    }
    for category in store.categories().list(false).await? {
        write(&Line::Category(ExportedCategory {
            id: category.id,
            name: category.name,
            description: category.description,
            color: category.color,
            active: category.active,
            position: category.position,
            created_at: Some(category.created_at),
            updated_at: Some(category.updated_at),
        }))?;
        counts.categories += 1;
    }
    for mailbox in store.mailboxes().export().await? {
        let fields = mailbox.fields;
        write(&Line::Mailbox(Box::new(ExportedMailbox {
            id: mailbox.id,
            address: fields.address.into_inner(),
            display_name: fields.display_name,
            imap: fields.imap,
            imap_password: mailbox.secrets.imap_password,
            smtp: fields.smtp,
            smtp_password: mailbox.secrets.smtp_password,
            default_category_id: fields.default_category_id,
            default_priority: fields.default_priority,
            acknowledge: fields.acknowledge,
            active: fields.active,
            cursor: mailbox.cursor.map(|cursor| ExportedCursor {
                uid_validity: cursor.uid_validity,
                last_uid: cursor.last_uid,
            }),
            created_at: mailbox.created_at.into(),
            updated_at: mailbox.updated_at.into(),
        })))?;
        counts.mailboxes += 1;
    }
    let mut after = None;
    loop {
        let page = store
            .faqs()
            .list(&FaqFilter::default(), after, PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(growdesk_store::faqs::FaqCursor {
            position: last.position,
            id: last.id,
        });
        for faq in page {
            write(&Line::Faq(ExportedFaq {
                id: faq.id,
                question: faq.question,
                answer: faq.answer,
                category_id: faq.category_id,
                published: faq.published,
                position: faq.position,
                created_at: Some(faq.created_at),
                updated_at: Some(faq.updated_at),
            }))?;
            counts.faqs += 1;
        }
    }
    for widget in store.widgets().list().await? {
        write(&Line::Widget(Box::new(ExportedWidget {
            id: widget.id,
            key: widget.key,
            name: widget.name,
            allowed_origins: widget.allowed_origins,
            settings: widget.settings,
            identity_secret: widget.identity_secret,
            enforce_identity: widget.enforce_identity,
            active: widget.active,
            default_category_id: widget.default_category_id,
            default_priority: widget.default_priority,
            created_at: widget.created_at,
            updated_at: widget.updated_at,
        })))?;
        counts.widgets += 1;
    }
    let mut after = None;
    loop {
        let page = store.backup().export_visitors(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for visitor in page {
            write(&Line::Visitor(ExportedVisitor {
                id: visitor.id,
                widget_id: visitor.widget_id,
                user_id: visitor.user_id,
                created_at: visitor.created_at.into(),
            }))?;
            counts.visitors += 1;
        }
    }
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let mut after = None;
    loop {
        let page = store
            .tickets()
            .list(&filter, TicketSort::Number, false, after, PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(growdesk_store::tickets::TicketCursor {
            key: TicketSort::Number.key_of(last),
            id: last.id,
        });
        let ids: Vec<uuid::Uuid> = page.iter().map(|ticket| ticket.id).collect();
        let mut messages: HashMap<uuid::Uuid, Vec<Message>> = HashMap::new();
        for message in store.messages().of_tickets(&ids).await? {
            for attachment in &message.attachments {
                if copied.insert(attachment.sha256.clone()) {
                    copy_attachment(files, attachment, &attachments_dir(&file))?;
                }
            }
            counts.attachments += message.attachments.len();
            messages.entry(message.ticket_id).or_default().push(message);
        }
        for ticket in page {
            let mine = messages.remove(&ticket.id).unwrap_or_default();
            counts.messages += mine.len();
            write(&Line::Ticket(Box::new(ExportedTicket {
                id: ticket.id,
                number: ticket.number,
                subject: ticket.subject,
                status: ticket.status,
                priority: ticket.priority,
                category_id: ticket.category_id,
                requester_id: ticket.requester.id,
                assignee_id: ticket.assignee_id,
                tags: ticket.tags,
                source: ticket.source,
                created_at: ticket.created_at,
                updated_at: ticket.updated_at,
                first_response_at: ticket.first_response_at,
                resolved_at: ticket.resolved_at,
                closed_at: ticket.closed_at,
                version: Some(ticket.version),
                visitor_id: ticket.visitor_id,
                mailbox_id: ticket.mailbox_id,
                messages: mine
                    .into_iter()
                    .map(|message| ExportedMessage {
                        id: message.id,
                        author_id: message.author.id,
                        body: message.body,
                        internal: message.internal,
                        created_at: message.created_at,
                        channel: Some(message.channel),
                        attachments: message
                            .attachments
                            .into_iter()
                            .map(|attachment| ExportedAttachment {
                                id: attachment.id,
                                filename: attachment.filename,
                                content_type: attachment.content_type,
                                size: attachment.size,
                                sha256: attachment.sha256,
                            })
                            .collect(),
                    })
                    .collect(),
            })))?;
            counts.tickets += 1;
        }
    }
    // Up to the settled ids: past them, a transaction still open may hold an id below one
    // already committed, which paging by id would skip.
    let upto = store.events().settled().await?.events;
    let mut after = 0;
    loop {
        let page = store.events().after(Span { after, upto }, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.event.id;
        for entry in page {
            let event = entry.event;
            write(&Line::Event(ExportedEvent {
                id: event.id,
                ticket_id: event.ticket_id,
                event: event.event.kind().as_str().to_owned(),
                actor_id: event.actor_id,
                internal: event.internal,
                recipient_id: event.recipient_id,
                data: serde_json::to_value(event.event.data())?,
                created_at: event.created_at,
            }))?;
            counts.events += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store.backup().export_notifications(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for notification in page {
            write(&Line::Notification(ExportedNotification {
                id: notification.id,
                user_id: notification.user_id,
                notification: notification.kind.as_str().to_owned(),
                ticket_id: notification.ticket_id,
                data: notification.data,
                read_at: notification.read_at.map(Into::into),
                created_at: notification.created_at.into(),
            }))?;
            counts.notifications += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store.views().export(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for view in page {
            write(&Line::View(ExportedView {
                id: view.id,
                owner_id: view.owner_id,
                name: view.name,
                filter: view.filter,
                created_at: view.created_at,
                updated_at: view.updated_at,
            }))?;
            counts.views += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store.canned_replies().export(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for reply in page {
            write(&Line::CannedReply(ExportedCannedReply {
                id: reply.id,
                owner_id: reply.owner_id,
                title: reply.title,
                body: reply.body,
                shortcut: reply.shortcut,
                created_at: reply.created_at,
                updated_at: reply.updated_at,
            }))?;
            counts.canned_replies += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store.tickets().export_read_marks(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.user_id, last.ticket_id));
        for mark in page {
            write(&Line::ReadMark(ExportedReadMark {
                user_id: mark.user_id,
                ticket_id: mark.ticket_id,
                last_event_id: mark.last_event_id,
            }))?;
            counts.read_marks += 1;
        }
    }
    export_mail(store, &mut write, &mut counts).await?;
    for webhook in store.webhooks().list().await? {
        write(&Line::Webhook(ExportedWebhook {
            id: webhook.id,
            url: webhook.url,
            secret: webhook.secret,
            event_types: webhook.event_types,
            active: webhook.active,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }))?;
        counts.webhooks += 1;
    }
    out.persist()
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", file.display()))?;
    Ok(counts)
}

/// Writes the email channel's records that follow the tickets they name: the mail taken in and
/// sent, the admins' templates and the suppressed addresses.
async fn export_mail(
    store: &Store,
    write: &mut impl FnMut(&Line) -> anyhow::Result<()>,
    counts: &mut Exported,
) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let page = store.backup().export_inbound_mails(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.mailbox_id, last.message_id.clone()));
        for mail in page {
            write(&Line::InboundMail(ExportedInboundMail {
                mailbox_id: mail.mailbox_id,
                message_id: mail.message_id,
                ticket_id: mail.ticket_id,
                chat_message_id: mail.chat_message_id,
                mail_kind: mail.kind.as_str().to_owned(),
                received_at: mail.received_at.into(),
            }))?;
            counts.inbound_mails += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store.backup().export_outbound_mails(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.mail.id);
        for outbound in page {
            let mail = outbound.mail;
            write(&Line::OutboundMail(Box::new(ExportedOutboundMail {
                id: mail.id,
                mailbox_id: mail.mailbox_id,
                ticket_id: mail.ticket_id,
                message_id: mail.message_id,
                mail_kind: mail.kind,
                recipient: mail.recipient,
                subject: mail.subject,
                text_body: mail.text_body,
                html_body: mail.html_body,
                header_message_id: mail.header_message_id,
                in_reply_to: mail.in_reply_to,
                references: mail.references,
                reply_to: mail.reply_to,
                unsubscribe_url: mail.unsubscribe_url,
                attachment_ids: mail.attachment_ids,
                status: outbound.status,
                attempts: outbound.attempts,
                next_attempt_at: outbound.next_attempt_at.into(),
                last_error: outbound.last_error,
                created_at: outbound.created_at.into(),
                sent_at: outbound.sent_at.map(Into::into),
            })))?;
            counts.outbound_mails += 1;
        }
    }
    for template in store.email_templates().list().await? {
        write(&Line::EmailTemplate(ExportedEmailTemplate {
            mail_kind: template.kind,
            locale: template.locale,
            subject: template.subject,
            text_body: template.text_body,
            html_body: template.html_body,
            updated_at: template.updated_at.into(),
        }))?;
        counts.email_templates += 1;
    }
    let mut after = None;
    loop {
        let page = store.backup().export_suppressions(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.email.clone());
        for suppression in page {
            write(&Line::EmailSuppression(ExportedEmailSuppression {
                email: suppression.email,
                reason: suppression.reason,
                created_at: suppression.created_at.into(),
            }))?;
            counts.email_suppressions += 1;
        }
    }
    Ok(())
}

/// Copies an attachment's stored bytes to `dir/<sha256>`, owner-only like the export itself
/// (customers' files are personal data).
fn copy_attachment(files: &FileStore, attachment: &Attachment, dir: &Path) -> anyhow::Result<()> {
    let source = files.locate(&attachment.sha256).ok_or_else(|| {
        anyhow::anyhow!(
            "attachment {} ({}) has no stored file {}: the backup would be incomplete",
            attachment.id,
            attachment.filename,
            attachment.sha256
        )
    })?;
    let target = dir.join(&attachment.sha256);
    let failed = |error: std::io::Error| {
        anyhow::anyhow!(
            "cannot copy {} to {}: {error}",
            source.display(),
            target.display()
        )
    };
    let mut out = PrivateFile::create(&target).map_err(failed)?;
    std::io::copy(&mut std::fs::File::open(&source).map_err(failed)?, &mut out).map_err(failed)?;
    out.persist().map_err(failed)
}
