//! The ticket event log, typed: what happened to a ticket (one variant per kind, each with its
//! own fields), the log's entries as the API, the socket, webhooks and exports show them, and
//! the notifications personal events carry.
//!
//! An event is stored as its kind and its data, a JSON object. Stored data is read back into its
//! kind's variant only when that variant writes it back exactly as stored; anything else (an
//! older release's shape, another help desk's import, a hand-edited export) stays
//! `Event::Unrecognised` and is shown as it was stored, as it always was.

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{NotificationData, NotificationKind, Priority, TicketSource, TicketStatus};

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
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

/// What happened to a ticket: its `kind`, and its `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Event {
    Created(Created),
    StatusChanged(StatusChange),
    PriorityChanged(Change<Priority>),
    CategoryChanged(Change<Option<Uuid>>),
    AssigneeChanged(Change<Option<Uuid>>),
    TagsChanged(Change<Vec<String>>),
    SubjectChanged(Change<String>),
    MessageCreated(MessageAdded),
    AttachmentAdded(AttachmentAdded),
    Deleted(Deleted),
    /// A personal notification for the entry's `recipient_id`.
    NotificationCreated(NotificationCreated),
    /// Stored data its kind's variant would not write back the same (see the module's
    /// comment), kept as stored.
    #[serde(untagged)]
    Unrecognised(Unrecognised),
}

/// A ticket was opened here, or imported from another help desk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Created {
    Opened(Opened),
    Imported(Imported),
}

/// What a ticket was opened with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    pub number: i64,
    pub subject: String,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub source: TicketSource,
    pub tags: Vec<String>,
    /// Where a widget conversation started; `null` for the other sources.
    pub context: Option<WidgetContext>,
}

/// The page and browser a widget conversation was opened from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetContext {
    pub widget_id: Uuid,
    pub page_url: Option<String>,
    pub user_agent: Option<String>,
    /// The widget's identity check vouched for the visitor's email.
    pub identity_verified: bool,
}

/// A ticket imported from another help desk, with that desk's record as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    /// The importer's source (`zendesk`, `freshdesk`, `csv`, …).
    pub imported_from: String,
    /// The other desk's own fields; their shape is theirs.
    pub original: serde_json::Value,
}

/// A field's change: what it was and what it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

/// A status change, by someone or by the auto-close job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: TicketStatus,
    pub to: TicketStatus,
    /// Made by the auto-close job; only written when it was.
    #[serde(default, skip_serializing_if = "is_false")]
    pub automatic: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A message was posted (its own entry carries `internal` for notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAdded {
    pub message_id: Uuid,
}

/// A file came with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentAdded {
    pub message_id: Uuid,
    pub attachment_id: Uuid,
    pub filename: String,
}

/// The ticket was deleted; its data is an empty object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {}

/// A notification, stored for its recipient and logged for their sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationCreated {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub data: NotificationData,
}

/// Stored data kept as it was, under its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unrecognised {
    pub kind: EventKind,
    pub data: serde_json::Value,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Created(_) => EventKind::Created,
            Self::StatusChanged(_) => EventKind::StatusChanged,
            Self::PriorityChanged(_) => EventKind::PriorityChanged,
            Self::CategoryChanged(_) => EventKind::CategoryChanged,
            Self::AssigneeChanged(_) => EventKind::AssigneeChanged,
            Self::TagsChanged(_) => EventKind::TagsChanged,
            Self::SubjectChanged(_) => EventKind::SubjectChanged,
            Self::MessageCreated(_) => EventKind::MessageCreated,
            Self::AttachmentAdded(_) => EventKind::AttachmentAdded,
            Self::Deleted(_) => EventKind::Deleted,
            Self::NotificationCreated(_) => EventKind::NotificationCreated,
            Self::Unrecognised(unrecognised) => unrecognised.kind,
        }
    }

    /// The `data` object, as stored and sent.
    pub fn data(&self) -> EventData<'_> {
        EventData(self)
    }

    /// The event stored as `kind` and `data`: its variant when that writes `data` back as it
    /// is, `Unrecognised` otherwise.
    pub fn from_stored(kind: EventKind, data: serde_json::Value) -> Self {
        let stored = serde_json::json!({"kind": kind, "data": data});
        match Self::deserialize(&stored) {
            Ok(event)
                if !matches!(event, Self::Unrecognised(_))
                    && serde_json::to_value(event.data()).ok().as_ref()
                        == Some(&stored["data"]) =>
            {
                event
            }
            _ => Self::Unrecognised(Unrecognised {
                kind,
                data: stored["data"].clone(),
            }),
        }
    }

    /// The message a `message_created` event is about.
    pub fn message_id(&self) -> Option<Uuid> {
        match self {
            Self::MessageCreated(added) => Some(added.message_id),
            _ => None,
        }
    }
}

/// An event's `data` object alone, without its kind.
#[derive(Debug, Clone, Copy)]
pub struct EventData<'a>(&'a Event);

impl Serialize for EventData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Event::Created(created) => created.serialize(serializer),
            Event::StatusChanged(change) => change.serialize(serializer),
            Event::PriorityChanged(change) => change.serialize(serializer),
            Event::CategoryChanged(change) | Event::AssigneeChanged(change) => {
                change.serialize(serializer)
            }
            Event::TagsChanged(change) => change.serialize(serializer),
            Event::SubjectChanged(change) => change.serialize(serializer),
            Event::MessageCreated(added) => added.serialize(serializer),
            Event::AttachmentAdded(added) => added.serialize(serializer),
            Event::Deleted(deleted) => deleted.serialize(serializer),
            Event::NotificationCreated(notification) => notification.serialize(serializer),
            Event::Unrecognised(unrecognised) => unrecognised.data.serialize(serializer),
        }
    }
}

/// One entry of a ticket's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    /// Increases with every event of the installation.
    pub id: i64,
    pub ticket_id: Uuid,
    /// Who made the change; `None` for the system.
    pub actor_id: Option<Uuid>,
    /// About an internal note; never shown to customers.
    pub internal: bool,
    /// Personal events (notifications) go to this user only.
    pub recipient_id: Option<Uuid>,
    pub event: Event,
    pub created_at: OffsetDateTime,
}

// `TicketEvent` as sent, and as the API document describes it: the event's kind and data
// among the entry's fields.
/// One entry of a ticket's event log.
#[derive(Serialize, ToSchema)]
#[schema(as = TicketEvent)]
struct SentEvent<'a> {
    /// Increases with every event of the installation.
    id: i64,
    ticket_id: Uuid,
    kind: EventKind,
    /// Who made the change; `null` for the system.
    actor_id: Option<Uuid>,
    /// Events about internal notes; never shown to customers.
    internal: bool,
    /// Personal events (notifications) go to this user only.
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_id: Option<Uuid>,
    /// What changed: `{"from": …, "to": …}` for changes, ids for messages and attachments.
    #[schema(value_type = Object)]
    data: EventData<'a>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl Serialize for TicketEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SentEvent {
            id: self.id,
            ticket_id: self.ticket_id,
            kind: self.event.kind(),
            actor_id: self.actor_id,
            internal: self.internal,
            recipient_id: self.recipient_id,
            data: self.event.data(),
            created_at: self.created_at,
        }
        .serialize(serializer)
    }
}

impl utoipa::PartialSchema for TicketEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        SentEvent::schema()
    }
}

impl ToSchema for TicketEvent {
    fn name() -> std::borrow::Cow<'static, str> {
        SentEvent::name()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        SentEvent::schemas(schemas);
    }
}

#[cfg(test)]
mod tests;
