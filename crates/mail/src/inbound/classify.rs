//! Whether a mail was written by a person, by an autoresponder, or is a delivery failure report
//! (and then which mail failed, how, and for good or not), and whether it went to a list.
//!
//! A help desk that answers a machine starts a mail loop, so anything that looks automatic by
//! the usual headers (RFC 3834 `Auto-Submitted`, Microsoft's `X-Auto-Response-Suppress`,
//! `Precedence`) or is a report (RFC 3464 delivery status, read receipts, abuse reports) is never
//! `Regular`. Servers that send failures as plain text (qmail, exim, Gmail) are recognised by
//! their sender and subject.

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::{MailClass, headers};

/// Local parts of the addresses delivery failures come from.
const BOUNCE_SENDERS: &[&str] = &["mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"];

/// Subjects of delivery failure notices from servers that do not send `multipart/report`.
const FAILURE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status notification",
    "returned mail",
    "mail delivery failed",
    "failure notice",
    "delivery failure",
    "delivery has failed",
    "could not be delivered",
    "not delivered",
    "returning message to sender",
    "could not send message",
    "delivery notification",
];

/// Subjects that only an out-of-office or autoresponder sends, for the ones without headers.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply:",
    "auto-reply:",
    "autoreply:",
    "auto reply:",
    "out of office:",
    "respuesta automática:",
    "réponse automatique :",
    "réponse automatique:",
    "automatische antwort:",
];

/// Words of a delay notice: the mail is still being retried, so the failure is not final.
const DELAY_WORDS: &[&str] = &["delay", "warning", "will retry", "still trying"];

pub(super) fn classify(message: &Message<'_>) -> MailClass {
    if is_report(message, "delivery-status") {
        return delivery_status(message);
    }
    if is_plain_bounce(message) {
        return plain_bounce(message);
    }
    if is_auto_reply(message) {
        MailClass::AutoReply
    } else {
        MailClass::Regular
    }
}

/// Sent to many at once: see `ParsedMail::bulk`.
pub(super) fn is_bulk(message: &Message<'_>) -> bool {
    has_list_markers(message)
        || message
            .header("List-Unsubscribe")
            .is_some_and(|value| !value.is_empty())
        || precedence(message).is_some_and(|p| matches!(p.as_str(), "list" | "bulk" | "junk"))
}

fn precedence(message: &Message<'_>) -> Option<String> {
    headers::text(message, "Precedence").map(|p| p.to_lowercase())
}

fn is_auto_reply(message: &Message<'_>) -> bool {
    let auto_submitted = headers::text(message, "Auto-Submitted").is_some_and(|value| {
        value
            .split([';', '(', ' '])
            .next()
            .is_some_and(|kind| !kind.eq_ignore_ascii_case("no"))
    });
    let flagged = ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"]
        .iter()
        .any(|name| headers::text(message, name).is_some());
    // `Precedence: list` (and `bulk` from a list) is a person writing to a list: Regular, with
    // `bulk` set. `bulk`/`junk` on their own are what autoresponders and mass mailers send.
    let precedence = precedence(message)
        .is_some_and(|p| matches!(p.as_str(), "bulk" | "junk" | "auto_reply"))
        && !has_list_markers(message);
    let subject = message.subject().unwrap_or_default().trim().to_lowercase();
    let subject = AUTO_REPLY_SUBJECTS
        .iter()
        .any(|start| subject.starts_with(start));
    // Read receipts, abuse (ARF) reports and other machine reports are never customer mail.
    auto_submitted || flagged || precedence || subject || is_report(message, "")
}

/// Headers a list server adds (as opposed to a bare `Precedence` or `List-Unsubscribe`, which
/// mass mailers and autoresponders send too), or a list's owner as the Sender (majordomo).
fn has_list_markers(message: &Message<'_>) -> bool {
    let owner_sender = message
        .sender()
        .and_then(|sender| sender.first())
        .is_some_and(|addr| {
            let address = addr.address.as_deref().unwrap_or_default().to_lowercase();
            let local = address.split('@').next().unwrap_or_default();
            local.starts_with("owner-") || local.ends_with("-owner") || local.ends_with("-request")
        });
    owner_sender
        || ["List-Id", "List-Post", "Mailing-List", "X-Mailing-List"]
            .iter()
            .any(|name| message.header(*name).is_some_and(|value| !value.is_empty()))
}

/// `multipart/report` of the given report type, or of any type when `report_type` is empty.
fn is_report(message: &Message<'_>, report_type: &str) -> bool {
    message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|sub| sub.eq_ignore_ascii_case("report"))
            && (report_type.is_empty()
                || ct
                    .attribute("report-type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(report_type)))
    })
}

fn is_plain_bounce(message: &Message<'_>) -> bool {
    if headers::text(message, "X-Failed-Recipients").is_some() {
        return true;
    }
    let from_daemon = message
        .from()
        .and_then(|from| from.first())
        .is_some_and(|addr| {
            let local = addr
                .address
                .as_deref()
                .unwrap_or_default()
                .split('@')
                .next()
                .unwrap_or_default();
            let name = addr.name.as_deref().unwrap_or_default().to_lowercase();
            BOUNCE_SENDERS
                .iter()
                .any(|sender| local.eq_ignore_ascii_case(sender))
                || name.contains("mail delivery")
                || name.trim() == "postmaster"
        });
    let subject = message.subject().unwrap_or_default().to_lowercase();
    from_daemon && FAILURE_SUBJECTS.iter().any(|words| subject.contains(words))
}

/// A RFC 3464 report: the first failed recipient's Status, Action and Diagnostic-Code, and the
/// Message-ID of the returned message (or its returned headers).
fn delivery_status(message: &Message<'_>) -> MailClass {
    let report = message
        .parts
        .iter()
        .find(|part| {
            has_type(
                part,
                "message",
                &["delivery-status", "global-delivery-status"],
            )
        })
        .map(|part| String::from_utf8_lossy(part.contents()).into_owned())
        .unwrap_or_default();
    let recipient = recipient_fields(&report);
    let field = |name: &str| {
        recipient
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let status = field("Status").unwrap_or_default();
    let action = field("Action").unwrap_or_default();
    let permanent = match status.trim().chars().next() {
        Some('5') => true,
        Some(_) => false,
        None => action.trim().eq_ignore_ascii_case("failed"),
    };
    let diagnostic = field("Diagnostic-Code")
        .map(|code| code.split_once(';').map_or(code, |(_, text)| text))
        .or(Some(status).filter(|status| !status.is_empty()))
        .map(collapse)
        .unwrap_or_default();
    MailClass::Bounce {
        original_message_id: returned_message_id(message).or_else(|| first_in_reply_to(message)),
        permanent,
        diagnostic,
    }
}

/// The fields of the recipient the report is about: the first block after the per-message one
/// that says the delivery failed, else the first recipient block.
fn recipient_fields(report: &str) -> Vec<(String, String)> {
    let blocks = field_blocks(report);
    let recipients = blocks.get(1..).unwrap_or_default();
    let failed = recipients.iter().find(|block| {
        block.iter().any(|(key, value)| {
            key.eq_ignore_ascii_case("Action") && value.trim().eq_ignore_ascii_case("failed")
        })
    });
    failed
        .or(recipients.first())
        .or(blocks.first())
        .cloned()
        .unwrap_or_default()
}

/// `Name: value` blocks separated by blank lines, with folded lines unfolded.
fn field_blocks(report: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in report.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            current.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

fn has_type(part: &MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|sub| subtypes.iter().any(|s| sub.eq_ignore_ascii_case(s)))
    })
}

/// The Message-ID of the message a report returned, whole (message/rfc822) or as headers only
/// (text/rfc822-headers).
fn returned_message_id(message: &Message<'_>) -> Option<String> {
    message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(returned) => headers::message_id(returned),
        _ if has_type(part, "message", &["rfc822", "global"])
            || has_type(part, "text", &["rfc822-headers"])
            || has_type(part, "message", &["rfc822-headers", "global-headers"]) =>
        {
            MessageParser::default()
                .parse_headers(part.contents())
                .as_ref()
                .and_then(headers::message_id)
        }
        _ => None,
    })
}

fn first_in_reply_to(message: &Message<'_>) -> Option<String> {
    headers::message_ids(message.in_reply_to())
        .into_iter()
        .next()
}

/// A failure notice in plain text: the SMTP status found in the text says whether it is final;
/// the returned message's Message-ID is the first `Message-ID:` line of the text.
fn plain_bounce(message: &Message<'_>) -> MailClass {
    let text: String = message
        .parts
        .iter()
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.as_ref()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let status_line = text
        .lines()
        .find_map(|line| smtp_status(line).map(|status| (status, line)));
    let subject = message.subject().unwrap_or_default().to_lowercase();
    let permanent = match status_line {
        Some((status, _)) => status == '5',
        None => !DELAY_WORDS.iter().any(|word| subject.contains(word)),
    };
    let original = returned_message_id(message)
        .or_else(|| text.lines().find_map(message_id_line))
        .or_else(|| first_in_reply_to(message));
    MailClass::Bounce {
        original_message_id: original,
        permanent,
        diagnostic: status_line
            .map(|(_, line)| collapse(line))
            .unwrap_or_default(),
    }
}

/// The class ('4' or '5') of the first SMTP reply code ("550") or enhanced status ("5.1.1") in
/// a line.
fn smtp_status(line: &str) -> Option<char> {
    // Words are split at anything but digits and dots, and only whole words count, so "550-5.1.1"
    // gives two codes while "B50D-477F" in a Message-ID gives none.
    line.split(|c: char| c.is_whitespace() || c == '-' || (c.is_ascii_punctuation() && c != '.'))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| word.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .find_map(|word| {
            let class = word.chars().next().filter(|c| matches!(c, '4' | '5'))?;
            let parts: Vec<&str> = word.split('.').collect();
            let enhanced = parts.len() == 3
                && parts[0].len() == 1
                && parts[1..].iter().all(|p| (1..=3).contains(&p.len()));
            let reply = parts.len() == 1 && word.len() == 3;
            (enhanced || reply).then_some(class)
        })
}

fn message_id_line(line: &str) -> Option<String> {
    let (name, value) = line.trim_start().split_once(':')?;
    if !name.trim().eq_ignore_ascii_case("message-id") {
        return None;
    }
    let id = value
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()?
        .trim();
    (!id.is_empty() && !id.contains(|c: char| c.is_whitespace() || c.is_control()))
        .then(|| id.to_owned())
}

/// The server's words on one line, control characters gone, at most 1000 characters.
fn collapse(text: &str) -> String {
    headers::single_line(text).chars().take(1000).collect()
}

#[cfg(test)]
mod tests {
    use super::super::{MailClass, parse};

    fn mail(headers: &str, body: &str) -> String {
        format!(
            "From: Ann <ann@example.com>\r\nTo: support@example.test\r\nSubject: Hello\r\nMessage-ID: <m1@example.com>\r\n{headers}\r\n{body}"
        )
    }

    #[test]
    fn auto_submitted_other_than_no_is_an_auto_reply() {
        assert_eq!(
            parse(mail("Auto-Submitted: auto-replied\r\n", "Away").as_bytes()).kind,
            MailClass::AutoReply
        );
        assert_eq!(
            parse(mail("Auto-Submitted: auto-generated (vacation)\r\n", "x").as_bytes()).kind,
            MailClass::AutoReply
        );
        assert_eq!(
            parse(mail("Auto-Submitted: no\r\n", "Hi").as_bytes()).kind,
            MailClass::Regular
        );
    }

    #[test]
    fn autoresponder_headers_and_precedence_are_auto_replies() {
        for header in [
            "X-Autoreply: yes",
            "X-Autorespond: on",
            "X-Auto-Response-Suppress: All",
            "Precedence: bulk",
            "Precedence: junk",
            "Precedence: auto_reply",
        ] {
            let parsed = parse(mail(&format!("{header}\r\n"), "x").as_bytes());
            assert_eq!(parsed.kind, MailClass::AutoReply, "{header}");
        }
    }

    #[test]
    fn a_person_writing_to_a_list_is_regular_and_bulk() {
        let parsed = parse(
            mail(
                "Precedence: list\r\nList-Id: Users <users.lists.example.org>\r\n",
                "Question",
            )
            .as_bytes(),
        );
        assert_eq!(parsed.kind, MailClass::Regular);
        assert!(parsed.bulk);
        assert_eq!(parsed.list_id.as_deref(), Some("users.lists.example.org"));
    }

    #[test]
    fn a_plain_text_failure_notice_is_a_permanent_bounce() {
        let raw = "From: MAILER-DAEMON@mx.example.net\r\nTo: support@example.test\r\nSubject: failure notice\r\n\r\n\
            Hi. This is the qmail-send program.\r\n<gone@example.org>:\r\n550 5.1.1 user unknown\r\n\r\n\
            --- Below this line is a copy of the message.\r\n\r\nMessage-ID: <sent-1@example.test>\r\nSubject: Re: [#12]\r\n";
        let parsed = parse(raw.as_bytes());
        assert_eq!(
            parsed.kind,
            MailClass::Bounce {
                original_message_id: Some("sent-1@example.test".into()),
                permanent: true,
                diagnostic: "550 5.1.1 user unknown".into()
            }
        );
    }

    #[test]
    fn a_delay_notice_is_a_bounce_that_is_not_permanent() {
        let raw = "From: Mail Delivery System <postmaster@mx.example.net>\r\nSubject: Delivery Status Notification (Delay)\r\n\r\nStill trying: 451 4.4.1 timed out\r\n";
        let MailClass::Bounce { permanent, .. } = parse(raw.as_bytes()).kind else {
            panic!("a bounce expected");
        };
        assert!(!permanent);
    }

    #[test]
    fn smtp_status_finds_codes_but_not_other_numbers() {
        assert_eq!(super::smtp_status("550-5.1.1 The account"), Some('5'));
        assert_eq!(super::smtp_status("Status: 4.2.2"), Some('4'));
        assert_eq!(
            super::smtp_status("on 2012-04-03 at 16.23 with 12345 bytes"),
            None
        );
        assert_eq!(
            super::smtp_status("Message-Id: <A6E9ACE2-B50D-477F-8D7D@example.jp>"),
            None
        );
    }
}
