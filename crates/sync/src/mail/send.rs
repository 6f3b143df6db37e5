//! `send_mail`: the outbox's due mails are composed and handed to their mailbox's SMTP server.
//! Accepted → sent; refused with a 5xx → failed, never retried; anything else → retried with
//! the webhooks' backoff (`crate::backoff`) for a day, then failed. The recipient is checked
//! again at send time: never one of our own mailboxes' addresses, never an address that bounced
//! for good, and no notice to one that unsubscribed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::StreamExt as _;
use growdesk_domain::mail::{MailKind, Mailbox, SmtpSettings};
use growdesk_domain::{Attachment, is_own_address};
use growdesk_mail::SendError;
use growdesk_mail::inbound::Address;
use growdesk_mail::outbound::{DkimKey, OutgoingAttachment, OutgoingMail, compose, compose_signed};
use growdesk_mail::smtp::SmtpClient;
use growdesk_service::email::UNSUBSCRIBED;
use growdesk_store::Stamp;
use growdesk_store::mail::OutboundMail;
use serde_json::{Value, json};
use uuid::Uuid;

use super::MailJobs;
use crate::backoff::next_attempt;

/// Mails one pass sends (the next pass takes the rest).
const BATCH: u32 = 100;
/// Mails in flight at once to one mailbox's SMTP server.
const PER_MAILBOX: usize = 4;

/// What one attempt at a mail came to.
enum Attempt {
    Sent,
    /// Never to be sent: refused for good, or to an address we do not mail.
    Failed(String),
    /// May pass later.
    Retry(String),
}

/// A mailbox able to send, with its client.
struct Sender {
    from: Address,
    client: SmtpClient,
    /// The key its mail is signed with, as its domain.
    dkim: Option<Arc<DkimKey>>,
}

/// Sends the mails due at `now`; how many were sent, will be retried, or failed.
pub(super) async fn send_due(jobs: &MailJobs, now: Stamp) -> anyhow::Result<Value> {
    let store = jobs.store();
    let due = store.mail().due(now, BATCH).await?;
    if due.is_empty() {
        return Ok(json!({"sent": 0, "retrying": 0, "failed": 0}));
    }
    let own = store.mailboxes().addresses().await?;
    let recipients: Vec<String> = due
        .iter()
        .map(|mail| mail.mail.recipient.to_lowercase())
        .collect();
    let suppressions = store.mail().suppressions(&recipients).await?;
    let mailboxes = store.mailboxes().list().await?;
    let attachments = attachments_of(jobs, &due).await?;

    let mut by_mailbox: HashMap<Option<Uuid>, Vec<OutboundMail>> = HashMap::new();
    for mail in due {
        by_mailbox
            .entry(mail.mail.mailbox_id)
            .or_default()
            .push(mail);
    }
    let checks = Checks {
        own: &own,
        suppressions: &suppressions,
        attachments: &attachments,
    };
    let groups = by_mailbox.into_iter().map(|(mailbox_id, mails)| {
        let checks = &checks;
        let mailboxes = &mailboxes;
        async move {
            let sender = sender_for(jobs, mailboxes, mailbox_id).await;
            futures_util::stream::iter(mails)
                .map(|mail| {
                    let sender = &sender;
                    // Recorded as soon as tried: a crash mid-pass sends again at most the
                    // mails in flight, not every one the pass had sent.
                    async move {
                        record(jobs, &mail, attempt(jobs, checks, sender, &mail).await, now).await
                    }
                })
                .buffer_unordered(PER_MAILBOX)
                .collect::<Vec<_>>()
                .await
        }
    });
    let recorded = futures_util::future::join_all(groups).await;

    let mut counts = [0_u64; 3];
    for slot in recorded.into_iter().flatten() {
        counts[slot?] += 1;
    }
    Ok(json!({"sent": counts[0], "retrying": counts[1], "failed": counts[2]}))
}

/// Records what the attempt at `mail` came to; its count's slot (sent, retrying, failed).
async fn record(
    jobs: &MailJobs,
    mail: &OutboundMail,
    attempt: Attempt,
    now: Stamp,
) -> anyhow::Result<usize> {
    let id = mail.mail.id;
    let outbox = jobs.store().mail();
    Ok(match attempt {
        Attempt::Sent => {
            outbox.mark_sent(id, now).await?;
            0
        }
        Attempt::Retry(error) => match next_attempt(mail.created_at, mail.attempts + 1, now) {
            Some(next) => {
                outbox.retry_later(id, &error, next).await?;
                1
            }
            None => {
                outbox
                    .mark_failed(id, &format!("gave up after a day: {error}"))
                    .await?;
                2
            }
        },
        Attempt::Failed(error) => {
            outbox.mark_failed(id, &error).await?;
            2
        }
    })
}

/// What every mail of a pass is checked against, read once for the pass.
struct Checks<'a> {
    /// Our mailboxes' addresses.
    own: &'a [String],
    /// Suppressed recipients (lower-cased) and why.
    suppressions: &'a HashMap<String, String>,
    attachments: &'a HashMap<Uuid, Attachment>,
}

/// The attachments the due mails carry, read in one query (their messages').
async fn attachments_of(
    jobs: &MailJobs,
    due: &[OutboundMail],
) -> anyhow::Result<HashMap<Uuid, Attachment>> {
    let messages: Vec<Uuid> = due
        .iter()
        .filter(|mail| !mail.mail.attachment_ids.is_empty())
        .filter_map(|mail| mail.mail.message_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if messages.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(jobs
        .store()
        .messages()
        .by_ids(&messages)
        .await?
        .into_iter()
        .flat_map(|message| message.attachments)
        .map(|attachment| (attachment.id, attachment))
        .collect())
}

/// The sender of `mailbox_id`'s mails (the first active mailbox with SMTP settings when none is
/// named), or why there is none.
async fn sender_for(
    jobs: &MailJobs,
    mailboxes: &[Mailbox],
    mailbox_id: Option<Uuid>,
) -> Result<Sender, String> {
    let mailbox = match mailbox_id {
        Some(id) => mailboxes
            .iter()
            .find(|mailbox| mailbox.id == id)
            .ok_or("its mailbox was deleted")?,
        None => mailboxes
            .iter()
            .find(|mailbox| mailbox.active && mailbox.smtp.is_some())
            .ok_or("no active mailbox has SMTP settings")?,
    };
    if !mailbox.active {
        return Err(format!(
            "the mailbox {} is inactive",
            mailbox.address.as_str()
        ));
    }
    let settings: &SmtpSettings = mailbox.smtp.as_ref().ok_or_else(|| {
        format!(
            "the mailbox {} has no SMTP settings",
            mailbox.address.as_str()
        )
    })?;
    let password = jobs
        .store()
        .mailboxes()
        .secrets(mailbox.id)
        .await
        .map_err(|error| error.to_string())?
        .and_then(|secrets| secrets.smtp_password);
    let client = SmtpClient::new(settings, password.as_deref(), jobs.settings.timeout)
        .map_err(|error| error.to_string())?;
    let domain = mailbox
        .address
        .as_str()
        .rsplit_once('@')
        .map_or_else(String::new, |(_, domain)| domain.to_owned());
    let dkim = match &jobs.settings.dkim {
        Some(dkim) => Some(Arc::new(
            dkim.key_for(&domain).map_err(|error| error.to_string())?,
        )),
        None => None,
    };
    Ok(Sender {
        dkim,
        from: Address {
            email: mailbox.address.as_str().to_owned(),
            name: Some(mailbox.display_name.clone()),
        },
        client,
    })
}

/// One attempt at `mail`.
async fn attempt(
    jobs: &MailJobs,
    checks: &Checks<'_>,
    sender: &Result<Sender, String>,
    mail: &OutboundMail,
) -> Attempt {
    let recipient = mail.mail.recipient.to_lowercase();
    if is_own_address(&recipient, checks.own) {
        return Attempt::Failed(format!("{recipient} is one of our own mailboxes"));
    }
    if let Some(reason) = checks.suppressions.get(&recipient) {
        // An unsubscribe stops the notices; an agent's reply and a reset link still go. Any
        // other reason (a permanent bounce) stops everything.
        let notice = matches!(
            mail.mail.kind,
            MailKind::Acknowledgement | MailKind::Resolved
        );
        if reason != UNSUBSCRIBED || notice {
            return Attempt::Failed(format!("{recipient} is not mailed ({reason})"));
        }
    }
    let sender = match sender {
        Ok(sender) => sender,
        Err(reason) => return Attempt::Retry(format!("cannot send yet: {reason}")),
    };
    let attachments = match files_of(jobs, checks, mail).await {
        Ok(attachments) => attachments,
        Err(reason) => return Attempt::Retry(reason),
    };
    let outgoing = OutgoingMail {
        from: sender.from.clone(),
        to: Address {
            email: mail.mail.recipient.clone(),
            name: None,
        },
        subject: mail.mail.subject.clone(),
        text_body: mail.mail.text_body.clone(),
        html_body: mail.mail.html_body.clone(),
        message_id: mail.mail.header_message_id.clone(),
        in_reply_to: mail.mail.in_reply_to.clone(),
        references: mail.mail.references.clone(),
        reply_to: mail.mail.reply_to.clone(),
        unsubscribe_url: mail.mail.unsubscribe_url.clone(),
        auto_submitted: mail.mail.kind != MailKind::Reply,
        attachments,
    };
    // Base64 of every attachment (and a DKIM signature) is CPU work: off the async threads.
    let dkim = sender.dkim.clone();
    let composed = tokio::task::spawn_blocking(move || match &dkim {
        Some(key) => compose_signed(&outgoing, key),
        None => compose(&outgoing),
    });
    let raw = match composed.await {
        Ok(Ok(raw)) => raw,
        Ok(Err(error)) => return Attempt::Failed(error.to_string()),
        Err(error) => return Attempt::Failed(format!("composing the mail failed: {error}")),
    };
    match sender
        .client
        .send(&sender.from.email, &mail.mail.recipient, &raw)
        .await
    {
        Ok(()) => Attempt::Sent,
        Err(error @ SendError::Permanent(_)) => Attempt::Failed(error.to_string()),
        Err(error @ SendError::Transient(_)) => Attempt::Retry(error.to_string()),
    }
}

/// The bytes of `mail`'s attachments, read off the async threads.
async fn files_of(
    jobs: &MailJobs,
    checks: &Checks<'_>,
    mail: &OutboundMail,
) -> Result<Vec<OutgoingAttachment>, String> {
    let mut files = Vec::with_capacity(mail.mail.attachment_ids.len());
    for id in &mail.mail.attachment_ids {
        let attachment = checks
            .attachments
            .get(id)
            .ok_or_else(|| format!("attachment {id} is not on the mail's message"))?;
        let path = jobs
            .files
            .locate(&attachment.sha256)
            .ok_or_else(|| format!("the file of attachment {id} is missing"))?;
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|error| error.to_string())?
            .map_err(|error| format!("cannot read attachment {id}: {error}"))?;
        files.push(OutgoingAttachment {
            filename: attachment.filename.clone(),
            content_type: attachment.content_type.clone(),
            bytes,
        });
    }
    Ok(files)
}
