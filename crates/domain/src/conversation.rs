//! Tickets as the API shows them, their messages and attachments.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::mail::{Delivery, MessageChannel};
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
    /// The mailbox its mail goes out from (a ticket opened by email); only the server uses it.
    #[serde(skip)]
    pub mailbox_id: Option<Uuid>,
    /// For staff, in the ticket list and `GET /api/tickets/{id}`: whether the ticket's latest
    /// public message is someone else's (the customer's, another agent's) and came after the
    /// caller last marked the ticket read (`PUT /api/tickets/{id}/read`); the caller's own
    /// public reply reads it too. Absent for customers and in other answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
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
    /// How it reached the ticket.
    pub channel: MessageChannel,
    /// For staff, the mail this message caused (an agent's reply sent by email) and where it
    /// stands; absent for customers and for messages that caused none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}
