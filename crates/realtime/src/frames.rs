//! The WebSocket protocol: JSON text frames, each with a `type`.

use growdesk_domain::{Message, Notification, TicketEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Someone shown in presence and typing frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
}

/// An entry of the event log as sent: `message` is set for `message_created` events,
/// `notification` for `notification_created` ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventFrame {
    pub event: TicketEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Notification>,
}

/// A frame the server sends.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// An entry of the event log.
    Event(Box<EventFrame>),
    /// Everything missed since `last_event_id` (of the connect request) has been sent; live
    /// events follow.
    Ready { last_event_id: i64 },
    /// The answer to a `message` frame: the stored message.
    Ack {
        #[serde(rename = "ref")]
        reference: String,
        message: Box<Message>,
    },
    /// A client frame was refused; `ref` echoes the frame's, when it had one. `code` is the
    /// kind of error, as in the REST API's problem types (`not-found`, `forbidden`, …).
    Error {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        code: &'static str,
        detail: String,
    },
    /// Someone is (or stopped) typing on a subscribed ticket. Not logged.
    Typing {
        ticket_id: Uuid,
        user: Person,
        typing: bool,
    },
    /// The staff viewing a subscribed ticket now. Not logged.
    Presence {
        ticket_id: Uuid,
        viewers: Vec<Person>,
    },
    /// Widget visitors only: whether any agent is online (sent on connect and on change).
    Agents { online: bool },
}

/// A frame a client sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Receive typing and presence for a ticket you may see (staff count as viewers).
    Subscribe {
        ticket_id: Uuid,
    },
    Unsubscribe {
        ticket_id: Uuid,
    },
    /// Post a message, as `POST /api/tickets/{id}/messages` would; `ref` is echoed in the
    /// `ack` and makes a resend idempotent.
    Message {
        #[serde(rename = "ref")]
        reference: String,
        ticket_id: Uuid,
        body: String,
        #[serde(default)]
        internal: bool,
    },
    /// Typing on a subscribed ticket.
    Typing {
        ticket_id: Uuid,
        typing: bool,
    },
}
