//! Message use cases: the conversation on a ticket — public replies, internal notes, files.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use growdesk_domain::event::Change;
use growdesk_domain::mail::{Delivery, DeliveryStatus};
use growdesk_domain::{
    Attachment, Author, Message, MessageBody, MessageChannel, Ticket, TicketStatus, User,
    ValidationErrors,
};
use growdesk_store::{
    Stamp,
    events::NewEvent,
    messages::{NewAttachment, NewMessage},
    tickets::{Changed, MessageRecord, TicketChange, TicketState},
};
use serde::Serialize;
use uuid::Uuid;

use crate::email::outbound;
use crate::pagination::{Page, PageRequest};
use crate::policy::{can_see, sees_internal, visible};
use crate::tickets::{set_status, status_changed};
use crate::{Principal, Service, ServiceError, idempotency, notifications};

/// Message use cases: a ticket's conversation and its files; from [`Service::messages`].
#[derive(Clone, Copy)]
pub struct Messages<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// Message use cases: a ticket's conversation and its files.
    pub fn messages(&self) -> Messages<'_> {
        Messages { service: self }
    }
}

/// Most files on one message.
pub const MAX_FILES: usize = 10;

/// A file received with a message, not yet stored.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Files written for a change before it commits: their attachments, which contents this
/// write created (the rest were stored already, for other records), and every content's bytes,
/// kept until the change is settled (`settle_files`).
pub(crate) struct WrittenFiles {
    pub(crate) attachments: Vec<NewAttachment>,
    created: HashSet<String>,
    contents: HashMap<String, Vec<u8>>,
}

/// File work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await?
        .map_err(|error| ServiceError::Internal(Box::new(error)))
}

/// A message to post.
#[derive(Debug, Clone, Default)]
pub struct MessageDraft {
    pub body: String,
    /// An internal note (staff only).
    pub internal: bool,
    pub files: Vec<Upload>,
}

/// What an idempotent retry must repeat exactly.
#[derive(Serialize)]
struct Fingerprint<'a> {
    ticket_id: Uuid,
    body: &'a str,
    internal: bool,
    files: Vec<(&'a str, &'a str, &'a str)>,
}

/// A file name safe to store and to put in a `Content-Disposition` header: no path, no control
/// characters, at most 255 characters.
fn clean_filename(raw: &str) -> String {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = name.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim().trim_start_matches('.').to_owned();
    if name.is_empty() {
        "attachment".to_owned()
    } else {
        name
    }
}

/// A stored content type: the client's, when it looks like a media type.
fn clean_content_type(raw: &str) -> String {
    let media = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let valid = media.split_once('/').is_some_and(|(kind, subtype)| {
        !kind.is_empty()
            && !subtype.is_empty()
            && media
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/+-.".contains(&b))
    });
    if valid {
        media
    } else {
        "application/octet-stream".to_owned()
    }
}

/// What a new message does to its ticket, whichever way it came (the API, the widget, a mail):
/// a closed ticket takes internal notes only; a customer's reply (`customer` is its author)
/// tells the assignee and wakes a pending or resolved ticket; staff's first public reply sets
/// `first_response_at`. The ticket's new state; the events that say so are added to `events`.
///
/// # Errors
/// `Conflict` for a public message on a closed ticket.
pub(crate) fn reply_rules(
    ticket: &Ticket,
    message: &NewMessage,
    customer: Option<&User>,
    events: &mut Vec<NewEvent>,
) -> Result<TicketState, ServiceError> {
    if ticket.status == TicketStatus::Closed && !message.internal {
        return Err(ServiceError::Conflict(
            "the ticket is closed; reopen it before replying".to_owned(),
        ));
    }
    let mut state = TicketState::of(ticket);
    let now = Stamp::now();
    match customer {
        Some(customer) => {
            events.extend(notifications::customer_replied(
                ticket, message.id, customer,
            ));
            let woken = ticket.status.after_customer_reply();
            if woken != ticket.status {
                let woke = Change {
                    from: ticket.status,
                    to: woken,
                };
                events.push(NewEvent::public(
                    ticket.id,
                    Some(customer.id),
                    status_changed(woke),
                ));
                set_status(&mut state, woken, now);
            }
        }
        None if !message.internal && state.first_response_at.is_none() => {
            state.first_response_at = Some(now);
        }
        None => {}
    }
    Ok(state)
}

impl Messages<'_> {
    /// A page of a ticket's messages, oldest first; internal notes for staff only.
    ///
    /// # Errors
    /// `NotFound` for a ticket the caller may not see.
    pub async fn list(
        self,
        actor: &Principal,
        ticket_id: Uuid,
        page: PageRequest<Uuid>,
    ) -> Result<Page<Message>, ServiceError> {
        visible(actor, self.service.store.tickets().get(ticket_id).await?)?;
        let rows = self
            .service
            .store
            .messages()
            .list(ticket_id, sees_internal(actor), page.after, page.limit + 1)
            .await?;
        let rows = self.with_deliveries(actor, rows).await?;
        Ok(Page::from_rows(rows, page.limit, |message| message.id))
    }

    /// For staff, each message with what became of the mail it caused (one query for all);
    /// customers never see deliveries.
    async fn with_deliveries(
        self,
        actor: &Principal,
        mut messages: Vec<Message>,
    ) -> Result<Vec<Message>, ServiceError> {
        if !sees_internal(actor) {
            return Ok(messages);
        }
        let ids: Vec<Uuid> = messages.iter().map(|message| message.id).collect();
        let mut deliveries = self.service.store.mail().deliveries(&ids).await?;
        for message in &mut messages {
            message.delivery = deliveries.remove(&message.id);
        }
        Ok(messages)
    }

    /// Posts a reply or an internal note with its files. A customer's reply wakes a pending or
    /// resolved ticket; the first public reply by staff sets `first_response_at`. A closed
    /// ticket takes internal notes only.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for internal notes from customers; `Conflict` for replies to a
    /// closed ticket; `Validation`; `TooLarge` for files over the limit.
    pub async fn post(
        self,
        actor: &Principal,
        ticket_id: Uuid,
        draft: MessageDraft,
        idempotency_key: Option<&str>,
    ) -> Result<Message, ServiceError> {
        self.post_by(
            actor,
            ticket_id,
            draft,
            idempotency_key,
            MessageChannel::Web,
        )
        .await
    }

    /// As `post`, for a message that came by `channel` (the widget, an email).
    ///
    /// # Errors
    /// As `post`.
    pub async fn post_by(
        self,
        actor: &Principal,
        ticket_id: Uuid,
        draft: MessageDraft,
        idempotency_key: Option<&str>,
        channel: MessageChannel,
    ) -> Result<Message, ServiceError> {
        let staff = sees_internal(actor);
        let current = visible(actor, self.service.store.tickets().get(ticket_id).await?)?;
        if draft.internal && !staff {
            return Err(ServiceError::Forbidden("only staff write internal notes"));
        }
        let body = MessageBody::parse(&draft.body)
            .map_err(|error| ValidationErrors::single("body", error.to_string()))?;
        if draft.files.len() > MAX_FILES {
            return Err(ValidationErrors::single(
                "files",
                format!("at most {MAX_FILES} files per message"),
            )
            .into());
        }
        let total: usize = draft.files.iter().map(|file| file.bytes.len()).sum();
        if total > self.service.attachments.max_bytes {
            return Err(ServiceError::TooLarge(format!(
                "attachments may total at most {} bytes",
                self.service.attachments.max_bytes
            )));
        }
        let written = self.store_files(draft.files).await?;
        let attachments = written.attachments.clone();
        // Refused, replayed or failed: the files this request wrote and nothing names go;
        // written: its files are on disk (`settle_files`).
        let posted: Result<Message, ServiceError> = async {
            let claim = idempotency::claim(
                actor.user.id,
                idempotency_key,
                "post_message",
                &Fingerprint {
                    ticket_id,
                    body: &draft.body,
                    internal: draft.internal,
                    files: attachments
                        .iter()
                        .map(|a| {
                            (
                                a.filename.as_str(),
                                a.content_type.as_str(),
                                a.sha256.as_str(),
                            )
                        })
                        .collect(),
                },
            )?;
            let message = NewMessage {
                id: Uuid::now_v7(),
                ticket_id,
                author_id: actor.user.id,
                body: body.into_inner(),
                internal: draft.internal,
                channel,
            };

            let mentions = if message.internal {
                self.service
                    .notifications()
                    .for_mentions(&current, message.id, &message.body, &actor.user)
                    .await?
            } else {
                Vec::new()
            };
            // An agent's public reply may go out by mail, queued with the message.
            let mail = if staff {
                let files: Vec<Uuid> = attachments.iter().map(|file| file.id).collect();
                outbound::reply(self.service, &current, &message, &actor.user, &files).await?
            } else {
                None
            };
            let message_id = message.id;
            // The mail is queued in the change's transaction: its delivery reads back as queued.
            let queued = mail
                .as_ref()
                .map(|mail| (mail.id, mail.kind, mail.recipient.clone()));
            // The message as it is read back, but for its time, which the store's transaction sets:
            // answering from it saves reading the message and its files again.
            let author = Author {
                id: actor.user.id,
                name: actor.user.name.clone(),
                role: actor.user.role,
            };
            let files: Vec<Attachment> = attachments
                .iter()
                .map(|file| Attachment {
                    id: file.id,
                    filename: file.filename.clone(),
                    content_type: file.content_type.clone(),
                    size: file.size,
                    sha256: file.sha256.clone(),
                    message_id,
                })
                .collect();
            let (body, internal) = (message.body.clone(), message.internal);
            let record = MessageRecord {
                message,
                attachments,
            };
            let outcome = self
                .service
                .store
                .tickets()
                .change(
                    ticket_id,
                    claim.as_ref().map(|claim| (claim, message_id)),
                    |ticket| {
                        if !can_see(actor, ticket) {
                            return Err(ServiceError::NotFound("ticket"));
                        }
                        let mut events = mentions;
                        let customer = (!staff).then_some(&actor.user);
                        let state = reply_rules(ticket, &record.message, customer, &mut events)?;
                        Ok(TicketChange {
                            state,
                            events,
                            message: Some(record),
                            notes: Vec::new(),
                            mail: mail.into_iter().collect(),
                            inbound: None,
                        })
                    },
                )
                .await?;
            match outcome {
                Changed::Applied {
                    message_id: Some(_),
                    at,
                } => Ok(Message {
                    id: message_id,
                    ticket_id,
                    author,
                    body,
                    internal,
                    created_at: at.into(),
                    attachments: files,
                    channel,
                    delivery: queued.map(|(mail_id, kind, recipient)| Delivery {
                        mail_id,
                        kind,
                        recipient,
                        status: DeliveryStatus::Queued,
                        attempts: 0,
                        last_error: None,
                        created_at: at.into(),
                        sent_at: None,
                    }),
                }),
                Changed::Replayed(id) => {
                    let first = self.service.store.messages().get(id).await?;
                    let first = first.ok_or(ServiceError::NotFound("message"))?;
                    let mut answer = self.with_deliveries(actor, vec![first]).await?;
                    answer.pop().ok_or(ServiceError::NotFound("message"))
                }
                Changed::KeyReused => Err(idempotency::reused()),
                Changed::Refused(refusal) => Err(refusal),
                Changed::Applied {
                    message_id: None, ..
                }
                | Changed::Unchanged
                | Changed::NotFound => Err(ServiceError::NotFound("ticket")),
            }
        }
        .await;
        self.settle_files(written).await;
        posted
    }

    /// Stores the files' bytes (off the async threads) and names them safely.
    pub(crate) async fn store_files(
        self,
        files: Vec<crate::messages::Upload>,
    ) -> Result<WrittenFiles, ServiceError> {
        let store = self.service.attachments.files.clone();
        blocking(move || {
            let mut written = WrittenFiles {
                attachments: Vec::with_capacity(files.len()),
                created: HashSet::new(),
                contents: HashMap::new(),
            };
            for file in files {
                let (sha256, new) = store.put_new(&file.bytes)?;
                if new {
                    written.created.insert(sha256.clone());
                }
                written.attachments.push(NewAttachment {
                    id: Uuid::now_v7(),
                    filename: clean_filename(&file.filename),
                    content_type: clean_content_type(&file.content_type),
                    size: i64::try_from(file.bytes.len()).unwrap_or(i64::MAX),
                    sha256: sha256.clone(),
                });
                written.contents.insert(sha256, file.bytes);
            }
            Ok(written)
        })
        .await
    }

    /// After a change, written or not, leaves on disk exactly the contents records name.
    /// A file is stored once per content and shared by every attachment with those bytes, and
    /// changes run side by side in several processes (the same mail taken in by two mailboxes'
    /// fetchers, the same file posted twice): a change that is not written removes the files
    /// it created that nothing names, then puts back any that a change committed meanwhile;
    /// every change puts back the named contents it holds that are missing. Between the two,
    /// a content some committed record names is always on disk once both have settled.
    /// Failing leaves a file too many or one to be put back by the next change with its bytes;
    /// it is logged, not answered.
    pub(crate) async fn settle_files(self, written: WrittenFiles) {
        if written.contents.is_empty() {
            return;
        }
        if let Err(error) = self.try_settle_files(written).await {
            tracing::warn!(%error, "the files of a change are not settled");
        }
    }

    async fn try_settle_files(self, written: WrittenFiles) -> Result<(), ServiceError> {
        let WrittenFiles {
            created, contents, ..
        } = written;
        let messages = self.service.store.messages();
        let held: Vec<String> = contents.keys().cloned().collect();
        let named = messages.named_contents(&held).await?;
        let files = self.service.attachments.files.clone();
        let (contents, removed) = blocking(move || {
            let mut removed = Vec::new();
            for sha256 in &held {
                if named.contains(sha256) {
                    if files.locate(sha256).is_none() {
                        files.put(&contents[sha256])?;
                    }
                } else if created.contains(sha256) {
                    files.remove(sha256)?;
                    removed.push(sha256.clone());
                }
            }
            Ok((contents, removed))
        })
        .await?;
        if removed.is_empty() {
            return Ok(());
        }
        let named_since = messages.named_contents(&removed).await?;
        let files = self.service.attachments.files.clone();
        blocking(move || {
            named_since
                .iter()
                .try_for_each(|sha256| files.put(&contents[sha256]).map(drop))
        })
        .await
    }

    /// An attachment the caller may download, with the path of its bytes.
    ///
    /// # Errors
    /// `NotFound` unless the caller may see the message it belongs to.
    pub async fn attachment(
        self,
        actor: &Principal,
        id: Uuid,
    ) -> Result<(Attachment, PathBuf), ServiceError> {
        let stored = self
            .service
            .store
            .messages()
            .attachment(id)
            .await?
            .ok_or(ServiceError::NotFound("attachment"))?;
        visible(
            actor,
            self.service.store.tickets().get(stored.ticket_id).await?,
        )
        .map_err(|_| ServiceError::NotFound("attachment"))?;
        if stored.internal && !sees_internal(actor) {
            return Err(ServiceError::NotFound("attachment"));
        }
        let path = self
            .service
            .attachments
            .files
            .locate(&stored.attachment.sha256)
            .ok_or_else(|| {
                ServiceError::Internal(format!("attachment {id} has no stored file").into())
            })?;
        Ok((stored.attachment, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_filename("a\u{0}b\r\n.txt"), "ab.txt");
        assert_eq!(clean_filename("...hidden"), "hidden");
        assert_eq!(clean_filename(""), "attachment");
    }

    #[test]
    fn content_types_are_media_types_or_octet_stream() {
        assert_eq!(clean_content_type("Image/PNG; charset=x"), "image/png");
        assert_eq!(
            clean_content_type("text/html\r\nX-Evil: 1"),
            "application/octet-stream"
        );
        assert_eq!(clean_content_type("nonsense"), "application/octet-stream");
    }
}
