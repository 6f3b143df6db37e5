//! An agent's own tools: saved views of the queue and canned replies, each personal or shared
//! with every agent by an admin.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ticket::checked_text;
use crate::{Priority, Tags, TicketStatus, ValidationErrors, ValueError};

/// A saved view's name or a canned reply's title: one line, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_LEN: usize = 100;

    /// # Errors
    /// Empty, too long, or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        checked_text(raw, Self::MAX_LEN, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket filter kept under a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SavedView {
    pub id: Uuid,
    pub name: String,
    /// Shared views are listed to every agent; only admins create, change and delete them.
    pub shared: bool,
    /// Who keeps a personal view (only they see it); `null` for a shared one.
    pub owner_id: Option<Uuid>,
    pub filter: ViewFilter,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A view's filter: the query parameters of `GET /api/tickets` but the page, with the same
/// meanings, so a client lists a view by passing them on (`status` comma-separated there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewFilter {
    /// Any of these statuses; empty for every status.
    #[serde(default)]
    pub status: Vec<TicketStatus>,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    /// A user id, `me` (whoever lists the view) or `none`.
    #[schema(
        pattern = "^(me|none|[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub assignee_id: Option<String>,
    pub requester_id: Option<Uuid>,
    /// One tag, as in a ticket's `tags` (kept normalised).
    #[schema(
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[\w.-]{1,50}[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub tag: Option<String>,
    /// Full-text search words, up to 500 characters.
    #[schema(max_length = 500)]
    pub q: Option<String>,
    pub sort: Option<ViewSort>,
    pub order: Option<SortOrder>,
}

impl ViewFilter {
    /// Longest search text.
    pub const MAX_SEARCH: usize = 500;

    /// The filter with its tag normalised, once each field holds a value the ticket list takes;
    /// errors name the field under `filter.`.
    ///
    /// # Errors
    /// An assignee that is not a user id, `me` or `none`; an invalid tag; a search too long.
    pub fn validated(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(assignee) = &self.assignee_id
            && !matches!(assignee.as_str(), "me" | "none")
            && Uuid::parse_str(assignee).is_err()
        {
            errors.add("filter.assignee_id", "must be a user id, me or none");
        }
        if let Some(tag) = self.tag.take() {
            self.tag = errors.check("filter.tag", Tags::parse_one(&tag));
        }
        if self
            .q
            .as_ref()
            .is_some_and(|q| q.chars().count() > Self::MAX_SEARCH)
        {
            errors.add(
                "filter.q",
                format!("must be at most {} characters", Self::MAX_SEARCH),
            );
        }
        errors.into_result(|| self)
    }
}

/// What a view's tickets are sorted by (`created_at` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewSort {
    CreatedAt,
    UpdatedAt,
    Priority,
    Number,
}

/// Which way a view's tickets are sorted (`desc` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// A saved reply an agent inserts into the composer, by its title or its shortcut.
///
/// The body may hold the placeholders `{{requester.name}}`, `{{ticket.number}}` and
/// `{{agent.name}}`, kept as written: the client fills them in when it inserts the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CannedReply {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    /// Typed after `/` in the composer; lower case.
    pub shortcut: Option<String>,
    /// Shared replies are listed to every agent; only admins create, change and delete them.
    pub shared: bool,
    /// Who keeps a personal reply (only they see it); `null` for a shared one.
    pub owner_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A canned reply's shortcut: 1 to 32 letters, digits, `-` or `_` (ASCII), kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub const MAX_LEN: usize = 32;

    /// # Errors
    /// Empty, too long, or holding another character.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let shortcut = raw.trim().to_ascii_lowercase();
        if shortcut.is_empty() {
            return Err(ValueError::Empty);
        }
        if shortcut.len() > Self::MAX_LEN {
            return Err(ValueError::TooLong(Self::MAX_LEN));
        }
        if !shortcut
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            return Err(ValueError::NotAShortcut);
        }
        Ok(Self(shortcut))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
