//! The files a mail carries: attachments, inline images, and forwarded messages (one `.eml` file
//! each, the message as it was sent).

use mail_parser::decoders::base64::base64_decode;
use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::MailAttachment;
use super::headers::single_line;

/// A filename stays readable; the service shortens and sanitises it further for storage.
const MAX_NAME_CHARS: usize = 150;

pub(super) fn collect(message: &Message<'_>) -> Vec<MailAttachment> {
    message
        .attachments
        .iter()
        .filter_map(|&id| message.part(id))
        .enumerate()
        .filter_map(|(index, part)| attachment(message, part, index + 1))
        .filter(|attachment| !attachment.bytes.is_empty())
        .collect()
}

fn attachment(
    message: &Message<'_>,
    part: &MessagePart<'_>,
    ordinal: usize,
) -> Option<MailAttachment> {
    let media_type = media_type(part);
    let (bytes, content_type, fallback_name) = match &part.body {
        PartType::Message(nested) => {
            let subject = nested.subject().map(single_line).filter(|s| !s.is_empty());
            (
                nested_raw(message, part, nested),
                "message/rfc822".to_owned(),
                format!("{}.eml", subject.as_deref().unwrap_or("message")),
            )
        }
        // A base64 part without a usable Content-Type ("Content-Type: ; name=photo.jpg") is
        // read as text by mail-parser, which would mangle a binary file: decode it again as bytes.
        PartType::Text(_) | PartType::Html(_) if untyped_base64(part) => {
            let name = part.attachment_name().unwrap_or_default();
            let media_type = media_type_of_name(name);
            let bytes = message
                .raw_message
                .get(part.offset_body as usize..part.offset_end as usize)
                .and_then(base64_decode)
                .unwrap_or_default();
            (
                bytes,
                media_type.to_owned(),
                format!("attachment-{ordinal}.{}", extension(media_type)),
            )
        }
        // Blank unnamed text (what is left of a broken multipart) is no file anyone sent.
        PartType::Text(text) | PartType::Html(text)
            if text.trim().is_empty() && part.attachment_name().is_none() =>
        {
            return None;
        }
        // mail-parser has decoded text parts from their charset: the bytes are UTF-8 now.
        PartType::Text(text) | PartType::Html(text) => {
            // A part mail-parser could only read as text (a broken multipart) is text now.
            let text_type = if media_type.starts_with("text/") {
                media_type.as_str()
            } else {
                "text/plain"
            };
            (
                text.as_bytes().to_vec(),
                format!("{text_type}; charset=utf-8"),
                format!("attachment-{ordinal}.{}", extension(text_type)),
            )
        }
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => (
            bytes.to_vec(),
            media_type.clone(),
            format!("attachment-{ordinal}.{}", extension(&media_type)),
        ),
        PartType::Multipart(_) => return None,
    };
    // A forwarded message is named after its subject, which says what it is better than the
    // "ForwardedMessage.eml" mail clients give it.
    let named = part
        .attachment_name()
        .map(single_line)
        .filter(|name| !name.is_empty() && !matches!(part.body, PartType::Message(_)));
    let filename: String = named
        .unwrap_or(fallback_name)
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let declared_attachment = part
        .content_disposition()
        .is_some_and(|disposition| disposition.is_attachment());
    let inline = !declared_attachment
        && (part.content_id().is_some() || matches!(part.body, PartType::InlineBinary(_)));
    Some(MailAttachment {
        filename,
        content_type,
        bytes,
        inline,
    })
}

/// The forwarded message's own bytes: its slice of the raw mail when it was not
/// transfer-encoded, else what mail-parser decoded it from.
fn nested_raw(message: &Message<'_>, part: &MessagePart<'_>, nested: &Message<'_>) -> Vec<u8> {
    if part.encoding != Encoding::None {
        return nested.raw_message.to_vec();
    }
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).max(start);
    message
        .raw_message
        .get(start..end)
        .or_else(|| message.raw_message.get(start..))
        .unwrap_or_default()
        .to_vec()
}

fn untyped_base64(part: &MessagePart<'_>) -> bool {
    part.encoding == Encoding::Base64
        && part
            .content_type()
            .is_none_or(|ct| ct.ctype().trim().is_empty())
        && part.attachment_name().is_some()
}

fn media_type_of_name(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// `type/subtype` in lower case; a part without a usable Content-Type is octet-stream.
fn media_type(part: &MessagePart<'_>) -> String {
    let declared = part.content_type().and_then(|ct| {
        let ctype = ct.ctype().trim();
        let subtype = ct.subtype().map(str::trim).filter(|s| !s.is_empty());
        (!ctype.is_empty()).then(|| format!("{ctype}/{}", subtype.unwrap_or("octet-stream")))
    });
    match (declared, &part.body) {
        (Some(declared), _) => declared.to_lowercase(),
        (None, PartType::Text(_)) => "text/plain".to_owned(),
        (None, PartType::Html(_)) => "text/html".to_owned(),
        (None, _) => "application/octet-stream".to_owned(),
    }
}

fn extension(media_type: &str) -> &'static str {
    match media_type {
        "text/plain" | "message/delivery-status" | "text/rfc822-headers" => "txt",
        "text/html" => "html",
        "message/rfc822" | "message/news" => "eml",
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "text/calendar" => "ics",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn encoded_names_inline_images_and_forwarded_messages() {
        let raw = "From: a@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
            --b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
            --b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''factura%20n%C2%BA1.pdf\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
            --b1\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
            --b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@example.com\r\nSubject: the original\r\n\r\nold body\r\n\
            --b1--\r\n";
        let mail = parse(raw.as_bytes());
        assert_eq!(mail.text, "See attached.");
        let names: Vec<&str> = mail
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(
            names,
            ["factura nº1.pdf", "attachment-2.png", "the original.eml"]
        );
        assert_eq!(mail.attachments[0].bytes, b"%PDF-1.4\n");
        assert!(!mail.attachments[0].inline);
        assert!(mail.attachments[1].inline);
        assert_eq!(mail.attachments[2].content_type, "message/rfc822");
        let forwarded = String::from_utf8_lossy(&mail.attachments[2].bytes);
        assert!(forwarded.starts_with("From: b@example.com"), "{forwarded}");
        assert!(forwarded.trim_end().ends_with("old body"), "{forwarded}");
    }
}
