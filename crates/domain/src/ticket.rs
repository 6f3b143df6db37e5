//! Tickets: their status workflow, priorities and sources, and the checked text of subjects,
//! messages and tags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::user::ValueError;

/// Where a ticket stands. The allowed moves between statuses are `TicketStatus::can_move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// New or reopened; waiting for staff.
    Open,
    /// Waiting for the customer.
    Pending,
    /// Staff are working on it.
    InProgress,
    /// Staff consider it solved; the customer can still reply, which reopens it.
    Resolved,
    /// Finished. Only staff can reopen a closed ticket.
    Closed,
}

/// Why a status change was refused; shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("customers can only close their ticket")]
    CustomerMayOnlyClose,
    #[error("a closed ticket can only be reopened by staff")]
    ClosedNeedsStaff,
    #[error("a closed ticket can only be reopened (to open)")]
    ClosedOnlyReopens,
}

impl TicketStatus {
    pub const ALL: [Self; 5] = [
        Self::Open,
        Self::Pending,
        Self::InProgress,
        Self::Resolved,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    /// The workflow: a ticket moves freely between open, pending, in progress and resolved,
    /// and is closed from any of them; a closed ticket can only be reopened, to open. Staying
    /// put is always allowed. Who may make which move is the service's policy.
    ///
    /// # Errors
    /// The reason the move is refused.
    pub fn can_move(self, to: Self) -> Result<(), TransitionError> {
        match (self, to) {
            _ if self == to => Ok(()),
            (Self::Closed, Self::Open) => Ok(()),
            (Self::Closed, _) => Err(TransitionError::ClosedOnlyReopens),
            _ => Ok(()),
        }
    }

    /// The status a customer's reply moves the ticket to: waiting tickets wake up.
    pub fn after_customer_reply(self) -> Self {
        match self {
            Self::Pending | Self::Resolved => Self::Open,
            other => other,
        }
    }

    /// Whether the ticket counts as finished for the resolution timestamps.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not a status, priority or source we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not one of {0}")]
pub struct UnknownValue(pub(crate) &'static str);

impl FromStr for TicketStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(UnknownValue("open, pending, in_progress, resolved, closed"))
    }
}

/// How urgent a ticket is. Ordered: `Low < Medium < High < Urgent`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    /// The stored rank (1 to 4), so that sorting by priority sorts by urgency.
    pub fn rank(self) -> i16 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
            Self::Urgent => 4,
        }
    }

    /// The priority of a stored rank.
    pub fn from_rank(rank: i16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|priority| priority.rank() == rank)
    }
}

impl FromStr for Priority {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|priority| priority.as_str() == s)
            .ok_or(UnknownValue("low, medium, high, urgent"))
    }
}

/// A service-level target a ticket can miss: its first public staff reply, or its resolution.
/// Each is told once per ticket, so the store keeps which were told under these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    FirstResponse,
    Resolution,
}

impl SlaTarget {
    pub const ALL: [Self; 2] = [Self::FirstResponse, Self::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::Resolution => "resolution",
        }
    }
}

/// How a ticket reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TicketSource {
    Web,
    Widget,
    Api,
    Import,
    /// An email to one of the mailboxes.
    Email,
}

impl TicketSource {
    pub const ALL: [Self; 5] = [
        Self::Web,
        Self::Widget,
        Self::Api,
        Self::Import,
        Self::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Widget => "widget",
            Self::Api => "api",
            Self::Import => "import",
            Self::Email => "email",
        }
    }
}

impl FromStr for TicketSource {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or(UnknownValue("web, widget, api, import, email"))
    }
}

/// Trims `raw` and checks it is 1 to `max` characters without control characters other than
/// line breaks and tabs (allowed where `multiline`).
pub(crate) fn checked_text(raw: &str, max: usize, multiline: bool) -> Result<String, ValueError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    if text.chars().count() > max {
        return Err(ValueError::TooLong(max));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ValueError::ControlCharacters);
    }
    Ok(text.to_owned())
}

/// A ticket subject: one line, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub const MAX_LEN: usize = 200;

    /// # Errors
    /// Empty, too long, or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        checked_text(raw, Self::MAX_LEN, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A message body: 1 to 50,000 characters, line breaks allowed. Stored verbatim (after
/// trimming) and never interpreted as markup by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_LEN: usize = 50_000;

    /// # Errors
    /// Empty, too long, or containing control characters other than line breaks and tabs.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        checked_text(raw, Self::MAX_LEN, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A set of tags: each trimmed and case-folded (`fold_case`), 1 to 50 characters of letters,
/// digits, `-`, `_` or `.`; at most 20, duplicates dropped, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 20;
    pub const MAX_LEN: usize = 50;

    /// # Errors
    /// A message naming the first bad tag, or too many tags.
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        let mut tags = Vec::with_capacity(raw.len());
        for tag in raw {
            let tag = Self::parse_one(tag)?;
            if !tags.contains(&tag) {
                // Stop at once: checking every tag against every other is quadratic.
                if tags.len() == Self::MAX_TAGS {
                    return Err(format!("at most {} tags", Self::MAX_TAGS));
                }
                tags.push(tag);
            }
        }
        tags.sort();
        Ok(Self(tags))
    }

    /// One tag, normalised as in a set; also used to normalise a tag filter.
    ///
    /// # Errors
    /// A message naming the bad tag.
    pub fn parse_one(raw: &str) -> Result<String, String> {
        let tag = crate::text::fold_case(raw.trim());
        let valid = !tag.is_empty()
            && tag.chars().count() <= Self::MAX_LEN
            && tag
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(tag)
        } else {
            Err(format!(
                "tag {raw:?} must be 1 to {} letters, digits, '-', '_' or '.'",
                Self::MAX_LEN
            ))
        }
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn tickets_move_freely_except_out_of_closed() {
        for from in [Open, Pending, InProgress, Resolved] {
            for to in TicketStatus::ALL {
                assert!(from.can_move(to).is_ok(), "{from} -> {to}");
            }
        }
        assert!(Closed.can_move(Open).is_ok());
        assert!(Closed.can_move(Closed).is_ok());
        for to in [Pending, InProgress, Resolved] {
            assert_eq!(Closed.can_move(to), Err(TransitionError::ClosedOnlyReopens));
        }
    }

    #[test]
    fn customer_replies_wake_waiting_tickets() {
        assert_eq!(Pending.after_customer_reply(), Open);
        assert_eq!(Resolved.after_customer_reply(), Open);
        assert_eq!(InProgress.after_customer_reply(), InProgress);
        assert_eq!(Closed.after_customer_reply(), Closed);
    }

    #[test]
    fn enums_round_trip_through_text() {
        for status in TicketStatus::ALL {
            assert_eq!(status.as_str().parse::<TicketStatus>().unwrap(), status);
        }
        for priority in Priority::ALL {
            assert_eq!(priority.as_str().parse::<Priority>().unwrap(), priority);
            assert_eq!(Priority::from_rank(priority.rank()), Some(priority));
        }
        assert!(Priority::Urgent > Priority::Low);
        assert!("blocker".parse::<Priority>().is_err());
    }

    #[test]
    fn texts_are_checked() {
        assert_eq!(
            Subject::parse("  Printer on fire ").unwrap().into_inner(),
            "Printer on fire"
        );
        assert!(Subject::parse("two\nlines").is_err());
        assert!(Subject::parse(&"x".repeat(201)).is_err());
        assert_eq!(
            MessageBody::parse("line one\nline two\ttab")
                .unwrap()
                .into_inner(),
            "line one\nline two\ttab"
        );
        assert!(MessageBody::parse("nul\u{0}").is_err());
        assert!(MessageBody::parse("   ").is_err());
        let script = "<script>alert(1)</script>";
        assert_eq!(
            MessageBody::parse(script).unwrap().into_inner(),
            script,
            "stored verbatim"
        );
    }

    #[test]
    fn a_flood_of_tags_is_refused_without_quadratic_work() {
        // Deduplicating a million distinct tags pairwise would take hours; the refusal must
        // come after the 21st. The thread and deadline only guard against a hang.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let flood: Vec<String> = (0..1_000_000).map(|i| format!("t{i}")).collect();
            let _ = sender.send(Tags::parse(&flood));
        });
        let parsed = receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("parsing a million tags hung");
        assert_eq!(parsed, Err(format!("at most {} tags", Tags::MAX_TAGS)));
    }

    #[test]
    fn tags_are_normalised() {
        let tags = Tags::parse(&["Billing".into(), "vip".into(), "billing".into()]).unwrap();
        assert_eq!(tags.into_inner(), vec!["billing", "vip"]);
        assert!(Tags::parse(&["has space".into()]).is_err());
        assert!(Tags::parse(&(0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()).is_err());
        assert_eq!(Tags::parse_one(" Facturación ").unwrap(), "facturación");
    }
}
