//! Notifications: what a user is told about, as personal events carry them and the inbox lists
//! them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Priority, SlaTarget};

/// What a user is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A ticket was assigned to them (by someone else).
    Assigned,
    /// The customer replied on a ticket assigned to them.
    CustomerReplied,
    /// A ticket was opened (staff who opted in with `notify_new_tickets`).
    NewTicket,
    /// An internal note names them.
    Mentioned,
    /// A ticket missed a service-level target.
    SlaBreach,
}

impl NotificationKind {
    pub const ALL: [Self; 5] = [
        Self::Assigned,
        Self::CustomerReplied,
        Self::NewTicket,
        Self::Mentioned,
        Self::SlaBreach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::CustomerReplied => "customer_replied",
            Self::NewTicket => "new_ticket",
            Self::Mentioned => "mentioned",
            Self::SlaBreach => "sla_breach",
        }
    }

    /// The kind stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A notification's details; each kind has its own of them: the ticket's `number` (not for a
/// new ticket), its `subject`, who acted (`by`; not for a breach), the message (replies and
/// mentions) and the breach with the ticket's priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach: Option<SlaTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// Something a user was told: a ticket assigned to them, a customer's reply on their ticket, a
/// new ticket, a mention.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `assigned`, `customer_replied`, `new_ticket`, `mentioned` or `sla_breach`.
    #[schema(value_type = String)]
    pub kind: NotificationKind,
    pub ticket_id: Uuid,
    /// Details: the ticket's number and subject, the message id, who acted.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Who acted, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: Uuid,
    pub name: String,
}
