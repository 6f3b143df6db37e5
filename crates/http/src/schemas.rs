//! Schemas of the checked values requests carry — trimmed text, passwords, emails, event types —
//! written once, so that the document accepts exactly what the service accepts.
//!
//! The service trims text before checking it, so a length limit on the raw string would be
//! wrong both ways; the patterns here say "up to N characters between optional surrounding
//! whitespace" instead. Whitespace is Rust's `char::is_whitespace` (what `str::trim` removes)
//! and control characters are `char::is_control`, spelled out because `\s` differs between
//! regex dialects.

use growdesk_domain::{EventKind, webhook};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type,
};

/// What `str::trim` removes.
const SPACE: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Every control character.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Control characters other than tab and line breaks.
const CONTROL_BUT_BREAKS: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

fn string_type(nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    }
}

/// Text the service trims and then checks: at most `max` characters, none of them a control
/// character (tabs and line breaks allowed where `multiline`), not blank when `required`.
fn trimmed(max: usize, multiline: bool, required: bool, nullable: bool) -> Object {
    let control = if multiline {
        CONTROL_BUT_BREAKS
    } else {
        CONTROL
    };
    let edge = format!("[^{SPACE}{control}]");
    let core = format!("{edge}(?:[^{control}]{{0,{}}}{edge})?", max - 2);
    let core = if required {
        core
    } else {
        format!("(?:{core})?")
    };
    let blank = if required { ", not blank" } else { "" };
    let lines = if multiline {
        "tabs and line breaks allowed"
    } else {
        "one line"
    };
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .description(Some(format!(
            "At most {max} characters after trimming{blank}; {lines}, no other control characters."
        )))
        .pattern(Some(format!("^[{SPACE}]*{core}[{SPACE}]*$")))
        .build()
}

/// A display name (`PersonName`): one line, 1 to 200 characters.
pub(crate) fn person_name() -> Object {
    trimmed(200, false, true, false)
}

/// A display name, or `null` for the default.
pub(crate) fn person_name_or_null() -> Object {
    trimmed(200, false, true, true)
}

/// A ticket subject: one line, 1 to 200 characters.
pub(crate) fn subject() -> Object {
    trimmed(200, false, true, false)
}

/// A ticket subject, or `null` to leave it.
pub(crate) fn subject_or_null() -> Object {
    trimmed(200, false, true, true)
}

/// A message body: 1 to 50,000 characters, line breaks allowed.
pub(crate) fn message_body() -> Object {
    trimmed(50_000, true, true, false)
}

/// A message body, or `null` to leave it.
pub(crate) fn message_body_or_null() -> Object {
    trimmed(50_000, true, true, true)
}

/// A canned reply's shortcut (`Shortcut`): 1 to 32 ASCII letters, digits, `-` or `_`, kept in
/// lower case; or `null` for none.
pub(crate) fn shortcut_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .pattern(Some(format!("^[{SPACE}]*[A-Za-z0-9_-]{{1,32}}[{SPACE}]*$")))
        .build()
}

/// A category's name: 1 to 100 characters.
pub(crate) fn category_name() -> Object {
    trimmed(100, true, true, false)
}

/// A saved view's name or a canned reply's title (`Title`): one line, 1 to 100 characters.
pub(crate) fn title() -> Object {
    trimmed(100, false, true, false)
}

/// A `Title`, or `null` to leave it.
pub(crate) fn title_or_null() -> Object {
    trimmed(100, false, true, true)
}

/// A category's name, or `null` to leave it.
pub(crate) fn category_name_or_null() -> Object {
    trimmed(100, true, true, true)
}

/// A category's description: up to 1,000 characters, empty allowed.
pub(crate) fn category_description_or_null() -> Object {
    trimmed(1_000, true, false, true)
}

/// A FAQ's question: 1 to 500 characters.
pub(crate) fn faq_question() -> Object {
    trimmed(500, true, true, false)
}

/// A FAQ's question, or `null` to leave it.
pub(crate) fn faq_question_or_null() -> Object {
    trimmed(500, true, true, true)
}

/// A FAQ's answer: 1 to 20,000 characters.
pub(crate) fn faq_answer() -> Object {
    trimmed(20_000, true, true, false)
}

/// A FAQ's answer, or `null` to leave it.
pub(crate) fn faq_answer_or_null() -> Object {
    trimmed(20_000, true, true, true)
}

fn password_schema(nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .description(Some("8 to 1024 characters, taken as typed (not trimmed)."))
        .min_length(Some(8))
        .max_length(Some(1024))
        .build()
}

/// A new password.
pub(crate) fn password() -> Object {
    password_schema(false)
}

/// A new password, or `null` to keep the current one.
pub(crate) fn password_or_null() -> Object {
    password_schema(true)
}

fn email_schema(nullable: bool) -> Object {
    // Trimmed and lower-cased by the service; the domain must contain a dot.
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
        .pattern(Some(r"^[^@]+@[^@\[.]+(?:\.[^@.]+)+$"))
        .build()
}

/// An email address (stored lower-cased).
pub(crate) fn email() -> Object {
    email_schema(false)
}

/// An email address, or `null`.
pub(crate) fn email_or_null() -> Object {
    email_schema(true)
}

fn event_types_schema(nullable: bool) -> utoipa::openapi::schema::Array {
    let mut names: Vec<&str> = EventKind::ALL.into_iter().map(EventKind::as_str).collect();
    names.push(webhook::ALL_EVENTS);
    names.retain(|name| webhook::is_webhook_event(name));
    let array = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(array)
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .build()
}

/// The event types a webhook subscribes to, or `*` for all of them.
pub(crate) fn webhook_event_types() -> utoipa::openapi::schema::Array {
    event_types_schema(false)
}

/// The event types a webhook subscribes to, or `null` to keep the current ones.
pub(crate) fn webhook_event_types_or_null() -> utoipa::openapi::schema::Array {
    event_types_schema(true)
}

fn tags_schema(nullable: bool) -> utoipa::openapi::schema::Array {
    let array = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(array)
        .description(Some(
            "At most 20 distinct tags, each 1 to 50 letters, digits, `-`, `_` or `.` \
             (trimmed and lower-cased).",
        ))
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some(format!(r"^[{SPACE}]*[\w.-]{{1,50}}[{SPACE}]*$"))),
        )
        .max_items(Some(20))
        .build()
}

/// A ticket's tags.
pub(crate) fn tags() -> utoipa::openapi::schema::Array {
    tags_schema(false)
}

/// A ticket's new tags, or `null` to leave them.
pub(crate) fn tags_or_null() -> utoipa::openapi::schema::Array {
    tags_schema(true)
}

/// Exact origins a widget may be used from: `https://shop.example.com`, no path, no wildcard;
/// `null` keeps the current ones.
pub(crate) fn origins_or_null() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some(format!(
                    r"^[{SPACE}]*[hH][tT][tT][pP][sS]?://[A-Za-z0-9.:\[\]-]+/*[{SPACE}]*$"
                ))),
        )
        .build()
}

fn url_schema(nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .format(Some(SchemaFormat::Custom("uri".to_owned())))
        .pattern(Some("^[hH][tT][tT][pP][sS]?://"))
        .build()
}

/// Where a webhook's deliveries go: an `http` or `https` URL.
pub(crate) fn webhook_url() -> Object {
    url_schema(false)
}

/// Where a webhook's deliveries go, or `null` to keep it.
pub(crate) fn webhook_url_or_null() -> Object {
    url_schema(true)
}

fn one_of(names: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(names.iter().copied()))
        .build()
}

/// What a ticket list is sorted by.
pub(crate) fn ticket_sort() -> Object {
    one_of(&["created_at", "updated_at", "priority", "number"])
}

/// Which way a list is sorted.
pub(crate) fn sort_order() -> Object {
    one_of(&["asc", "desc"])
}

/// A mail server's host name or address: one line, 1 to 253 characters.
pub(crate) fn host_name() -> Object {
    trimmed(253, false, true, false)
}

/// The user name a mail server signs in: one line, 1 to 320 characters.
pub(crate) fn mail_username() -> Object {
    trimmed(320, false, true, false)
}

/// An IMAP folder: one line, 1 to 200 characters.
pub(crate) fn mail_folder() -> Object {
    trimmed(200, false, true, false)
}

/// A mail server's password or app password, taken as typed; `null` clears it.
pub(crate) fn mail_password_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some(
            "1 to 1024 characters, taken as typed; write-only: never answered.",
        ))
        .min_length(Some(1))
        .max_length(Some(1024))
        .build()
}

/// Template text: not blank, at most `max` characters, kept as written.
fn template_text(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(false))
        .description(Some(format!(
            "At most {max} characters, not blank; `{{{{placeholders}}}}` the kind offers."
        )))
        .max_length(Some(max))
        .pattern(Some(format!("[^{SPACE}]")))
        .build()
}

/// An email template's subject.
pub(crate) fn template_subject() -> Object {
    template_text(500)
}

/// An email template's text or HTML body.
pub(crate) fn template_body() -> Object {
    template_text(100_000)
}
