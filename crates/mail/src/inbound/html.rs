//! HTML bodies as text (html2text), and the quoted history of an HTML reply removed from its DOM
//! before the conversion, where the mail clients' own markup still says what is quoted.

use std::panic::{AssertUnwindSafe, catch_unwind};

use html2text::render::TextDecorator;
use html2text::{Element, Handle, RcDom};

/// Paragraphs stay one line each: the console wraps text, and the quote stripper reads an
/// attribution or an Outlook header line whole.
const WIDTH: usize = 10_000;

/// Building a DOM takes time growing with the square of the nesting depth, and html2text walks it
/// recursively (a stack overflow aborts the process, which no `catch_unwind` stops): HTML with
/// more start tags than this, and so possibly nested that deep, is converted by mail-parser's
/// linear tag stripper instead, without removing its quotes. Replies are far below it.
const MAX_START_TAGS: usize = 4_000;

/// Markup that holds the quoted original and nothing of the reply, removed alone: the reply may
/// go on after it (bottom posting).
const QUOTE_CLASSES: &[&str] = &[
    "gmail_quote",
    "gmail_attr",
    "moz-cite-prefix",
    "yahoo_quoted",
    "protonmail_quote",
];

/// Markup where an Outlook/Hotmail-style header block of the original starts: it and everything
/// after it in the document is the original.
const CUT_IDS: &[&str] = &[
    "divRplyFwdMsg",
    "x_divRplyFwdMsg",
    "OLK_SRC_BODY_SECTION",
    "appendonsend",
    "stopSpelling",
    "mail-editor-reference-message-container",
];

/// The whole HTML body as text.
pub(super) fn to_text(markup: &str) -> String {
    render(markup, |_| {})
}

/// The HTML body without its quoted history, as text.
pub(super) fn reply_to_text(markup: &str) -> String {
    render(markup, remove_quotes)
}

fn render(markup: &str, prune: fn(&RcDom)) -> String {
    if start_tags(markup) > MAX_START_TAGS {
        return mail_parser::decoders::html::html_to_text(markup);
    }
    // html2text is a well-kept renderer, but a mail is hostile input and a panic here must not
    // take the import of the whole mailbox with it: an unreadable HTML body is an empty text.
    catch_unwind(AssertUnwindSafe(|| {
        // Mail lays pages out with tables: each cell reads best as its own lines, without borders.
        let config = html2text::config::with_decorator(MailText::default()).raw_mode(true);
        let dom = config.parse_html(markup.as_bytes()).ok()?;
        prune(&dom);
        let tree = config.dom_to_render_tree(&dom).ok()?;
        config.render_to_string(tree, WIDTH).ok()
    }))
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// Plain text as a person would type it: web links written after their text (`text <url>`) rather
/// than as footnotes, which would land after the quoted history and past the end of the reply;
/// no Markdown-like marks; blockquotes as `> ` lines, which the quote stripper knows.
#[derive(Clone, Debug, Default)]
struct MailText {
    /// The URL to show at the end of each open link (None for mailto:, anchors and the like).
    links: Vec<Option<String>>,
}

impl TextDecorator for MailText {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, ()) {
        let url = url.trim();
        let web = ["http://", "https://"].iter().any(|scheme| {
            url.get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        });
        self.links.push(web.then(|| url.to_owned()));
        (String::new(), ())
    }

    fn decorate_link_end(&mut self) -> String {
        self.links
            .pop()
            .flatten()
            .map(|url| format!(" <{url}>"))
            .unwrap_or_default()
    }

    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) {}

    fn decorate_preformat_cont(&self) {}

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        let title = title.trim();
        (
            if title.is_empty() {
                String::new()
            } else {
                format!("[{title}]")
            },
            (),
        )
    }

    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }

    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }

    fn unordered_item_prefix(&self) -> String {
        "* ".to_owned()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        MailText::default()
    }
}

/// How many start tags (`<` and a letter) the markup has: a bound on its nesting depth.
fn start_tags(markup: &str) -> usize {
    markup
        .as_bytes()
        .windows(2)
        .filter(|pair| pair[0] == b'<' && pair[1].is_ascii_alphabetic())
        .count()
}

enum Quote {
    /// This element is quoted; what follows it is not necessarily.
    Element,
    /// From this element to the end of the document everything is the original.
    Rest,
}

fn quote_kind(node: &Handle) -> Option<Quote> {
    let Element { name, attrs, .. } = &node.data else {
        return None;
    };
    let attrs = attrs.borrow();
    let attr = |wanted: &str| {
        attrs
            .iter()
            .find(|a| (*a.name.local).eq_ignore_ascii_case(wanted))
            .map(|a| &*a.value)
    };
    if attr("id").is_some_and(|id| CUT_IDS.iter().any(|cut| id.eq_ignore_ascii_case(cut))) {
        return Some(Quote::Rest);
    }
    let quoted_class = attr("class").is_some_and(|classes| {
        classes
            .split_ascii_whitespace()
            .any(|class| QUOTE_CLASSES.contains(&class))
    });
    (quoted_class || (*name.local).eq_ignore_ascii_case("blockquote")).then_some(Quote::Element)
}

/// Finds the quoted elements in document order (without recursion: a mail may nest deeply) and
/// removes them; the first "rest" marker ends the search and the document.
fn remove_quotes(dom: &RcDom) {
    let mut quoted = Vec::new();
    let mut cut = None;
    let mut pending = vec![dom.document.clone()];
    while let Some(node) = pending.pop() {
        match quote_kind(&node) {
            Some(Quote::Rest) => {
                cut = Some(node);
                break;
            }
            Some(Quote::Element) => quoted.push(node),
            None => pending.extend(node.children.borrow().iter().rev().cloned()),
        }
    }
    for node in quoted {
        detach(&node);
    }
    if let Some(node) = cut {
        truncate_from(&node);
    }
}

fn detach(node: &Handle) {
    if let Some(parent) = node.get_parent() {
        parent
            .children
            .borrow_mut()
            .retain(|child| !std::rc::Rc::ptr_eq(child, node));
    }
}

/// Removes `node` and everything after it in document order: its later siblings, and the later
/// siblings of each of its ancestors.
fn truncate_from(node: &Handle) {
    let mut current = node.clone();
    let mut inclusive = true;
    while let Some(parent) = current.get_parent() {
        let mut children = parent.children.borrow_mut();
        if let Some(index) = children
            .iter()
            .position(|child| std::rc::Rc::ptr_eq(child, &current))
        {
            children.truncate(if inclusive { index } else { index + 1 });
        }
        drop(children);
        inclusive = false;
        current = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squash(text: &str) -> String {
        text.split_whitespace().collect()
    }

    #[test]
    fn html_becomes_text_with_paragraphs_on_lines() {
        let text = to_text("<p>Hello <b>there</b></p><p>Second&nbsp;line &amp; more</p>");
        assert!(text.contains("Hello"), "{text}");
        assert!(text.contains("there"), "{text}");
        assert!(text.contains("Second\u{a0}line & more") || text.contains("Second line & more"));
        assert!(!text.contains('<'));
    }

    #[test]
    fn web_links_follow_their_text_and_mail_links_do_not() {
        let text = to_text(
            "<p>See <a href=\"https://example.com/a?b=1\">the page</a> or \
             <a href=\"mailto:ann@example.com\">ann@example.com</a>.</p>",
        );
        assert_eq!(
            text.trim(),
            "See the page <https://example.com/a?b=1> or ann@example.com."
        );
    }

    #[test]
    fn html_with_too_many_tags_is_still_text() {
        let markup = format!(
            "<p>Deep</p>{}end{}",
            "<div>".repeat(MAX_START_TAGS),
            "</div>".repeat(MAX_START_TAGS)
        );
        let text = to_text(&markup);
        assert!(text.contains("Deep") && text.contains("end"), "{text}");
        assert!(!text.contains('<'));
    }

    #[test]
    fn layout_tables_become_lines_without_borders() {
        let text = to_text(
            "<table><tr><td>Order</td><td>Status</td></tr>\
             <tr><td>1234</td><td>Shipped</td></tr></table><p>Thanks</p>",
        );
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines, ["Order", "Status", "1234", "Shipped", "Thanks"]);
    }

    #[test]
    fn scripts_and_styles_are_not_text() {
        let text = to_text("<style>p{color:red}</style><script>alert(1)</script><p>Visible</p>");
        assert_eq!(text.trim(), "Visible");
    }

    #[test]
    fn blockquotes_are_removed_but_text_after_them_stays() {
        let text =
            reply_to_text("<div>On Monday Ann wrote:</div><blockquote>old</blockquote><p>new</p>");
        assert!(!text.contains("old"), "{text}");
        assert_eq!(squash(&text), "OnMondayAnnwrote:new");
    }

    #[test]
    fn an_outlook_reply_header_cuts_the_rest_of_the_document() {
        let text = reply_to_text(
            "<div><p>Thanks!</p><div id=\"divRplyFwdMsg\"><b>From:</b> Ann</div>\
             <div>original text</div></div><p>more original</p>",
        );
        assert_eq!(squash(&text), "Thanks!");
    }

    #[test]
    fn outlook_web_source_sections_and_yahoo_quotes_are_quotes() {
        let text = reply_to_text(
            "<p>Mine</p><div class=\"yahoo_quoted\">theirs</div>\
             <div id=\"OLK_SRC_BODY_SECTION\">From: x</div><p>old</p>",
        );
        assert_eq!(squash(&text), "Mine");
    }
}
