//! Tickets as the API shows them, their messages, attachments and event log.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Priority, Role, TicketSource, TicketStatus};

/// The person who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Requester {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

/// The staff member a ticket is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Assignee {
    pub id: Uuid,
    pub name: String,
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ticket {
    pub id: Uuid,
    /// Human number, 1, 2, 3… per installation.
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub requester: Requester,
    pub assignee_id: Option<Uuid>,
    pub assignee: Option<Assignee>,
    pub tags: Vec<String>,
    pub source: TicketSource,
    /// Grows with every change; the `ETag` is `"<version>"`.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The first public reply by staff.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_response_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// The widget visitor who opened it; only the server uses it (to decide what the visitor
    /// may see).
    #[serde(skip)]
    pub visitor_id: Option<Uuid>,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Author {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    #[serde(skip)]
    pub sha256: String,
    #[serde(skip)]
    pub message_id: Uuid,
}

/// A public reply or an internal note (staff only) on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author: Author,
    /// Plain text, stored verbatim; clients must escape it when rendering.
    pub body: String,
    /// Internal notes are never shown to customers.
    pub internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub attachments: Vec<Attachment>,
}

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    StatusChanged,
    PriorityChanged,
    CategoryChanged,
    AssigneeChanged,
    TagsChanged,
    SubjectChanged,
    MessageCreated,
    AttachmentAdded,
    Deleted,
    /// A personal notification for `recipient_id`.
    NotificationCreated,
}

impl EventKind {
    pub const ALL: [Self; 11] = [
        Self::Created,
        Self::StatusChanged,
        Self::PriorityChanged,
        Self::CategoryChanged,
        Self::AssigneeChanged,
        Self::TagsChanged,
        Self::SubjectChanged,
        Self::MessageCreated,
        Self::AttachmentAdded,
        Self::Deleted,
        Self::NotificationCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::StatusChanged => "status_changed",
            Self::PriorityChanged => "priority_changed",
            Self::CategoryChanged => "category_changed",
            Self::AssigneeChanged => "assignee_changed",
            Self::TagsChanged => "tags_changed",
            Self::SubjectChanged => "subject_changed",
            Self::MessageCreated => "message_created",
            Self::AttachmentAdded => "attachment_added",
            Self::Deleted => "deleted",
            Self::NotificationCreated => "notification_created",
        }
    }

    /// The kind stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One entry of a ticket's event log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TicketEvent {
    /// Increases with every event of the installation.
    pub id: i64,
    pub ticket_id: Uuid,
    pub kind: EventKind,
    /// Who made the change; `null` for the system.
    pub actor_id: Option<Uuid>,
    /// Events about internal notes; never shown to customers.
    pub internal: bool,
    /// Personal events (notifications) go to this user only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
    /// What changed: `{"from": …, "to": …}` for changes, ids for messages and attachments.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Something a user was told: a ticket assigned to them, a customer's reply on their ticket, a
/// new ticket, a mention.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `assigned`, `customer_replied`, `new_ticket`, `mentioned` or `sla_breach`.
    pub kind: String,
    pub ticket_id: Uuid,
    /// Details: the ticket's number and subject, the message id, who acted.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
