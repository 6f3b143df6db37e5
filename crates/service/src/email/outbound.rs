//! Outgoing mail, decided inside the use cases and queued in their transactions: an agent's
//! public reply, the acknowledgement of a ticket opened by mail, the "resolved" notice, and
//! the password reset link. The `send_mail` job of `growdesk-sync run` sends what is queued.
//!
//! Who gets what (the decision table, [`decide`]):
//!
//! | | reply | acknowledgement | resolved |
//! |---|---|---|---|
//! | ticket opened by mail | yes | yes, if the mailbox acknowledges, at most 3 an hour | yes |
//! | widget ticket, visitor away | yes | — | yes |
//! | widget ticket, visitor connected | no: they read it live | — | no |
//! | other tickets (web, API, import) | no | — | no |
//! | internal note | no | — | — |
//! | address unsubscribed | yes: an answer is no newsletter | no | no |
//! | address bounced for good | no | no | no |
//! | one of our own mailboxes | no (no loops) | no | no |
//! | no mailbox can send | no | no | no |

use growdesk_domain::{MailKind, Mailbox, Ticket, TicketSource, User, is_own_address};
use growdesk_store::Stamp;
use growdesk_store::mail::NewOutboundMail;
use growdesk_store::messages::NewMessage;
use uuid::Uuid;

use super::templates::{Template, Values, locale_for};
use super::{BOUNCED, unsubscribe};
use crate::{Service, ServiceError};

/// Most `Message-ID`s a mail names in `References`: enough for any client to thread it.
const MAX_REFERENCES: u32 = 20;

/// Most acknowledgements one address gets in an hour: two autoresponders writing to each
/// other stop there.
pub const ACKNOWLEDGEMENTS_PER_HOUR: i64 = 3;

/// Most password reset mails one address gets in an hour.
pub const RESETS_PER_HOUR: i64 = 3;

/// Whether `mailbox` can send mail: it is active and has SMTP settings.
fn can_send(mailbox: &Mailbox) -> bool {
    mailbox.active && mailbox.smtp.is_some()
}

/// The mailbox mail goes out from. For a ticket with a mailbox of its own (`preferred`, the one
/// its mail came in by): that mailbox when it can send (active, with SMTP settings), else the
/// first of the same domain that can, so a customer of one brand is never written to from
/// another's address. Otherwise (a password reset, a ticket from the widget): the first mailbox
/// that can send, oldest first. `None`: no mailbox can send, and no mail is queued.
pub fn sending_mailbox(mailboxes: &[Mailbox], preferred: Option<Uuid>) -> Option<&Mailbox> {
    let domain = |mailbox: &Mailbox| split_address(mailbox.address.as_str()).1.to_owned();
    match preferred.and_then(|id| mailboxes.iter().find(|m| m.id == id)) {
        Some(own) if can_send(own) => Some(own),
        Some(own) => mailboxes
            .iter()
            .find(|m| can_send(m) && domain(m) == domain(own)),
        None => mailboxes.iter().find(|m| can_send(m)),
    }
}

/// The local part and the domain of `address`.
fn split_address(address: &str) -> (&str, &str) {
    address.rsplit_once('@').unwrap_or((address, "localhost"))
}

/// Our `Message-ID` for mail `id` sent from `mailbox`: `<{id}@{domain}>`, unique, and what a
/// reply names in `In-Reply-To` to find its ticket again.
pub fn header_message_id(id: Uuid, mailbox: &Mailbox) -> String {
    let (_, domain) = split_address(mailbox.address.as_str());
    format!("<{id}@{domain}>")
}

/// The `Reply-To` of mail about ticket `number`: the mailbox's address plus `t{number}`
/// (`support+t42@example.com`), so an answer finds the ticket even when a client drops the
/// threading headers.
pub fn reply_to(mailbox: &Mailbox, number: i64) -> String {
    let (local, domain) = split_address(mailbox.address.as_str());
    format!("{local}+t{number}@{domain}")
}

/// Why no mail goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// An internal note is never mailed.
    Internal,
    /// The requester reads the ticket elsewhere (the portal, the API, an import's source).
    NotByMail,
    /// A widget visitor with a socket open reads the reply live.
    Connected,
    /// The mailbox does not acknowledge new tickets.
    AcknowledgementsOff,
    /// The address had its share of acknowledgements this hour.
    TooMany,
    /// One of our own mailboxes: mailing it would loop.
    OwnAddress,
    /// The address bounced for good.
    Bounced,
    /// The address unsubscribed from notices.
    Unsubscribed,
    /// No mailbox can send.
    NoMailbox,
}

/// What a decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The message is an internal note (replies only).
    pub internal: bool,
    pub source: TicketSource,
    /// The requester, or the widget visitor speaking for them, has a socket open.
    pub connected: bool,
    /// The mailbox acknowledges new tickets (acknowledgements only).
    pub acknowledge: bool,
    /// Acknowledgements the address got in the last hour.
    pub recent: i64,
    /// The recipient is one of our mailboxes.
    pub own_address: bool,
    /// Why the recipient is suppressed, if it is.
    pub suppression: Option<&'a str>,
    /// A mailbox can send.
    pub can_send: bool,
}

/// Whether mail of `kind` about a ticket goes to its requester (see the table above).
///
/// # Errors
/// Why it does not.
pub fn decide(kind: MailKind, facts: &Facts<'_>) -> Result<(), Skip> {
    let notice = matches!(kind, MailKind::Acknowledgement | MailKind::Resolved);
    if kind == MailKind::Reply && facts.internal {
        return Err(Skip::Internal);
    }
    match facts.source {
        TicketSource::Email => {}
        TicketSource::Widget if kind != MailKind::Acknowledgement => {
            if facts.connected {
                return Err(Skip::Connected);
            }
        }
        _ => return Err(Skip::NotByMail),
    }
    if kind == MailKind::Acknowledgement {
        if !facts.acknowledge {
            return Err(Skip::AcknowledgementsOff);
        }
        if facts.recent >= ACKNOWLEDGEMENTS_PER_HOUR {
            return Err(Skip::TooMany);
        }
    }
    if facts.own_address {
        return Err(Skip::OwnAddress);
    }
    match facts.suppression {
        Some(BOUNCED) => return Err(Skip::Bounced),
        Some(_) if notice => return Err(Skip::Unsubscribed),
        _ => {}
    }
    if !facts.can_send {
        return Err(Skip::NoMailbox);
    }
    Ok(())
}

/// What every mail to one recipient needs to know from the store.
struct Recipient {
    email: String,
    locale: &'static str,
    suppression: Option<String>,
    own_address: bool,
}

impl Recipient {
    /// The user `user_id` at `email`, among our `mailboxes`.
    async fn of(
        service: &Service,
        user_id: Uuid,
        email: &str,
        mailboxes: &[Mailbox],
    ) -> Result<Self, ServiceError> {
        let email = email.trim().to_lowercase();
        let store = &service.store;
        let suppression = store
            .mail()
            .suppressions(std::slice::from_ref(&email))
            .await?
            .remove(&email);
        let locale = locale_for(store.users().locale(user_id).await?.as_deref());
        let ours: Vec<String> = mailboxes
            .iter()
            .map(|mailbox| mailbox.address.as_str().to_owned())
            .collect();
        let own_address = is_own_address(&email, &ours);
        Ok(Self {
            email,
            locale,
            suppression,
            own_address,
        })
    }
}

/// A mail about a ticket, before it is rendered.
struct TicketMail<'a> {
    kind: MailKind,
    ticket: &'a Ticket,
    mailbox: &'a Mailbox,
    recipient: &'a Recipient,
    message_id: Option<Uuid>,
    values: Values,
    attachment_ids: Vec<Uuid>,
}

impl TicketMail<'_> {
    /// Renders it in the recipient's language and threads it after the customer's mails on
    /// the ticket; notices carry an unsubscribe link.
    async fn queueable(self, service: &Service) -> Result<NewOutboundMail, ServiceError> {
        let id = Uuid::now_v7();
        let mut values = self.values;
        values
            .requester_name
            .clone_from(&self.ticket.requester.name);
        values.ticket_number = Some(self.ticket.number);
        values.ticket_subject.clone_from(&self.ticket.subject);
        let unsubscribe_url = (self.kind != MailKind::Reply).then(|| {
            let token = unsubscribe::token(&service.keys, &self.recipient.email, self.kind);
            service.email_rules.link("api/unsubscribe", &token)
        });
        if let Some(url) = &unsubscribe_url {
            values.unsubscribe_url.clone_from(url);
        }
        let rendered: Template = service
            .email_templates()
            .render(self.kind, self.recipient.locale, &values)
            .await?;
        let received = service
            .store
            .mail()
            .latest_received_ids(self.ticket.id, MAX_REFERENCES)
            .await?;
        let references = references(&received);
        Ok(NewOutboundMail {
            id,
            mailbox_id: Some(self.mailbox.id),
            ticket_id: Some(self.ticket.id),
            message_id: self.message_id,
            kind: self.kind,
            recipient: self.recipient.email.clone(),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: Some(rendered.html_body),
            header_message_id: header_message_id(id, self.mailbox),
            in_reply_to: references.last().cloned(),
            references,
            reply_to: Some(reply_to(self.mailbox, self.ticket.number)),
            unsubscribe_url,
            attachment_ids: self.attachment_ids,
        })
    }
}

/// The `References` of mail after the customer's mails `received` (oldest first): the last
/// of them, bracketed. An id a mail may not name (no `@`, not ASCII, as some clients send) is
/// left out: it would make every later mail on the ticket unsendable.
fn references(received: &[String]) -> Vec<String> {
    let usable: Vec<&String> = received
        .iter()
        .filter(|id| growdesk_mail::outbound::is_message_id(id))
        .collect();
    usable
        .iter()
        .skip(usable.len().saturating_sub(MAX_REFERENCES as usize))
        .map(|id| format!("<{}>", id.trim_matches(['<', '>'])))
        .collect()
}

/// Whether the requester of `ticket`, or the widget visitor who opened it, has a socket open.
fn connected(service: &Service, ticket: &Ticket) -> bool {
    let presence = &service.email_rules.presence;
    presence.is_connected(ticket.requester.id)
        || ticket
            .visitor_id
            .is_some_and(|visitor| presence.is_connected(visitor))
}

/// Decides mail of `kind` about `ticket` to its requester and makes it, rendered; `None`
/// when the table says no.
async fn ticket_mail(
    service: &Service,
    kind: MailKind,
    ticket: &Ticket,
    facts: Facts<'_>,
    message: Option<&NewMessage>,
    author: Option<&User>,
    attachment_ids: &[Uuid],
) -> Result<Option<NewOutboundMail>, ServiceError> {
    // The checks that need no query come first: most tickets are not mailed at all.
    let cheap = Facts {
        can_send: true,
        ..facts
    };
    if decide(kind, &cheap).is_err() {
        return Ok(None);
    }
    let mailboxes = service.store.mailboxes().list().await?;
    let Some(mailbox) = sending_mailbox(&mailboxes, ticket.mailbox_id) else {
        tracing::debug!(ticket_id = %ticket.id, kind = kind.as_str(), "no mailbox can send; no mail");
        return Ok(None);
    };
    let requester = &ticket.requester;
    let recipient = Recipient::of(service, requester.id, &requester.email, &mailboxes).await?;
    let facts = Facts {
        own_address: recipient.own_address,
        suppression: recipient.suppression.as_deref(),
        ..facts
    };
    if let Err(skip) = decide(kind, &facts) {
        tracing::debug!(ticket_id = %ticket.id, kind = kind.as_str(), ?skip, "no mail");
        return Ok(None);
    }
    let values = Values {
        message_body: message.map(|m| m.body.clone()).unwrap_or_default(),
        agent_name: author.map(|a| a.name.clone()).unwrap_or_default(),
        ..Values::default()
    };
    let mail = TicketMail {
        kind,
        ticket,
        mailbox,
        recipient: &recipient,
        message_id: message.map(|m| m.id),
        values,
        attachment_ids: attachment_ids.to_vec(),
    };
    mail.queueable(service).await.map(Some)
}

/// The mail an agent's public reply `message` on `ticket` sends its requester, with the
/// reply's files; `None` when it sends none (see the table). The caller queues it in the
/// transaction that adds the message.
///
/// # Errors
/// The database failed.
pub async fn reply(
    service: &Service,
    ticket: &Ticket,
    message: &NewMessage,
    author: &User,
    attachment_ids: &[Uuid],
) -> Result<Option<NewOutboundMail>, ServiceError> {
    let facts = Facts {
        internal: message.internal,
        source: ticket.source,
        connected: connected(service, ticket),
        acknowledge: false,
        recent: 0,
        own_address: false,
        suppression: None,
        can_send: true,
    };
    ticket_mail(
        service,
        MailKind::Reply,
        ticket,
        facts,
        Some(message),
        Some(author),
        attachment_ids,
    )
    .await
}

/// The "resolved" notice `agent` resolving `ticket` sends its requester; `None` when it sends
/// none. Only an agent's status change sends it: the auto-close job closes, never resolves,
/// and imports keep the past as it was without mailing anyone about it.
///
/// # Errors
/// The database failed.
pub(crate) async fn resolved(
    service: &Service,
    ticket: &Ticket,
    agent: &User,
) -> Result<Option<NewOutboundMail>, ServiceError> {
    let facts = Facts {
        internal: false,
        source: ticket.source,
        connected: connected(service, ticket),
        acknowledge: false,
        recent: 0,
        own_address: false,
        suppression: None,
        can_send: true,
    };
    ticket_mail(
        service,
        MailKind::Resolved,
        ticket,
        facts,
        None,
        Some(agent),
        &[],
    )
    .await
}

/// Acknowledges `ticket`, just opened by a mail to `mailbox`: queues the acknowledgement when
/// the table says so, and answers whether it did. The ticket's number is drawn by the
/// transaction that creates it, so this runs after it: a crash in between loses an
/// acknowledgement, never sends two. The caller passes only regular mail, never an
/// auto-reply, a bounce or list mail.
///
/// # Errors
/// The database failed.
pub async fn acknowledge(
    service: &Service,
    mailbox: &Mailbox,
    ticket: &Ticket,
) -> Result<bool, ServiceError> {
    let since = Stamp::now().saturating_sub(std::time::Duration::from_secs(3600));
    let recent = if mailbox.acknowledge {
        service
            .store
            .mail()
            .sent_recently(
                &ticket.requester.email.trim().to_lowercase(),
                MailKind::Acknowledgement,
                since,
            )
            .await?
    } else {
        0
    };
    let facts = Facts {
        internal: false,
        source: ticket.source,
        connected: false,
        acknowledge: mailbox.acknowledge,
        recent,
        own_address: false,
        suppression: None,
        can_send: true,
    };
    let mail = ticket_mail(
        service,
        MailKind::Acknowledgement,
        ticket,
        facts,
        None,
        None,
        &[],
    )
    .await?;
    let Some(mail) = mail else {
        return Ok(false);
    };
    service.store.mail().enqueue(vec![mail]).await?;
    Ok(true)
}

/// The password reset mail to `user` carrying `reset_url`, from the first mailbox that can
/// send; `None` when none can, when the address is one of ours, when it bounced for good, or
/// when it had its share of reset mails this hour.
pub(crate) async fn password_reset(
    service: &Service,
    user: &User,
    reset_url: &str,
) -> Result<Option<NewOutboundMail>, ServiceError> {
    let mailboxes = service.store.mailboxes().list().await?;
    let Some(mailbox) = sending_mailbox(&mailboxes, None) else {
        return Ok(None);
    };
    let recipient = Recipient::of(service, user.id, &user.email, &mailboxes).await?;
    if recipient.own_address || recipient.suppression.as_deref() == Some(BOUNCED) {
        return Ok(None);
    }
    let since = Stamp::now().saturating_sub(std::time::Duration::from_secs(3600));
    let recent = service
        .store
        .mail()
        .sent_recently(&recipient.email, MailKind::PasswordReset, since)
        .await?;
    if recent >= RESETS_PER_HOUR {
        return Ok(None);
    }
    let values = Values {
        requester_name: user.name.clone(),
        reset_url: reset_url.to_owned(),
        ..Values::default()
    };
    let rendered = service
        .email_templates()
        .render(MailKind::PasswordReset, recipient.locale, &values)
        .await?;
    let id = Uuid::now_v7();
    Ok(Some(NewOutboundMail {
        id,
        mailbox_id: Some(mailbox.id),
        ticket_id: None,
        message_id: None,
        kind: MailKind::PasswordReset,
        recipient: recipient.email,
        subject: rendered.subject,
        text_body: rendered.text_body,
        html_body: Some(rendered.html_body),
        header_message_id: header_message_id(id, mailbox),
        in_reply_to: None,
        references: Vec::new(),
        reply_to: None,
        unsubscribe_url: None,
        attachment_ids: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(source: TicketSource) -> Facts<'static> {
        Facts {
            internal: false,
            source,
            connected: false,
            acknowledge: true,
            recent: 0,
            own_address: false,
            suppression: None,
            can_send: true,
        }
    }

    use MailKind::{Acknowledgement, Reply, Resolved};

    fn mailbox(address: &str, active: bool, smtp: bool) -> Mailbox {
        Mailbox {
            id: Uuid::now_v7(),
            address: growdesk_domain::Email::parse(address).unwrap(),
            display_name: "Support".to_owned(),
            imap: None,
            smtp: smtp.then(|| growdesk_domain::SmtpSettings {
                host: "smtp.example.com".to_owned(),
                port: 465,
                security: growdesk_domain::TransportSecurity::Tls,
                username: address.to_owned(),
            }),
            has_imap_password: false,
            has_smtp_password: false,
            default_category_id: None,
            default_priority: growdesk_domain::Priority::Medium,
            acknowledge: true,
            active,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn mail_goes_out_from_the_tickets_mailbox_else_the_first_that_can_send() {
        let inactive = mailbox("old@example.com", false, true);
        let receive_only = mailbox("in@example.com", true, false);
        let first = mailbox("help@example.com", true, true);
        let second = mailbox("sales@example.org", true, true);
        let other_brand = mailbox("in@brand.example", true, false);
        let all = [
            inactive.clone(),
            receive_only.clone(),
            first.clone(),
            second.clone(),
            other_brand.clone(),
        ];
        assert_eq!(sending_mailbox(&all, Some(second.id)), Some(&second));
        assert_eq!(sending_mailbox(&all, None), Some(&first));
        assert_eq!(sending_mailbox(&all, Some(Uuid::now_v7())), Some(&first));
        assert_eq!(
            sending_mailbox(&all, Some(other_brand.id)),
            None,
            "never from another brand's address"
        );
        assert_eq!(sending_mailbox(&all, Some(receive_only.id)), Some(&first));
        assert_eq!(sending_mailbox(&all, Some(inactive.id)), Some(&first));
        assert_eq!(sending_mailbox(&[inactive, receive_only], None), None);
    }

    #[test]
    fn references_keep_the_last_usable_ids_bracketed() {
        let received: Vec<String> = (0..30)
            .map(|n| format!("m{n}@customer.example"))
            .chain(["abc".to_owned(), "<ñ@x.example>".to_owned()])
            .collect();
        let kept = references(&received);
        assert_eq!(kept.len(), MAX_REFERENCES as usize);
        assert_eq!(kept[0], "<m10@customer.example>");
        assert_eq!(
            kept.last().map(String::as_str),
            Some("<m29@customer.example>"),
            "ids a mail may not name are left out"
        );
        assert!(references(&["abc".to_owned()]).is_empty());
    }

    #[test]
    fn headers_name_the_mailbox_domain_and_the_ticket() {
        let help = mailbox("help@example.com", true, true);
        let id = Uuid::now_v7();
        assert_eq!(header_message_id(id, &help), format!("<{id}@example.com>"));
        assert_eq!(reply_to(&help, 42), "help+t42@example.com");
    }

    #[test]
    fn replies_go_to_mail_requesters_and_away_visitors_only() {
        use TicketSource::*;
        for kind in [Reply, Resolved] {
            assert_eq!(decide(kind, &facts(Email)), Ok(()), "{kind:?}");
            assert_eq!(decide(kind, &facts(Widget)), Ok(()), "{kind:?}");
            let live = Facts {
                connected: true,
                ..facts(Widget)
            };
            assert_eq!(decide(kind, &live), Err(Skip::Connected), "{kind:?}");
            for source in [Web, Api, Import] {
                assert_eq!(decide(kind, &facts(source)), Err(Skip::NotByMail));
            }
        }
        let note = Facts {
            internal: true,
            ..facts(Email)
        };
        assert_eq!(decide(Reply, &note), Err(Skip::Internal));
        let connected_mailer = Facts {
            connected: true,
            ..facts(Email)
        };
        assert_eq!(
            decide(Reply, &connected_mailer),
            Ok(()),
            "a ticket opened by mail is answered by mail"
        );
    }

    #[test]
    fn acknowledgements_are_for_mail_only_when_enabled_and_few() {
        assert_eq!(decide(Acknowledgement, &facts(TicketSource::Email)), Ok(()));
        assert_eq!(
            decide(Acknowledgement, &facts(TicketSource::Widget)),
            Err(Skip::NotByMail)
        );
        let off = Facts {
            acknowledge: false,
            ..facts(TicketSource::Email)
        };
        assert_eq!(
            decide(Acknowledgement, &off),
            Err(Skip::AcknowledgementsOff)
        );
        let third = Facts {
            recent: ACKNOWLEDGEMENTS_PER_HOUR - 1,
            ..facts(TicketSource::Email)
        };
        assert_eq!(decide(Acknowledgement, &third), Ok(()));
        let fourth = Facts {
            recent: ACKNOWLEDGEMENTS_PER_HOUR,
            ..facts(TicketSource::Email)
        };
        assert_eq!(decide(Acknowledgement, &fourth), Err(Skip::TooMany));
    }

    #[test]
    fn suppressed_own_and_unsendable_addresses() {
        let email = facts(TicketSource::Email);
        for kind in [Reply, Acknowledgement, Resolved] {
            let own = Facts {
                own_address: true,
                ..email
            };
            assert_eq!(decide(kind, &own), Err(Skip::OwnAddress), "{kind:?}");
            let bounced = Facts {
                suppression: Some(BOUNCED),
                ..email
            };
            assert_eq!(decide(kind, &bounced), Err(Skip::Bounced), "{kind:?}");
            let stuck = Facts {
                can_send: false,
                ..email
            };
            assert_eq!(decide(kind, &stuck), Err(Skip::NoMailbox), "{kind:?}");
        }
        let unsubscribed = Facts {
            suppression: Some(super::super::UNSUBSCRIBED),
            ..email
        };
        assert_eq!(
            decide(Reply, &unsubscribed),
            Ok(()),
            "an agent's answer still reaches an unsubscribed address"
        );
        assert_eq!(
            decide(Acknowledgement, &unsubscribed),
            Err(Skip::Unsubscribed)
        );
        assert_eq!(decide(Resolved, &unsubscribed), Err(Skip::Unsubscribed));
    }
}
