//! Writing the mail GrowDesk sends: one `OutgoingMail` becomes RFC 5322 bytes (lettre's builder:
//! CRLF lines, encoded words, quoted-printable or base64 bodies), with the headers that thread it
//! in the customer's client and keep autoresponders from answering it.
//!
//! Every header value that comes from a person (a subject, a display name, a file name) has its
//! control characters replaced before it reaches a header, and every value that must keep its
//! syntax (addresses, message ids, the unsubscribe link) is checked and refused when it does not:
//! no input can add a header line.

mod dkim;

pub use dkim::DkimKey;

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};

use crate::error::MailError;
use crate::inbound::Address;

/// One mail to send: what the outbox holds, with the files of its message read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The mailbox it goes out from, with its display name.
    pub from: Address,
    pub to: Address,
    pub subject: String,
    pub text_body: String,
    /// When given, the text and this HTML are sent as `multipart/alternative`.
    pub html_body: Option<String>,
    /// `<id@domain>` (the angle brackets may be left out).
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The address answers go to (`support+t42@…`), shown with the From's display name.
    pub reply_to: Option<String>,
    /// Adds `List-Unsubscribe` and the one-click `List-Unsubscribe-Post` (RFC 8058).
    pub unsubscribe_url: Option<String>,
    /// An acknowledgement or a notification (not an agent's own reply): marked
    /// `Auto-Submitted: auto-replied` (RFC 3834) and `X-Auto-Response-Suppress: All`, so that
    /// autoresponders do not answer it and two desks cannot loop.
    pub auto_submitted: bool,
    pub attachments: Vec<OutgoingAttachment>,
}

/// A file sent with a mail, byte for byte (always base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    pub filename: String,
    /// A MIME type; one that does not parse is sent as `application/octet-stream`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The bytes of `mail`, ready for SMTP.
pub fn compose(mail: &OutgoingMail) -> Result<Vec<u8>, MailError> {
    Ok(build(mail)?.formatted())
}

/// The bytes of `mail` with a DKIM signature of `key`'s domain.
pub fn compose_signed(mail: &OutgoingMail, key: &DkimKey) -> Result<Vec<u8>, MailError> {
    let mut message = build(mail)?;
    key.sign(&mut message);
    Ok(message.formatted())
}

fn build(mail: &OutgoingMail) -> Result<Message, MailError> {
    let from = mailbox("From", &mail.from.email, mail.from.name.as_deref())?;
    let mut builder = Message::builder()
        .from(from)
        .to(mailbox("To", &mail.to.email, mail.to.name.as_deref())?)
        .subject(header_text(&mail.subject))
        .message_id(Some(message_id("Message-ID", &mail.message_id)?));
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(message_id("In-Reply-To", parent)?);
    }
    if !mail.references.is_empty() {
        let ids = mail
            .references
            .iter()
            .map(|id| message_id("References", id))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.references(ids.join(" "));
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(mailbox("Reply-To", reply_to, mail.from.name.as_deref())?);
    }
    if let Some(url) = &mail.unsubscribe_url {
        builder = builder
            .raw_header(raw_header(
                "List-Unsubscribe",
                format!("<{}>", unsubscribe_url(url)?),
            ))
            .raw_header(raw_header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    if mail.auto_submitted {
        builder = builder
            .raw_header(raw_header("Auto-Submitted", "auto-replied".to_owned()))
            .raw_header(raw_header("X-Auto-Response-Suppress", "All".to_owned()));
    }
    let text = SinglePart::plain(mail.text_body.clone());
    let result = match (&mail.html_body, mail.attachments.is_empty()) {
        (None, true) => builder.singlepart(text),
        (Some(html), true) => builder.multipart(alternative(text, html)),
        (html, false) => {
            let mixed = match html {
                Some(html) => MultiPart::mixed().multipart(alternative(text, html)),
                None => MultiPart::mixed().singlepart(text),
            };
            builder.multipart(
                mail.attachments
                    .iter()
                    .fold(mixed, |parts, file| parts.singlepart(attachment(file))),
            )
        }
    };
    result.map_err(|error| MailError::Build(error.to_string()))
}

fn alternative(text: SinglePart, html: &str) -> MultiPart {
    MultiPart::alternative()
        .singlepart(text)
        .singlepart(SinglePart::html(html.to_owned()))
}

fn attachment(file: &OutgoingAttachment) -> SinglePart {
    // An upload's type was only ever a client's claim: one that does not parse must not cost the
    // customer the file, so it travels as opaque bytes.
    let content_type = ContentType::parse(&file.content_type)
        .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a valid type"));
    // Base64 whatever the content, so that a text file keeps its exact bytes (no line-ending
    // conversion) and comes out identical.
    Attachment::new(header_text(&file.filename)).body(Body::new(file.bytes.clone()), content_type)
}

fn mailbox(field: &'static str, email: &str, name: Option<&str>) -> Result<Mailbox, MailError> {
    let address =
        email
            .trim()
            .parse::<lettre::Address>()
            .map_err(|_| MailError::InvalidAddress {
                field,
                value: email.to_owned(),
            })?;
    let name = name.map(header_text).filter(|name| !name.is_empty());
    Ok(Mailbox::new(name, address))
}

/// `value` as it may stand in a header: every control character (CR and LF above all, which
/// would start a new header line) and Unicode line or paragraph separator becomes a space.
pub fn header_text(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Whether `value` (with or without its angle brackets) is a `Message-ID` `compose` accepts in
/// `In-Reply-To` and `References`: what may be named there from ids received in other mail.
pub fn is_message_id(value: &str) -> bool {
    message_id("Message-ID", value).is_ok()
}

/// `<left@right>` from an id with or without its angle brackets; anything else in it (spaces,
/// controls, brackets, non-ASCII) is refused rather than cleaned, since a changed id no longer
/// threads.
fn message_id(field: &'static str, value: &str) -> Result<String, MailError> {
    let trimmed = value.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(trimmed);
    let valid = inner.len() <= 900
        && matches!(inner.split_once('@'), Some((left, right)) if !left.is_empty() && !right.is_empty())
        && inner
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if valid {
        Ok(format!("<{inner}>"))
    } else {
        Err(MailError::InvalidMessageId {
            field,
            value: value.to_owned(),
        })
    }
}

fn unsubscribe_url(url: &str) -> Result<&str, MailError> {
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 900
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b','));
    if valid {
        Ok(url)
    } else {
        Err(MailError::InvalidUnsubscribeUrl(url.to_owned()))
    }
}

/// A header whose value was checked to be printable ASCII by the callers above.
fn raw_header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

#[cfg(test)]
mod tests;
