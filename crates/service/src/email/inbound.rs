//! Receiving one mail: parsed off the async threads, threaded onto its ticket (or opening one),
//! and written in one transaction with the record that it was received — so a mail fetched
//! twice, or by two fetchers at once, is taken in once: the second finds the record, or its
//! transaction meets it and writes nothing.
//!
//! Nothing received is ever answered here but by the acknowledgement of a new ticket, and
//! never when the mail is automatic, a bounce, list mail, or from one of our own addresses.

use growdesk_domain::{
    Email, Mailbox, MessageBody, MessageChannel, PersonName, Tags, Ticket, TicketSource, User,
    is_own_address,
};
use growdesk_mail::inbound::{Address, MailClass, ParsedMail, parse};
use growdesk_store::StoreError;
use growdesk_store::mail::{InboundKind, InboundRecord};
use growdesk_store::messages::{NewAttachment, NewMessage};
use growdesk_store::tickets::{Changed, MessageRecord, NewTicket, TicketChange};
use uuid::Uuid;

use super::automatic::Bounced;
use super::content::{self, Content, Stored};
use super::threading::{Decision, decide};
use super::{BOUNCED, EmailChannel, outbound, templates};
use crate::ServiceError;
use crate::messages::reply_rules;

/// What became of a received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Taken in before (maybe by another fetcher at the same moment): nothing was written.
    Duplicate,
    /// It opened a ticket.
    Opened { ticket_id: Uuid },
    /// It became a message on a ticket: a reply, or an internal note for mail from a staff
    /// address that could not be verified.
    Joined { ticket_id: Uuid, message_id: Uuid },
    /// An automatic reply, noted on its ticket (`None`: it threads to none and was dropped).
    AutoReply { ticket_id: Option<Uuid> },
    /// A delivery failure report; the mail we sent that it marked bounced, if it names one.
    Bounce { mail_id: Option<Uuid> },
    /// Dropped, and why.
    Ignored(&'static str),
}

/// How a message from a mail is written on its ticket.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Voice<'a> {
    /// A customer's public reply.
    Customer(&'a User),
    /// A staff member's public reply.
    Staff(&'a User),
    /// An internal note by the system account.
    Note(Uuid),
}

impl Voice<'_> {
    fn author(self) -> Uuid {
        match self {
            Self::Customer(user) | Self::Staff(user) => user.id,
            Self::Note(system) => system,
        }
    }
}

/// The sender's address, from `From` (or `Reply-To` when a mail has no `From`).
fn sender(mail: &ParsedMail) -> Option<&Address> {
    mail.from.as_ref().or(mail.reply_to.as_ref())
}

/// A note's text: `heading`, a blank line, then the mail's text.
pub(crate) fn noted(heading: &str, text: &str) -> String {
    if text.trim().is_empty() {
        heading.to_owned()
    } else {
        format!("{heading}\n\n{text}")
    }
}

/// What came of writing a message from a mail on a ticket.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Joined {
    /// Written as message `message_id`.
    Written { message_id: Uuid },
    /// The mail was recorded meanwhile (a racing fetcher): nothing was written.
    Duplicate,
    /// The ticket was closed (for a reply) or deleted meanwhile: nothing was written.
    Refused,
}

impl EmailChannel<'_> {
    /// Takes in one raw mail received by mailbox `mailbox_id`.
    ///
    /// # Errors
    /// `NotFound` for an unknown mailbox; `Conflict` when a request racing this one created the
    /// sender's account at the same moment; the database or the file store failed. Nothing is
    /// recorded then, so the mail is taken in when received again.
    pub async fn receive(self, mailbox_id: Uuid, raw: Vec<u8>) -> Result<Received, ServiceError> {
        let store = &self.service.store;
        let mailbox = store
            .mailboxes()
            .get(mailbox_id)
            .await?
            .ok_or(ServiceError::NotFound("mailbox"))?;
        let (mut mail, raw) = tokio::task::spawn_blocking(move || (parse(&raw), raw)).await?;
        if store
            .mail()
            .inbound_seen(mailbox_id, &mail.message_id)
            .await?
        {
            return Ok(Received::Duplicate);
        }
        let Some(from) = sender(&mail).cloned() else {
            return self.ignore(&mailbox, &mail, "the mail has no sender").await;
        };
        if is_own_address(&from.email, &store.mailboxes().addresses().await?) {
            return self
                .ignore(&mailbox, &mail, "mail from one of our own addresses")
                .await;
        }
        let mut remarks = Vec::new();
        let mut uploads = content::files(
            std::mem::take(&mut mail.attachments),
            self.service.attachments.max_bytes,
            &mut remarks,
        );
        uploads.push(content::original(raw));
        let written = self.service.messages().store_files(uploads).await?;
        let mut attachments = written.attachments.clone();
        let original = attachments
            .pop()
            .ok_or_else(|| ServiceError::Internal("the raw mail was not stored".into()))?;
        let files = Stored {
            attachments,
            original,
        };
        let received = self.take_in(&mailbox, &mail, &from, files, remarks).await;
        // Ignored after all, a duplicate, or failed: its files are removed with it (unless
        // another record names the same content); taken in: its files are on disk.
        self.service.messages().settle_files(written).await;
        received
    }

    /// Takes in `mail`, its files stored, as what it is: a bounce, an automatic reply, or a
    /// person's mail.
    async fn take_in(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        from: &Address,
        files: Stored,
        mut remarks: Vec<String>,
    ) -> Result<Received, ServiceError> {
        match mail.kind.clone() {
            MailClass::Bounce {
                original_message_id,
                permanent,
                diagnostic,
            } => {
                let bounce = Bounced {
                    original: original_message_id,
                    permanent,
                    diagnostic,
                };
                self.bounce(mailbox, mail, bounce, files).await
            }
            MailClass::AutoReply => self.auto_reply(mailbox, mail, from, files).await,
            MailClass::Regular => {
                let body = content::body(&mail.text, &mail.full_text, &mut remarks)?;
                let content = Content {
                    body,
                    files,
                    remarks,
                };
                self.regular(mailbox, mail, from, content).await
            }
        }
    }

    /// Records `mail` as taken in and dropped, for `reason`.
    async fn ignore(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        reason: &'static str,
    ) -> Result<Received, ServiceError> {
        let record = record(mailbox, mail, InboundKind::Ignored);
        self.service
            .store
            .mail()
            .record_inbound(&record, None)
            .await?;
        tracing::info!(mailbox_id = %mailbox.id, reason, "inbound mail ignored");
        Ok(Received::Ignored(reason))
    }

    /// Mail written by a person: a message on its ticket, or a new ticket.
    async fn regular(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        from: &Address,
        content: Content,
    ) -> Result<Received, ServiceError> {
        let store = &self.service.store;
        let Ok(email) = Email::parse(&from.email) else {
            return self
                .ignore(mailbox, mail, "the sender's address is not valid")
                .await;
        };
        let account = store
            .users()
            .credentials_by_email(email.as_str())
            .await?
            .map(|credentials| credentials.user);
        if account.as_ref().is_some_and(|user| !user.active) {
            return self
                .ignore(mailbox, mail, "the sender's account is deactivated")
                .await;
        }
        // A person writing from an address proves it works again: mail to it may resume.
        store
            .mail()
            .lift_suppression(email.as_str(), BOUNCED)
            .await?;
        let staff_address = account.as_ref().is_some_and(|user| user.role.is_staff());
        let record = record(mailbox, mail, InboundKind::Message);
        let thread = self.thread(mailbox.address.as_str(), mail).await?;
        let decision = decide(&thread, email.as_str(), account.as_ref());
        let sender = match account {
            Some(user) => user,
            None => {
                self.new_customer(&email, from, mail.content_language.as_deref())
                    .await?
            }
        };
        if let Some(ticket) = thread.ticket().filter(|_| decision != Decision::Open) {
            let note = content::remarks_note(&content.remarks)?;
            let (voice, body) = match decision {
                Decision::StaffReply => (Voice::Staff(&sender), content.body.clone()),
                Decision::UnverifiedStaffNote => {
                    let system = store.users().system_user().await?;
                    let text = unverified_text(&sender, &content.body);
                    (
                        Voice::Note(system),
                        content::body(&text, "", &mut Vec::new())?,
                    )
                }
                Decision::CustomerReply | Decision::Open => {
                    (Voice::Customer(&sender), content.body.clone())
                }
            };
            let files = content.files.clone();
            match self
                .join(ticket, voice, body, files, note, record.clone())
                .await?
            {
                Joined::Written { message_id } => {
                    return Ok(Received::Joined {
                        ticket_id: ticket.id,
                        message_id,
                    });
                }
                Joined::Duplicate => return Ok(Received::Duplicate),
                // Closed or deleted meanwhile: the mail opens a ticket of its own instead.
                Joined::Refused => {}
            }
        }
        self.open(mailbox, mail, &sender, staff_address, content, record)
            .await
    }

    /// Writes a message from a mail on `ticket` in `voice`, with the mail's files and `note`
    /// (what did not fit) as an internal note beside it, under the rules of every new message.
    /// An agent's reply, which goes to the customer, carries only the attachments: the raw mail
    /// (their whole thread, signature and servers) is kept on the note, for staff.
    pub(crate) async fn join(
        self,
        ticket: &Ticket,
        voice: Voice<'_>,
        body: MessageBody,
        files: Stored,
        note: Option<MessageBody>,
        record: InboundRecord,
    ) -> Result<Joined, ServiceError> {
        let store = &self.service.store;
        let message = NewMessage {
            id: Uuid::now_v7(),
            ticket_id: ticket.id,
            author_id: voice.author(),
            body: body.into_inner(),
            internal: matches!(voice, Voice::Note(_)),
            channel: MessageChannel::Email,
        };
        let (customer, mail) = match voice {
            Voice::Customer(user) => (Some(user), Vec::new()),
            // An agent's reply by mail goes to the customer as one from the console would.
            Voice::Staff(agent) => {
                let attachment_ids: Vec<Uuid> =
                    files.attachments.iter().map(|file| file.id).collect();
                let reply =
                    outbound::reply(self.service, ticket, &message, agent, &attachment_ids).await?;
                (None, reply.into_iter().collect())
            }
            Voice::Note(_) => (None, Vec::new()),
        };
        let (attachments, audit) = match voice {
            Voice::Staff(_) => (files.attachments, vec![files.original]),
            Voice::Customer(_) | Voice::Note(_) => (files.all(), Vec::new()),
        };
        let note = match note {
            Some(note) => Some(note),
            None if !audit.is_empty() => Some(content::body(
                "The agent's reply as it was received by email.",
                "",
                &mut Vec::new(),
            )?),
            None => None,
        };
        let notes = match note {
            Some(text) => {
                let system = store.users().system_user().await?;
                vec![system_note(ticket.id, system, text, audit)]
            }
            None => Vec::new(),
        };
        let message_id = message.id;
        let outcome = store
            .tickets()
            .change(ticket.id, None, |current| {
                let mut events = Vec::new();
                let state = reply_rules(current, &message, customer, &mut events)?;
                Ok::<_, ServiceError>(TicketChange {
                    state,
                    events,
                    message: Some(MessageRecord {
                        message,
                        attachments,
                    }),
                    notes,
                    mail,
                    inbound: Some(record),
                })
            })
            .await;
        match outcome {
            Ok(Changed::Applied { .. }) => Ok(Joined::Written { message_id }),
            Ok(Changed::NotFound | Changed::Refused(_)) => Ok(Joined::Refused),
            Ok(Changed::Unchanged | Changed::Replayed(_) | Changed::KeyReused) => Err(
                ServiceError::Internal("a mail's message was not written".into()),
            ),
            // The store refuses a mail recorded meanwhile by a racing fetcher.
            Err(StoreError::Conflict) => Ok(Joined::Duplicate),
            Err(error) => Err(error.into()),
        }
    }

    /// Opens a ticket from `mail` for `requester`. From a staff address (`staff_address`) the
    /// ticket is opened by the system account and the text goes in an internal note, never in
    /// the requester's words.
    async fn open(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        requester: &User,
        staff_address: bool,
        content: Content,
        record: InboundRecord,
    ) -> Result<Received, ServiceError> {
        let store = &self.service.store;
        let id = Uuid::now_v7();
        let system = store.users().system_user().await?;
        let mut notes = Vec::new();
        let (description, attachments, opener) = if staff_address {
            let text = unverified_text(requester, &content.body);
            let body = content::body(&text, "", &mut Vec::new())?;
            notes.push(system_note(id, system, body, content.files.all()));
            let placeholder = "A mail from a staff address that could not be verified opened \
                               this ticket; its text is in the internal note.";
            let opener = store
                .users()
                .get(system)
                .await?
                .ok_or(ServiceError::NotFound("system account"))?;
            (
                content::body(placeholder, "", &mut Vec::new())?,
                Vec::new(),
                opener,
            )
        } else {
            (content.body, content.files.all(), requester.clone())
        };
        if let Some(note) = content::remarks_note(&content.remarks)? {
            notes.push(system_note(id, system, note, Vec::new()));
        }
        let new = NewTicket {
            id,
            subject: content::subject(&mail.subject)?,
            priority: mailbox.default_priority,
            category_id: mailbox.default_category_id,
            requester_id: requester.id,
            source: TicketSource::Email,
            tags: Tags::default(),
            actor_id: opener.id,
            description,
            extra_events: Vec::new(),
            visitor_id: None,
            context: None,
            channel: MessageChannel::Email,
            mailbox_id: Some(mailbox.id),
            mail: Vec::new(),
            inbound: Some(record.clone()),
            attachments,
            notes,
        };
        let ticket = match self.service.tickets().open(new, &opener, None, None).await {
            Ok(ticket) => ticket,
            // The store refuses a mail recorded meanwhile by a racing fetcher (the record is
            // the only unique value a new ticket from a mail writes).
            Err(ServiceError::Internal(cause))
                if matches!(cause.downcast_ref(), Some(StoreError::Conflict)) =>
            {
                return Ok(Received::Duplicate);
            }
            Err(error) => return Err(error),
        };
        // After the commit: the acknowledgement names the number the ticket was given. The mail
        // is taken in by now, so failing to queue it loses the acknowledgement, not the mail.
        if !staff_address
            && !mail.bulk
            && let Err(error) = outbound::acknowledge(self.service, mailbox, &ticket).await
        {
            tracing::warn!(ticket_id = %ticket.id, %error, "acknowledgement not queued");
        }
        Ok(Received::Opened {
            ticket_id: ticket.id,
        })
    }

    /// A customer for a new address, named as the mail's `From` names them, mailed in the
    /// language the mail says it is in when we write that one.
    async fn new_customer(
        self,
        email: &Email,
        from: &Address,
        language: Option<&str>,
    ) -> Result<User, ServiceError> {
        let name = from
            .name
            .as_deref()
            .and_then(|name| PersonName::parse(name).ok())
            .map(PersonName::into_inner);
        let customer = self
            .service
            .tickets()
            .customer_for_email(email.as_str(), name.as_deref(), "requester")
            .await?;
        if let Some(tag) = language {
            let locale = templates::locale_for(Some(tag));
            if tag.trim().to_ascii_lowercase().starts_with(locale) {
                self.service
                    .store
                    .users()
                    .set_locale(customer.id, Some(locale))
                    .await?;
            }
        }
        Ok(customer)
    }
}

/// The record that `mail` was received by `mailbox`, as `kind`.
pub(crate) fn record(mailbox: &Mailbox, mail: &ParsedMail, kind: InboundKind) -> InboundRecord {
    InboundRecord {
        mailbox_id: mailbox.id,
        message_id: mail.message_id.clone(),
        kind,
    }
}

/// An internal note by the system account on ticket `ticket_id`.
fn system_note(
    ticket_id: Uuid,
    system: Uuid,
    body: MessageBody,
    attachments: Vec<NewAttachment>,
) -> MessageRecord {
    MessageRecord {
        message: NewMessage {
            id: Uuid::now_v7(),
            ticket_id,
            author_id: system,
            body: body.into_inner(),
            internal: true,
            channel: MessageChannel::Email,
        },
        attachments,
    }
}

/// The note a mail from a staff address that could not be verified becomes.
fn unverified_text(sender: &User, body: &MessageBody) -> String {
    let heading = format!(
        "Mail from a staff address that could not be verified ({}). It is not posted as a \
         reply by {}: it does not answer a mail we sent to that address about this ticket.",
        sender.email, sender.name
    );
    noted(&heading, body.as_str())
}
