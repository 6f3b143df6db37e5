//! GrowDesk's own export format: JSON Lines, one record per line, each tagged with its `kind`,
//! in dependency order (users and categories before the tickets that name them), so that
//! exports and imports stream with bounded memory.

use growdesk_domain::{Priority, Role, TicketSource, TicketStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The format's name in the header line.
pub(crate) const FORMAT: &str = "growdesk-export";
/// The format's version; an importer refuses newer ones.
pub(crate) const VERSION: u32 = 1;
/// The file an export into a directory writes (and an import from a directory reads).
pub(crate) const FILE_NAME: &str = "growdesk-export.jsonl";

/// One line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Line {
    Header(Header),
    User(ExportedUser),
    Category(ExportedCategory),
    Faq(ExportedFaq),
    Ticket(Box<ExportedTicket>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) exported_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedUser {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) active: bool,
    /// The Argon2id PHC string, so people keep their passwords on the new instance.
    pub(crate) password_hash: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedCategory {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) color: String,
    pub(crate) active: bool,
    pub(crate) position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedFaq {
    pub(crate) id: Uuid,
    pub(crate) question: String,
    pub(crate) answer: String,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) published: bool,
    pub(crate) position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedMessage {
    pub(crate) id: Uuid,
    pub(crate) author_id: Uuid,
    pub(crate) body: String,
    pub(crate) internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedTicket {
    pub(crate) id: Uuid,
    pub(crate) number: i64,
    pub(crate) subject: String,
    pub(crate) status: TicketStatus,
    pub(crate) priority: Priority,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) requester_id: Uuid,
    pub(crate) assignee_id: Option<Uuid>,
    pub(crate) tags: Vec<String>,
    pub(crate) source: TicketSource,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) first_response_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) closed_at: Option<OffsetDateTime>,
    pub(crate) messages: Vec<ExportedMessage>,
}
