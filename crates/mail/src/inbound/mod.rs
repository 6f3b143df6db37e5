//! Reading one inbound mail: the raw RFC 5322 bytes become a `ParsedMail` with decoded headers,
//! the new text of the message, its attachments and what kind of mail it is.
//!
//! MIME, encoded words, transfer encodings and charsets are `mail-parser`'s job; this module
//! decides what a help desk needs from the result. Parsing is CPU-bound: callers run it on a
//! blocking thread.

mod attachments;
mod body;
mod classify;
mod headers;
mod html;
mod quotes;

#[cfg(test)]
mod robustness;

use mail_parser::{Message, MessageParser};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use quotes::{strip_quoted, strip_signature};

/// A mailbox address as written in a header: the address lower-cased, the display name decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub email: String,
    pub name: Option<String>,
}

/// A file carried by the mail: a real attachment, an inline image, or a forwarded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    /// Decoded (RFC 2231 / encoded words) but not sanitised: the service makes it safe to store.
    pub filename: String,
    /// `type/subtype`; text parts are re-encoded to UTF-8 and say so.
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// An image shown inside the HTML body (it has a Content-ID), not a file the sender attached.
    pub inline: bool,
}

/// What a mail is, for deciding whether anyone should ever answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailClass {
    /// Written by a person (possibly to a list: see `ParsedMail::bulk`).
    Regular,
    /// Sent by a machine on its own (vacation replies, autoresponders, reports): never answered.
    AutoReply,
    /// A delivery failure report for a mail somebody (maybe we) sent.
    Bounce {
        /// The Message-ID (without `<>`) of the mail that could not be delivered, when the
        /// report carries it.
        original_message_id: Option<String>,
        /// The failure is final (a 5.x.x status) rather than a delay or a temporary refusal.
        permanent: bool,
        /// The server's own words (Diagnostic-Code or the SMTP reply), possibly empty.
        diagnostic: String,
    },
}

/// Everything GrowDesk reads from one inbound mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    /// The header's Message-ID without `<>`, or `sha256-<hex of the raw bytes>@growdesk.invalid`
    /// when the mail has none (or one longer than 500 bytes), so the same bytes always get the
    /// same id.
    pub message_id: String,
    /// Without `<>`; ids over 500 bytes are left out.
    pub in_reply_to: Vec<String>,
    /// Without `<>`, oldest first; at most the last 100, ids over 500 bytes left out.
    pub references: Vec<String>,
    pub from: Option<Address>,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Decoded; empty when the mail has none.
    pub subject: String,
    pub date: Option<OffsetDateTime>,
    /// Only the new text: quoted history and signature stripped, HTML-only mail converted to text.
    pub text: String,
    /// The whole decoded text body, for audit and as a fallback when `text` is empty.
    pub full_text: String,
    pub attachments: Vec<MailAttachment>,
    pub kind: MailClass,
    /// The list's identifier from `List-Id` (the part in `<>`), when the mail came through one.
    pub list_id: Option<String>,
    /// Sent to many at once: list headers (`List-Id`, `List-Post`, `Mailing-List`, an `owner-`
    /// sender) or `Precedence: list|bulk`. A person may have written it, but an automatic answer
    /// would go to everyone on the list, so nothing automatic is ever sent back.
    pub bulk: bool,
    pub content_language: Option<String>,
}

/// Reads one raw mail. Never panics: whatever cannot be read is left empty, and bytes without any
/// header become a mail whose text is those bytes.
pub fn parse(raw: &[u8]) -> ParsedMail {
    // A mail starts with a header field; blank space before it (some stores and tools leave it)
    // would make the parser read the headers as body.
    let start = raw
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(raw.len());
    match MessageParser::default().parse(&raw[start..]) {
        Some(message) => from_message(&message, raw),
        None => headerless(raw),
    }
}

fn from_message(message: &Message<'_>, raw: &[u8]) -> ParsedMail {
    let body = body::Body::of(message);
    let subject = headers::single_line(message.subject().unwrap_or_default());
    // A forward's quoted part is the message the sender wants us to read.
    let new_text = if is_forward(&subject) {
        body.full.clone()
    } else {
        strip_quoted(&body.reply)
    };
    let text = strip_signature(&new_text);
    let kind = classify::classify(message);
    ParsedMail {
        message_id: headers::message_id(message).unwrap_or_else(|| synthetic_message_id(raw)),
        in_reply_to: headers::message_ids(message.in_reply_to()),
        references: headers::message_ids(message.references()),
        from: message.from().and_then(headers::first_address),
        reply_to: message.reply_to().and_then(headers::first_address),
        to: headers::addresses(message.to()),
        cc: headers::addresses(message.cc()),
        subject,
        date: headers::date(message),
        text,
        full_text: body.full,
        attachments: attachments::collect(message),
        kind,
        list_id: headers::list_id(message),
        bulk: classify::is_bulk(message),
        content_language: headers::content_language(message),
    }
}

/// Subject prefixes of forwarded mail in the common clients' languages ("Fwd:", Outlook's "FW:",
/// Spanish "RV:", French "TR:", German "WG:", Portuguese "ENC:").
fn is_forward(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    [
        "fwd:", "fw:", "rv:", "tr:", "wg:", "enc:", "fwd :", "fw :", "tr :",
    ]
    .iter()
    .any(|prefix| lower.starts_with(prefix))
}

fn headerless(raw: &[u8]) -> ParsedMail {
    let full = body::normalise(&String::from_utf8_lossy(raw));
    ParsedMail {
        message_id: synthetic_message_id(raw),
        in_reply_to: Vec::new(),
        references: Vec::new(),
        from: None,
        reply_to: None,
        to: Vec::new(),
        cc: Vec::new(),
        subject: String::new(),
        date: None,
        text: strip_signature(&strip_quoted(&full)),
        full_text: full,
        attachments: Vec::new(),
        kind: MailClass::Regular,
        list_id: None,
        bulk: false,
        content_language: None,
    }
}

fn synthetic_message_id(raw: &[u8]) -> String {
    format!(
        "sha256-{}@growdesk.invalid",
        hex::encode(Sha256::digest(raw))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: \"Ana Ruiz\" <Ana.Ruiz@Example.COM>\r\n\
        To: support@example.test, \"Help\" <help@example.test>\r\n\
        Cc: =?UTF-8?Q?Jos=C3=A9?= <jose@example.com>\r\n\
        Subject: =?UTF-8?B?wr9Qb3IgcXXDqT8=?=\r\n\
        Date: Tue, 3 Apr 2012 16:23:59 +0400\r\n\
        Message-ID: <abc.123@example.com>\r\n\
        In-Reply-To: <one@example.test>\r\n\
        References: <zero@example.test>\r\n <one@example.test>\r\n\
        Content-Language: es\r\n\
        \r\n\
        Hola, no puedo entrar.\r\n\
        \r\n\
        El mar, 3 abr 2012 a las 16:19, Soporte <support@example.test> escribió:\r\n\
        > ¿Qué pasa?\r\n";

    #[test]
    fn headers_come_out_decoded_and_without_angle_brackets() {
        let mail = parse(PLAIN.as_bytes());
        assert_eq!(mail.message_id, "abc.123@example.com");
        assert_eq!(mail.in_reply_to, vec!["one@example.test"]);
        assert_eq!(
            mail.references,
            vec!["zero@example.test", "one@example.test"]
        );
        assert_eq!(
            mail.from,
            Some(Address {
                email: "ana.ruiz@example.com".into(),
                name: Some("Ana Ruiz".into())
            })
        );
        assert_eq!(mail.to.len(), 2);
        assert_eq!(
            mail.to[1],
            Address {
                email: "help@example.test".into(),
                name: Some("Help".into())
            }
        );
        assert_eq!(mail.cc[0].name.as_deref(), Some("José"));
        assert_eq!(mail.subject, "¿Por qué?");
        assert_eq!(
            mail.date.map(OffsetDateTime::unix_timestamp),
            Some(1_333_455_839)
        );
        assert_eq!(mail.content_language.as_deref(), Some("es"));
        assert_eq!(mail.text, "Hola, no puedo entrar.");
        assert!(mail.full_text.contains("> ¿Qué pasa?"));
        assert_eq!(mail.kind, MailClass::Regular);
        assert!(!mail.bulk);
    }

    #[test]
    fn a_forward_keeps_the_forwarded_message() {
        let raw = "From: ana@example.com\r\nSubject: FW: Order 123\r\n\r\n\
            Please check this.\r\n\r\nFrom: Shop <shop@example.com>\r\nSent: Monday, April 3, 2023\r\n\
            To: Ana\r\nSubject: Order 123\r\n\r\nYour order is late.\r\n";
        let mail = parse(raw.as_bytes());
        assert!(mail.text.starts_with("Please check this."), "{}", mail.text);
        assert!(mail.text.ends_with("Your order is late."), "{}", mail.text);
        let reply = parse(raw.replace("FW: Order", "RE: Order").as_bytes());
        assert_eq!(reply.text, "Please check this.");
    }

    #[test]
    fn a_mail_without_message_id_gets_a_stable_synthetic_one() {
        let raw = PLAIN.replace("Message-ID: <abc.123@example.com>\r\n", "");
        let first = parse(raw.as_bytes()).message_id;
        assert_eq!(first, parse(raw.as_bytes()).message_id);
        assert!(first.starts_with("sha256-") && first.ends_with("@growdesk.invalid"));
        assert_eq!(
            first.len(),
            "sha256-".len() + 64 + "@growdesk.invalid".len()
        );
        let other = parse(format!("{raw}más\r\n").as_bytes()).message_id;
        assert_ne!(first, other);
    }

    #[test]
    fn oversized_ids_are_left_out_and_references_bounded() {
        let long = format!("{}@example.com", "a".repeat(600));
        let references: Vec<String> = (0..300).map(|n| format!("<r{n}@example.com>")).collect();
        let raw = format!(
            "Message-ID: <{long}>\r\nIn-Reply-To: <{long}>\r\nReferences: {}\r\nSubject: x\r\n\r\nbody",
            references.join(" ")
        );
        let mail = parse(raw.as_bytes());
        assert!(mail.message_id.starts_with("sha256-"));
        assert!(mail.in_reply_to.is_empty());
        assert_eq!(mail.references.len(), 100);
        assert_eq!(
            mail.references.first().map(String::as_str),
            Some("r200@example.com")
        );
        assert_eq!(
            mail.references.last().map(String::as_str),
            Some("r299@example.com")
        );
    }

    #[test]
    fn bytes_without_headers_become_the_text() {
        let mail = parse(b"");
        assert!(mail.message_id.starts_with("sha256-"));
        assert_eq!(mail.text, "");
        let mail = parse(b"\r\n\r\njust words, no header at all\r\n");
        assert!(mail.full_text.contains("just words"));
        assert_eq!(mail.kind, MailClass::Regular);
    }
}
