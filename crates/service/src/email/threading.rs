//! Which ticket an incoming mail belongs to, and what its sender may do there.
//!
//! A mail finds its ticket by our Message-IDs in its `In-Reply-To`/`References` (unguessable:
//! only who received our mail knows them) or those of mails we received into a ticket (a
//! customer's follow-up to their own first mail), else by the ticket reference in its subject
//! (`[#123]`), else by the plus address our replies carry (`support+t123@…`). A number is easy
//! to guess, so a ticket found by one is joined only by its requester: a stranger's mail opens a
//! ticket of its own instead of writing into someone else's.
//!
//! A staff member's address is easy to forge in `From`, so mail from one is a staff reply only
//! when it answers a mail we sent to that very address about that ticket; any other mail from a
//! staff address becomes an internal note, never a staff action.

use growdesk_domain::{Ticket, User};
use growdesk_mail::inbound::ParsedMail;
use growdesk_store::mail::OutboundMail;

use super::EmailChannel;
use crate::{ServiceError, policy};

/// Longest ticket number read from a subject or an address (beyond any real desk's).
const MAX_NUMBER_DIGITS: usize = 15;

/// How a mail found its ticket.
#[derive(Debug)]
pub(crate) enum Thread {
    /// Its thread headers name mails we sent about `ticket` (`sent` holds those) or mails we
    /// received into it.
    Headers {
        ticket: Ticket,
        sent: Vec<OutboundMail>,
    },
    /// Its subject or a plus address names `ticket`.
    Referenced(Ticket),
    /// Nothing names a ticket.
    Unthreaded,
}

impl Thread {
    /// The ticket the mail threads to, however it was found.
    pub(crate) fn ticket(&self) -> Option<&Ticket> {
        match self {
            Self::Headers { ticket, .. } | Self::Referenced(ticket) => Some(ticket),
            Self::Unthreaded => None,
        }
    }
}

/// What the rules make of a mail from `sender` on its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A public reply by the staff member who sent it.
    StaffReply,
    /// A reply by the customer who sent it.
    CustomerReply,
    /// An internal note on the ticket: mail from a staff address that could not be verified.
    UnverifiedStaffNote,
    /// A new ticket.
    Open,
}

/// The messages we sent whose Message-IDs the mail's thread headers name, as the store keeps
/// them (`<id>`), most relevant first: the one it answers, then its references from the newest.
pub(crate) fn thread_ids(mail: &ParsedMail) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in mail.in_reply_to.iter().chain(mail.references.iter().rev()) {
        let id = format!("<{}>", id.trim_matches(['<', '>']));
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The ticket number of the last `[#123]` tag in `subject` (our replies put it at the end; a
/// customer's own words come before).
pub(crate) fn subject_number(subject: &str) -> Option<i64> {
    subject
        .match_indices("[#")
        .filter_map(|(at, _)| {
            let rest = &subject[at + 2..];
            let (digits, _) = rest.split_once(']')?;
            number(digits)
        })
        .last()
}

/// The ticket number a recipient like `support+t123@example.com` carries for the mailbox
/// `support@example.com`.
pub(crate) fn plus_number<'a>(
    mailbox: &str,
    mut recipients: impl Iterator<Item = &'a str>,
) -> Option<i64> {
    let (local, domain) = mailbox.rsplit_once('@')?;
    recipients.find_map(|recipient| {
        let (recipient_local, recipient_domain) = recipient.rsplit_once('@')?;
        if !recipient_domain.eq_ignore_ascii_case(domain) {
            return None;
        }
        let tag = recipient_local.strip_prefix(local)?.strip_prefix("+t")?;
        number(tag)
    })
}

/// A positive ticket number written in ASCII digits only.
fn number(digits: &str) -> Option<i64> {
    if digits.is_empty()
        || digits.len() > MAX_NUMBER_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok().filter(|number| *number > 0)
}

/// What a mail from `sender_email` (the account `sender`, when one has that address) does on
/// `thread`.
pub(crate) fn decide(thread: &Thread, sender_email: &str, sender: Option<&User>) -> Decision {
    let staff = sender.is_some_and(|user| user.role.is_staff());
    match thread {
        Thread::Unthreaded => Decision::Open,
        Thread::Headers { ticket, sent } => {
            if !staff {
                return Decision::CustomerReply;
            }
            let answers_our_mail_to_them = sent.iter().any(|mail| {
                mail.mail.ticket_id == Some(ticket.id)
                    && mail.mail.recipient.eq_ignore_ascii_case(sender_email)
            });
            match sender {
                Some(user) if answers_our_mail_to_them && policy::answers_by_mail(user) => {
                    Decision::StaffReply
                }
                _ => Decision::UnverifiedStaffNote,
            }
        }
        Thread::Referenced(ticket) => match sender {
            Some(user) if user.id == ticket.requester.id => {
                if staff {
                    Decision::UnverifiedStaffNote
                } else {
                    Decision::CustomerReply
                }
            }
            _ => Decision::Open,
        },
    }
}

impl EmailChannel<'_> {
    /// The thread of `mail` received by the mailbox at `mailbox_address`.
    pub(crate) async fn thread(
        self,
        mailbox_address: &str,
        mail: &ParsedMail,
    ) -> Result<Thread, ServiceError> {
        let store = &self.service.store;
        let ids = thread_ids(mail);
        if !ids.is_empty() {
            let sent = store.mail().by_header_ids(&ids).await?;
            // The ticket of the most relevant id naming one of our mails about a ticket, else
            // of a mail we received (a customer's follow-up to their own first mail).
            let ticket_id = match ids.iter().find_map(|id| {
                sent.iter()
                    .find(|mail| &mail.mail.header_message_id == id)
                    .and_then(|mail| mail.mail.ticket_id)
            }) {
                Some(ticket_id) => Some(ticket_id),
                None => store.mail().ticket_by_received_ids(&ids).await?,
            };
            if let Some(ticket_id) = ticket_id
                && let Some(ticket) = store.tickets().get(ticket_id).await?
            {
                let sent = sent
                    .into_iter()
                    .filter(|mail| mail.mail.ticket_id == Some(ticket_id))
                    .collect();
                return Ok(Thread::Headers { ticket, sent });
            }
        }
        let recipients = mail.to.iter().chain(&mail.cc).map(|to| to.email.as_str());
        let number =
            subject_number(&mail.subject).or_else(|| plus_number(mailbox_address, recipients));
        if let Some(number) = number
            && let Some(ticket) = store.tickets().by_number(number).await?
        {
            return Ok(Thread::Referenced(ticket));
        }
        Ok(Thread::Unthreaded)
    }
}

#[cfg(test)]
mod tests {
    use growdesk_domain::{
        MailDeliveryStatus, MailKind, Priority, Requester, Role, TicketSource, TicketStatus,
    };
    use growdesk_mail::inbound::MailClass;
    use growdesk_store::Stamp;
    use growdesk_store::mail::NewOutboundMail;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_last_subject_tag_names_the_ticket() {
        assert_eq!(subject_number("Re: Printer on fire [#42]"), Some(42));
        assert_eq!(subject_number("Re: about [#7] again [#42]"), Some(42));
        assert_eq!(subject_number("RE: [#42] still broken"), Some(42));
        assert_eq!(subject_number("Re: [#42"), None);
        assert_eq!(subject_number("Re: [#] [#abc] [#-3] [#0]"), None);
        assert_eq!(subject_number("Re: [#12a] [# 12]"), None);
        assert_eq!(subject_number("[#99999999999999999999]"), None);
        assert_eq!(subject_number("[#١٢]"), None, "only ASCII digits");
        assert_eq!(subject_number(""), None);
    }

    #[test]
    fn a_plus_address_names_a_ticket_of_that_mailbox_only() {
        let mailbox = "support@example.com";
        let number = |to: &[&str]| plus_number(mailbox, to.iter().copied());
        assert_eq!(number(&["support+t42@example.com"]), Some(42));
        assert_eq!(
            number(&["ana@example.org", "support+t42@EXAMPLE.com"]),
            Some(42)
        );
        assert_eq!(number(&["support@example.com"]), None);
        assert_eq!(number(&["support+t42@example.org"]), None, "another domain");
        assert_eq!(number(&["sales+t42@example.com"]), None, "another mailbox");
        assert_eq!(number(&["support+x42@example.com"]), None);
        assert_eq!(number(&["support+t@example.com"]), None);
        assert_eq!(number(&["support+t4x@example.com"]), None);
        assert_eq!(
            plus_number("not an address", ["a+t1@b.c"].into_iter()),
            None
        );
    }

    #[test]
    fn thread_ids_are_bracketed_once_the_answered_one_first() {
        let mut mail = parsed();
        mail.in_reply_to = vec!["b@x".to_owned()];
        mail.references = vec!["a@x".to_owned(), "<b@x>".to_owned(), "c@x".to_owned()];
        assert_eq!(thread_ids(&mail), ["<b@x>", "<c@x>", "<a@x>"]);
        assert!(thread_ids(&parsed()).is_empty());
    }

    #[test]
    fn strangers_never_join_a_ticket_by_its_number() {
        let requester = user(Role::Customer, "ana@example.com");
        let stranger = user(Role::Customer, "eve@example.com");
        let ticket = ticket_of(&requester);
        let thread = Thread::Referenced(ticket);
        assert_eq!(
            decide(&thread, "ana@example.com", Some(&requester)),
            Decision::CustomerReply
        );
        assert_eq!(
            decide(&thread, "eve@example.com", Some(&stranger)),
            Decision::Open
        );
        assert_eq!(decide(&thread, "new@example.com", None), Decision::Open);
        assert_eq!(
            decide(&Thread::Unthreaded, "ana@example.com", Some(&requester)),
            Decision::Open
        );
    }

    #[test]
    fn whoever_answers_our_mail_joins_as_a_customer() {
        let requester = user(Role::Customer, "ana@example.com");
        let ticket = ticket_of(&requester);
        let sent = vec![sent_to(&ticket, "ana@example.com")];
        let thread = Thread::Headers { ticket, sent };
        assert_eq!(
            decide(&thread, "ana@example.com", Some(&requester)),
            Decision::CustomerReply
        );
        assert_eq!(
            decide(&thread, "colleague@example.com", None),
            Decision::CustomerReply
        );
    }

    #[test]
    fn a_staff_address_is_a_staff_reply_only_answering_our_mail_to_it() {
        let requester = user(Role::Customer, "ana@example.com");
        let agent = user(Role::Agent, "agent@example.com");
        let ticket = ticket_of(&requester);
        let to_agent = sent_to(&ticket, "agent@example.com");
        let to_customer = sent_to(&ticket, "ana@example.com");

        let verified = Thread::Headers {
            ticket: ticket.clone(),
            sent: vec![to_customer.clone(), to_agent],
        };
        assert_eq!(
            decide(&verified, "agent@example.com", Some(&agent)),
            Decision::StaffReply
        );
        assert_eq!(
            decide(&verified, "AGENT@example.com", Some(&agent)),
            Decision::StaffReply,
            "addresses compare without case"
        );

        // The customer forges the agent's From on a reply to our mail to the customer.
        let forged = Thread::Headers {
            ticket: ticket.clone(),
            sent: vec![to_customer],
        };
        assert_eq!(
            decide(&forged, "agent@example.com", Some(&agent)),
            Decision::UnverifiedStaffNote
        );

        // Our mail to the agent about another ticket proves nothing about this one.
        let elsewhere = sent_to(&ticket_of(&requester), "agent@example.com");
        let other_ticket = Thread::Headers {
            ticket: ticket.clone(),
            sent: vec![elsewhere],
        };
        assert_eq!(
            decide(&other_ticket, "agent@example.com", Some(&agent)),
            Decision::UnverifiedStaffNote
        );

        // A deactivated agent is not verified by an old mail.
        let mut gone = agent.clone();
        gone.active = false;
        assert_eq!(
            decide(&verified, "agent@example.com", Some(&gone)),
            Decision::UnverifiedStaffNote
        );

        // A number never verifies anyone; a stranger's staff address opens its own ticket.
        let referenced = Thread::Referenced(ticket);
        assert_eq!(
            decide(&referenced, "agent@example.com", Some(&agent)),
            Decision::Open
        );
        let own = Thread::Referenced(ticket_of(&agent));
        assert_eq!(
            decide(&own, "agent@example.com", Some(&agent)),
            Decision::UnverifiedStaffNote
        );
    }

    fn user(role: Role, email: &str) -> User {
        User {
            id: Uuid::now_v7(),
            email: email.to_owned(),
            name: email.to_owned(),
            role,
            active: true,
            notify_new_tickets: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn ticket_of(requester: &User) -> Ticket {
        Ticket {
            id: Uuid::now_v7(),
            number: 1,
            subject: "Help".to_owned(),
            status: TicketStatus::Open,
            priority: Priority::Medium,
            category_id: None,
            requester: Requester {
                id: requester.id,
                name: requester.name.clone(),
                email: requester.email.clone(),
            },
            assignee_id: None,
            assignee: None,
            tags: Vec::new(),
            source: TicketSource::Email,
            version: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            visitor_id: None,
            mailbox_id: None,
            unread: None,
        }
    }

    fn sent_to(ticket: &Ticket, recipient: &str) -> OutboundMail {
        let id = Uuid::now_v7();
        OutboundMail {
            mail: NewOutboundMail {
                id,
                mailbox_id: None,
                ticket_id: Some(ticket.id),
                message_id: None,
                kind: MailKind::Reply,
                recipient: recipient.to_owned(),
                subject: "Re: Help".to_owned(),
                text_body: String::new(),
                html_body: None,
                header_message_id: format!("<{id}@example.com>"),
                in_reply_to: None,
                references: Vec::new(),
                reply_to: None,
                unsubscribe_url: None,
                attachment_ids: Vec::new(),
            },
            status: MailDeliveryStatus::Sent,
            attempts: 1,
            next_attempt_at: Stamp::now(),
            last_error: None,
            created_at: Stamp::now(),
            sent_at: Some(Stamp::now()),
        }
    }

    fn parsed() -> ParsedMail {
        ParsedMail {
            message_id: "m@x".to_owned(),
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from: None,
            reply_to: None,
            to: Vec::new(),
            cc: Vec::new(),
            subject: String::new(),
            date: None,
            text: String::new(),
            full_text: String::new(),
            attachments: Vec::new(),
            kind: MailClass::Regular,
            list_id: None,
            bulk: false,
            content_language: None,
        }
    }
}
