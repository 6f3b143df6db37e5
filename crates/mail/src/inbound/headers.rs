//! The header fields of a parsed mail in the shapes `ParsedMail` holds: ids without `<>`,
//! lower-cased addresses, a checked date.

use mail_parser::{HeaderValue, Message, MimeHeaders};
use time::OffsetDateTime;

use super::Address;

/// A text header's values, whichever way mail-parser stored them (one text or a list).
pub(super) fn texts<'a>(value: &'a HeaderValue<'_>) -> Vec<&'a str> {
    match value {
        HeaderValue::Text(text) => vec![text.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    }
}

/// A header of `headers` (the last one of that name, as mail-parser reads them) as one trimmed
/// string, or None when absent or empty.
pub(super) fn text(message: &Message<'_>, name: &str) -> Option<String> {
    let joined = message.header(name).map(texts)?.join(", ");
    let trimmed = joined.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

pub(super) fn message_id(message: &Message<'_>) -> Option<String> {
    message.message_id().and_then(clean_id)
}

/// The ids of In-Reply-To or References: the last `MAX_THREAD_IDS` (the nearest ancestors come
/// last), so a mail cannot make threading look up thousands of ids.
pub(super) fn message_ids(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<String> = texts(value).into_iter().filter_map(clean_id).collect();
    let skip = ids.len().saturating_sub(MAX_THREAD_IDS);
    ids.into_iter().skip(skip).collect()
}

/// How many ids of a thread header are kept.
const MAX_THREAD_IDS: usize = 100;

/// Longer ids are not real ones (RFC 5322 lines stop at 998 characters) and would not fit a
/// database index: such an id counts as missing.
const MAX_ID_CHARS: usize = 500;

/// An id as we store and compare it: no angle brackets, no spaces; None if nothing is left.
fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && !id.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then(|| id.to_owned())
}

pub(super) fn first_address(address: &mail_parser::Address<'_>) -> Option<Address> {
    address.iter().find_map(convert)
}

pub(super) fn addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<Address> {
    address
        .map(|list| list.iter().filter_map(convert).collect())
        .unwrap_or_default()
}

/// A header value shown on one line: control characters (a folded or hostile header's CR, LF,
/// NUL) become spaces, runs of spaces one.
pub(super) fn single_line(value: &str) -> String {
    let spaced: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn convert(addr: &mail_parser::Addr<'_>) -> Option<Address> {
    let email = addr.address.as_deref()?.trim();
    if email.is_empty() || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let name = addr
        .name
        .as_deref()
        .map(single_line)
        .filter(|name| !name.is_empty());
    Some(Address {
        email: email.to_lowercase(),
        name,
    })
}

pub(super) fn date(message: &Message<'_>) -> Option<OffsetDateTime> {
    let date = message.date().filter(|date| date.is_valid())?;
    OffsetDateTime::from_unix_timestamp(date.to_timestamp()).ok()
}

/// The list identifier: the part of `List-Id` in `<>` (mail-parser reads it as an address).
pub(super) fn list_id(message: &Message<'_>) -> Option<String> {
    let addr = message.list_id().as_address()?.iter().next()?;
    let id = single_line(addr.address.as_deref().or(addr.name.as_deref())?);
    (!id.is_empty()).then_some(id)
}

pub(super) fn content_language(message: &Message<'_>) -> Option<String> {
    let languages: Vec<String> = texts(message.content_language())
        .into_iter()
        .map(single_line)
        .filter(|language| !language.is_empty())
        .collect();
    (!languages.is_empty()).then(|| languages.join(", "))
}
