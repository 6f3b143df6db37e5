//! The text of a mail: which parts mail-parser chose as the body, HTML parts turned into text,
//! line endings made uniform.

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::html;

/// The body twice: whole (`full`), and with quoted HTML blocks already removed (`reply`), which
/// the plain-text quote stripper then finishes.
pub(super) struct Body {
    pub(super) full: String,
    pub(super) reply: String,
}

impl Body {
    pub(super) fn of(message: &Message<'_>) -> Body {
        // mail-parser lists the text alternative of every body part in `text_body`, or the HTML
        // one where a part has no text alternative; attachments are never in these lists. Some
        // clients send an empty text alternative next to the real HTML one: then the HTML counts.
        let text = Body::from_parts(message, &message.text_body);
        if text.full.is_empty() {
            let html = Body::from_parts(message, &message.html_body);
            if !html.full.is_empty() {
                return html;
            }
        }
        text
    }

    fn from_parts(message: &Message<'_>, ids: &[u32]) -> Body {
        let mut full = Vec::new();
        let mut reply = Vec::new();
        for part in ids.iter().filter_map(|&id| message.part(id)) {
            match &part.body {
                PartType::Text(text) => {
                    let text = normalise(utf8_despite_label(message, part).unwrap_or(text));
                    reply.push(text.clone());
                    full.push(text);
                }
                PartType::Html(markup) => {
                    full.push(normalise(&html::to_text(markup)));
                    reply.push(normalise(&html::reply_to_text(markup)));
                }
                _ => {}
            }
        }
        Body {
            full: join(full),
            reply: join(reply),
        }
    }
}

/// An 8-bit part labelled with a legacy charset whose bytes are valid UTF-8 with non-ASCII
/// characters is UTF-8: some servers re-encode bodies without changing the label, and text in a
/// legacy charset almost never happens to be valid UTF-8.
fn utf8_despite_label<'a>(message: &'a Message<'_>, part: &MessagePart<'_>) -> Option<&'a str> {
    let charset = part
        .content_type()?
        .attribute("charset")?
        .trim()
        .to_ascii_lowercase();
    if part.encoding != Encoding::None || matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii")
    {
        return None;
    }
    let bytes = message
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.is_ascii()).then_some(text)
}

fn join(parts: Vec<String>) -> String {
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `\n` line endings, no NUL or other control characters (a database column would refuse some,
/// a screen shows none), no trailing spaces on lines, no blank lines at either end.
pub(super) fn normalise(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<String> = unified
        .split('\n')
        .map(|line| {
            line.chars()
                .filter(|c| *c == '\t' || !c.is_control())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect();
    let first = lines.iter().position(|line| !line.is_empty());
    let last = lines.iter().rposition(|line| !line.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn an_empty_text_alternative_gives_way_to_the_html_one() {
        let raw = "Subject: x\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\n \r\n\
            --b\r\nContent-Type: text/html\r\n\r\n<p>Only <b>here</b></p>\r\n--b--\r\n";
        let mail = super::super::parse(raw.as_bytes());
        assert_eq!(mail.text, "Only here");
    }

    #[test]
    fn normalise_unifies_line_ends_and_drops_control_characters() {
        assert_eq!(normalise("\r\n\r\na\u{0}b  \r\nc\rd\t\n\n"), "ab\nc\nd");
        assert_eq!(normalise(" \n\t\n"), "");
        assert_eq!(normalise("  indented\n\n\nkept"), "  indented\n\n\nkept");
    }
}
