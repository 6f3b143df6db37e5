//! Automatic mail: auto-replies and delivery failure reports. Each is noted on the ticket it
//! belongs to — never answered, never changing the ticket's status — or, belonging to none,
//! only recorded as received. A permanent failure marks the mail we sent as bounced and stops
//! mail to that address.

use growdesk_domain::{Email, Mailbox, MessageBody, Ticket};
use growdesk_mail::inbound::{Address, ParsedMail};
use growdesk_store::mail::{InboundKind, InboundRecord};

use super::content::{self, Stored};
use super::inbound::{Joined, Received, Voice, noted, record};
use super::threading::{Decision, Thread, decide};
use super::{BOUNCED, EmailChannel};
use crate::ServiceError;

/// What a delivery failure report says.
pub(crate) struct Bounced {
    pub(crate) original: Option<String>,
    pub(crate) permanent: bool,
    pub(crate) diagnostic: String,
}

impl EmailChannel<'_> {
    /// An automatic reply: an internal note on the ticket it threads to, never answered and
    /// never changing the ticket's status; dropped when it threads to none.
    pub(crate) async fn auto_reply(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        from: &Address,
        files: Stored,
    ) -> Result<Received, ServiceError> {
        let store = &self.service.store;
        let record = record(mailbox, mail, InboundKind::AutoReply);
        let thread = self.thread(mailbox.address.as_str(), mail).await?;
        // Only the ticket's requester may thread one to it by a number, as for a person's mail.
        let account = match Email::parse(&from.email) {
            Ok(email) => store
                .users()
                .credentials_by_email(email.as_str())
                .await?
                .map(|credentials| credentials.user),
            Err(_) => None,
        };
        let decision = decide(&thread, &from.email, account.as_ref());
        let heading = format!(
            "Automatic reply by email from {}; it is not answered.",
            from.email
        );
        let mut remarks = Vec::new();
        let body = content::body(&noted(&heading, &mail.text), &heading, &mut remarks)?;
        let note = content::remarks_note(&remarks)?;
        let noted_on = self
            .note(
                thread.ticket().filter(|_| decision != Decision::Open),
                body,
                files,
                note,
                &record,
            )
            .await?;
        Ok(match noted_on {
            Some(Joined::Duplicate) => Received::Duplicate,
            Some(Joined::Written { .. }) => Received::AutoReply {
                ticket_id: thread.ticket().map(|ticket| ticket.id),
            },
            Some(Joined::Refused) | None => Received::AutoReply { ticket_id: None },
        })
    }

    /// A delivery failure report: the mail it names is marked bounced (and the address of a
    /// permanent failure suppressed), and it is noted on that mail's ticket.
    pub(crate) async fn bounce(
        self,
        mailbox: &Mailbox,
        mail: &ParsedMail,
        bounce: Bounced,
        files: Stored,
    ) -> Result<Received, ServiceError> {
        let store = &self.service.store;
        let record = record(mailbox, mail, InboundKind::Bounce);
        let diagnostic = match bounce.diagnostic.trim() {
            "" => "the receiving server returned the mail",
            diagnostic => diagnostic,
        };
        // Only a permanent failure bounced the mail; a delay report leaves it as it is.
        let original = match (&bounce.original, bounce.permanent) {
            (Some(id), true) => store.mail().mark_bounced(id, diagnostic).await?,
            (Some(id), false) => store
                .mail()
                .by_header_ids(std::slice::from_ref(id))
                .await?
                .into_iter()
                .next(),
            (None, _) => None,
        };
        if bounce.permanent
            && let Some(original) = &original
        {
            store
                .mail()
                .replace_suppression(&original.mail.recipient, BOUNCED)
                .await?;
        }
        let ticket_id = match original
            .as_ref()
            .and_then(|original| original.mail.ticket_id)
        {
            Some(ticket_id) => Some(ticket_id),
            None => match self.thread(mailbox.address.as_str(), mail).await? {
                Thread::Headers { ticket, .. } => Some(ticket.id),
                Thread::Referenced(_) | Thread::Unthreaded => None,
            },
        };
        let ticket = match ticket_id {
            Some(ticket_id) => store.tickets().get(ticket_id).await?,
            None => None,
        };
        let recipient = original
            .as_ref()
            .map_or("a recipient", |original| original.mail.recipient.as_str());
        let heading = if bounce.permanent {
            format!("A mail to {recipient} could not be delivered: {diagnostic}")
        } else {
            format!("A mail to {recipient} is delayed: {diagnostic}")
        };
        let mut remarks = Vec::new();
        let body = content::body(&heading, "", &mut remarks)?;
        let note = content::remarks_note(&remarks)?;
        let noted_on = self
            .note(ticket.as_ref(), body, files, note, &record)
            .await?;
        Ok(match noted_on {
            Some(Joined::Duplicate) => Received::Duplicate,
            _ => Received::Bounce {
                mail_id: original.map(|original| original.mail.id),
            },
        })
    }

    /// Writes `body` as an internal note on `ticket` with the record of the mail; without a
    /// ticket (or when it was deleted meanwhile), records the mail alone. `None` then.
    async fn note(
        self,
        ticket: Option<&Ticket>,
        body: MessageBody,
        files: Stored,
        remarks: Option<MessageBody>,
        record: &InboundRecord,
    ) -> Result<Option<Joined>, ServiceError> {
        if let Some(ticket) = ticket {
            let system = self.service.store.users().system_user().await?;
            let joined = self
                .join(
                    ticket,
                    Voice::Note(system),
                    body,
                    files,
                    remarks,
                    record.clone(),
                )
                .await?;
            if !matches!(joined, Joined::Refused) {
                return Ok(Some(joined));
            }
        }
        self.service
            .store
            .mail()
            .record_inbound(record, None)
            .await?;
        Ok(None)
    }
}
