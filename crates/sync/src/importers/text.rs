//! Text the importers derive from a source's own: a subject from a message's first line, and
//! plain text from an HTML body (for records whose text version is empty).

use growdesk_domain::Subject;

/// The longest subject taken from a message's first line, in characters (an ellipsis included).
const SUMMARY_CHARS: usize = 80;

/// A subject for a record that has none: the first line of `text` holding anything but white
/// space, its runs of white space made single spaces, cut at a word boundary to at most
/// `SUMMARY_CHARS` characters with an ellipsis. `None` when `text` is blank.
pub(crate) fn subject_from(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|line| !line.is_empty())?;
    Some(shortened(&line, SUMMARY_CHARS.min(Subject::MAX_LEN)))
}

/// `text` itself when it fits in `limit` characters, else its longest prefix ending at a word
/// boundary (or, for one long word, at `limit - 1` characters) followed by `…`.
pub(crate) fn shortened(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let kept: String = text.chars().take(limit.saturating_sub(1)).collect();
    let cut = match kept.rfind(' ') {
        Some(space) if space > 0 => kept[..space].trim_end(),
        _ => kept.as_str(),
    };
    format!("{cut}…")
}

/// Elements whose content is not text a reader sees.
const HIDDEN: &[&str] = &["script", "style", "head", "title", "template"];
/// Elements that start or end a line.
const BREAKS: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "ul",
    "ol",
    "table",
];

/// Plain text from an HTML fragment: tags dropped (with the content of scripts and styles),
/// block elements and `<br>` made line ends, character references decoded. The result is
/// stored as text, like any message body, and never rendered as HTML.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    let mut hidden: Option<String> = None;
    while let Some(open) = rest.find('<') {
        if hidden.is_none() {
            text.push_str(&decode_entities(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..close];
        rest = &after[close + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match &hidden {
            Some(inside) if closing && *inside == name => hidden = None,
            Some(_) => {}
            None if !closing && HIDDEN.contains(&name.as_str()) => hidden = Some(name),
            None if BREAKS.contains(&name.as_str()) => text.push('\n'),
            None => {}
        }
    }
    if hidden.is_none() {
        text.push_str(&decode_entities(rest));
    }
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut joined = lines.join("\n");
    while joined.contains("\n\n\n") {
        joined = joined.replace("\n\n\n", "\n\n");
    }
    joined.trim().to_owned()
}

/// `text` with its HTML character references (`&amp;`, `&#39;`, `&#x2019;`, …) decoded; an
/// unknown or malformed one is kept as written.
fn decode_entities(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        decoded.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let reference = after
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| entity(&after[..end]).map(|character| (character, end)));
        match reference {
            Some((character, end)) => {
                decoded.push(character);
                rest = &after[end + 1..];
            }
            None => {
                decoded.push('&');
                rest = after;
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

fn entity(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix: u32| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with(['x', 'X']) => numeric(&hex[1..], 16),
            Some(decimal) => numeric(decimal, 10),
            None => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_the_first_line_cut_at_a_word() {
        assert_eq!(
            subject_from("\n  My   card was\tcharged twice \nand more").as_deref(),
            Some("My card was charged twice")
        );
        let long = "word ".repeat(40);
        let subject = subject_from(&long).unwrap();
        assert!(subject.chars().count() <= SUMMARY_CHARS, "{subject}");
        assert!(subject.ends_with("word…"), "{subject}");
        assert_eq!(subject_from(" \n\t"), None);
        let one_word = "x".repeat(300);
        assert_eq!(
            subject_from(&one_word).unwrap().chars().count(),
            SUMMARY_CHARS
        );
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_text(
                "<div>Hello &amp; welcome,<br>see <a href=\"x\">this</a>&nbsp;&#39;now&#x27;</div>\
                 <script>alert(1)</script><style>p{}</style><p>Bye &lt;b&gt; &bogus; & done</p>"
            ),
            "Hello & welcome,\nsee this 'now'\n\nBye <b> &bogus; & done"
        );
        assert_eq!(html_to_text("<p>   </p>"), "");
        assert_eq!(html_to_text("unclosed <b"), "unclosed");
    }
}
