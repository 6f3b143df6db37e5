//! Webhooks: where an installation's ticket events are sent, and the record of each delivery.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::EventKind;

/// Subscribes a webhook to every event type.
pub const ALL_EVENTS: &str = "*";

/// The event types a webhook may subscribe to: every ticket event except personal
/// notifications, which belong to their recipient alone.
pub fn is_webhook_event(name: &str) -> bool {
    name == ALL_EVENTS
        || EventKind::from_stored(name).is_some_and(|kind| kind != EventKind::NotificationCreated)
}

/// A webhook (admin view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Event types (`created`, `status_changed`, `message_created`, …) or `*` for all.
    pub event_types: Vec<String>,
    /// Standard Webhooks signing secret (`whsec_…`); receivers verify `webhook-signature` with it.
    pub secret: String,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Given up after retrying for a day.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One event's delivery to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// Sent as `webhook-id` (`msg_<id>`), the same on every attempt.
    pub id: i64,
    pub webhook_id: Uuid,
    pub event_id: i64,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// The receiver's HTTP status on the last attempt.
    pub last_status: Option<i32>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}
