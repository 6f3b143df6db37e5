//! A mail fitted to a message's limits. A customer's mail must not be lost, so nothing in it is
//! refused: a subject or text that is too long is cut, attachments beyond the limits are left
//! out, and what did not fit is named for staff in an internal note. The raw mail is always kept
//! as `original.eml`, so nothing cut is gone for good.

use growdesk_domain::{MessageBody, Subject};
use growdesk_mail::inbound::MailAttachment;
use growdesk_store::messages::NewAttachment;

use crate::ServiceError;
use crate::messages::{MAX_FILES, Upload};

/// The name the raw mail is kept under.
pub(crate) const ORIGINAL_NAME: &str = "original.eml";

/// The subject of a mail that has none.
const NO_SUBJECT: &str = "(no subject)";

/// The text of a mail that has none (only attachments, say).
const NO_TEXT: &str = "(no text)";

/// Most remarks a note lists one by one; the rest are counted.
const MAX_REMARKS: usize = 20;

/// What a mail brings to a message.
#[derive(Debug)]
pub(crate) struct Content {
    pub(crate) body: MessageBody,
    pub(crate) files: Stored,
    /// What did not fit, one sentence each, for staff.
    pub(crate) remarks: Vec<String>,
}

/// A mail's files as stored: the attachments that fit, and the raw mail (the audit copy).
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) attachments: Vec<NewAttachment>,
    pub(crate) original: NewAttachment,
}

impl Stored {
    /// The attachments, then the raw mail.
    pub(crate) fn all(self) -> Vec<NewAttachment> {
        let mut all = self.attachments;
        all.push(self.original);
        all
    }
}

/// A ticket subject from a mail's: on one line, cut to the limit, `(no subject)` when empty.
///
/// # Errors
/// None in practice: what is passed on is always a valid subject.
pub(crate) fn subject(raw: &str) -> Result<Subject, ServiceError> {
    let line = raw
        .split(char::is_control)
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    let line = if line.is_empty() {
        NO_SUBJECT.to_owned()
    } else if line.chars().count() > Subject::MAX_LEN {
        let mut cut: String = line.chars().take(Subject::MAX_LEN - 1).collect();
        cut.push('…');
        cut
    } else {
        line
    };
    Subject::parse(&line).map_err(|error| ServiceError::Internal(error.to_string().into()))
}

/// `text` as a message may hold it: line breaks as `\n`, no other control characters but tabs,
/// cut to the limit (said in `remarks`); `None` when nothing is left.
pub(crate) fn fitted(text: &str, remarks: &mut Vec<String>) -> Option<String> {
    let text: String = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= MessageBody::MAX_LEN {
        return Some(text.to_owned());
    }
    remarks.push(format!(
        "The text was cut at {} characters; the whole mail is attached as {ORIGINAL_NAME}.",
        MessageBody::MAX_LEN
    ));
    let cut: String = text.chars().take(MessageBody::MAX_LEN).collect();
    Some(cut.trim_end().to_owned())
}

/// `text` as a message body (see `fitted`), `fallback` when nothing is left of it.
///
/// # Errors
/// None in practice: what is passed on is always a valid body.
pub(crate) fn body(
    text: &str,
    fallback: &str,
    remarks: &mut Vec<String>,
) -> Result<MessageBody, ServiceError> {
    let text = fitted(text, remarks)
        .or_else(|| fitted(fallback, remarks))
        .unwrap_or_else(|| NO_TEXT.to_owned());
    MessageBody::parse(&text).map_err(|error| ServiceError::Internal(error.to_string().into()))
}

/// A file name as it may appear in a note.
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The attachments that fit: in order, at most `MAX_FILES` files with the raw mail and at most
/// `max_bytes` between them (the raw mail apart: it is the audit copy).
pub(crate) fn files(
    attachments: Vec<MailAttachment>,
    max_bytes: usize,
    remarks: &mut Vec<String>,
) -> Vec<Upload> {
    let mut kept = Vec::new();
    let mut total = 0_usize;
    for attachment in attachments {
        let size = attachment.bytes.len();
        if kept.len() + 1 >= MAX_FILES {
            remarks.push(format!(
                "The attachment “{}” was not kept: a message holds at most {MAX_FILES} files.",
                shown(&attachment.filename)
            ));
        } else if total.saturating_add(size) > max_bytes {
            remarks.push(format!(
                "The attachment “{}” ({size} bytes) was not kept: a message's attachments may \
                 total at most {max_bytes} bytes.",
                shown(&attachment.filename)
            ));
        } else {
            total += size;
            kept.push(Upload {
                filename: attachment.filename,
                content_type: attachment.content_type,
                bytes: attachment.bytes,
            });
        }
    }
    kept
}

/// The raw mail as a file.
pub(crate) fn original(raw: Vec<u8>) -> Upload {
    Upload {
        filename: ORIGINAL_NAME.to_owned(),
        content_type: "message/rfc822".to_owned(),
        bytes: raw,
    }
}

/// The internal note naming what did not fit, if anything did not: the first remarks, then how
/// many more.
///
/// # Errors
/// None in practice: the note is fitted to a message.
pub(crate) fn remarks_note(remarks: &[String]) -> Result<Option<MessageBody>, ServiceError> {
    if remarks.is_empty() {
        return Ok(None);
    }
    let mut note = "Received by email; not everything fitted in the message:".to_owned();
    for remark in remarks.iter().take(MAX_REMARKS) {
        note.push_str("\n- ");
        note.push_str(remark);
    }
    if remarks.len() > MAX_REMARKS {
        note.push_str(&format!("\n- …and {} more.", remarks.len() - MAX_REMARKS));
    }
    body(&note, "", &mut Vec::new()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(name: &str, size: usize) -> MailAttachment {
        MailAttachment {
            filename: name.to_owned(),
            content_type: "application/pdf".to_owned(),
            bytes: vec![b'x'; size],
            inline: false,
        }
    }

    #[test]
    fn subjects_are_one_line_within_the_limit() {
        assert_eq!(
            subject("  Printer\r\n  on\tfire ").unwrap().as_str(),
            "Printer on fire"
        );
        assert_eq!(subject("").unwrap().as_str(), NO_SUBJECT);
        assert_eq!(subject("\u{0}\u{7}").unwrap().as_str(), NO_SUBJECT);
        let long = subject(&"é".repeat(500)).unwrap();
        assert_eq!(long.as_str().chars().count(), Subject::MAX_LEN);
        assert!(long.as_str().ends_with('…'));
    }

    #[test]
    fn a_long_text_is_cut_and_said_so() {
        let mut remarks = Vec::new();
        let text = "a".repeat(MessageBody::MAX_LEN + 10);
        let body = body(&text, "", &mut remarks).unwrap();
        assert_eq!(body.as_str().chars().count(), MessageBody::MAX_LEN);
        assert_eq!(remarks.len(), 1);
        assert!(remarks[0].contains(ORIGINAL_NAME));
    }

    #[test]
    fn an_empty_text_falls_back_to_the_whole_text_then_to_a_placeholder() {
        let mut remarks = Vec::new();
        let body1 = body(" \r\n ", "Hello\r\nagain\u{0}", &mut remarks).unwrap();
        assert_eq!(body1.as_str(), "Hello\nagain");
        assert_eq!(body("", "", &mut remarks).unwrap().as_str(), NO_TEXT);
        assert!(remarks.is_empty());
    }

    #[test]
    fn attachments_beyond_the_limits_are_named_not_kept() {
        let mut remarks = Vec::new();
        let attachments = vec![
            attachment("a.pdf", 600),
            attachment("big.pdf", 600),
            attachment("b.pdf", 400),
        ];
        let kept = files(attachments, 1000, &mut remarks);
        let names: Vec<&str> = kept.iter().map(|file| file.filename.as_str()).collect();
        assert_eq!(names, ["a.pdf", "b.pdf"]);
        assert_eq!(remarks.len(), 1);
        assert!(remarks[0].contains("big.pdf"), "{remarks:?}");
        let raw = original(b"raw".to_vec());
        assert_eq!(
            (raw.filename.as_str(), raw.content_type.as_str()),
            (ORIGINAL_NAME, "message/rfc822")
        );

        let mut remarks = Vec::new();
        let many = (0..MAX_FILES + 2)
            .map(|n| attachment(&format!("{n}.pdf\r\n"), 1))
            .collect();
        let kept = files(many, 1000, &mut remarks);
        assert_eq!(kept.len(), MAX_FILES - 1, "room is left for the raw mail");
        assert_eq!(remarks.len(), 3);
        assert!(remarks.iter().all(|remark| !remark.contains('\r')));
        assert!(remarks_note(&remarks).unwrap().is_some());
        assert_eq!(remarks_note(&[]).unwrap(), None);
    }

    #[test]
    fn a_note_of_countless_remarks_stays_a_message() {
        let mut remarks = Vec::new();
        let many = (0..10_000)
            .map(|n| attachment(&format!("{n}-{}.bin", "x".repeat(150)), 1))
            .collect();
        files(many, 1000, &mut remarks);
        assert_eq!(remarks.len(), 10_000 - (MAX_FILES - 1));
        let note = remarks_note(&remarks).unwrap().unwrap();
        assert!(note.as_str().chars().count() <= MessageBody::MAX_LEN);
        assert!(
            note.as_str()
                .ends_with(&format!("…and {} more.", remarks.len() - MAX_REMARKS))
        );
    }
}
