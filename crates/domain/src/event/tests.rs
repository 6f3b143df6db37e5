//! Every variant written as stored and read back, odd stored data kept as it was, and the
//! entry's JSON as sent.

use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use super::{
    AttachmentAdded, Change, Created, Deleted, Event, EventKind, Imported, MessageAdded,
    NotificationCreated, Opened, StatusChange, TicketEvent, Unrecognised, WidgetContext,
};
use crate::{
    Actor, NotificationData, NotificationKind, Priority, SlaTarget, TicketSource, TicketStatus,
};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn about(kind: NotificationKind, data: NotificationData) -> Event {
    Event::NotificationCreated(NotificationCreated {
        id: id(9),
        kind,
        data,
    })
}

/// One event of each variant and shape, with its data as stored.
fn every_variant() -> Vec<(Event, Value)> {
    let opened = |context| Opened {
        number: 7,
        subject: "Charged twice".into(),
        priority: Priority::High,
        category_id: None,
        requester_id: id(1),
        source: TicketSource::Widget,
        tags: vec!["billing".into()],
        context,
    };
    let by = Some(Actor {
        id: id(2),
        name: "Ana".into(),
    });
    let reply = NotificationData {
        number: Some(7),
        subject: "Charged twice".into(),
        by: by.clone(),
        message_id: Some(id(3)),
        breach: None,
        priority: None,
    };
    vec![
        (
            Event::Created(Created::Opened(opened(None))),
            json!({"number": 7, "subject": "Charged twice", "priority": "high", "category_id": null, "requester_id": id(1), "source": "widget", "tags": ["billing"], "context": null}),
        ),
        (
            Event::Created(Created::Opened(opened(Some(WidgetContext {
                widget_id: id(4),
                page_url: Some("https://shop.example.com/cart".into()),
                user_agent: None,
                identity_verified: true,
            })))),
            json!({"number": 7, "subject": "Charged twice", "priority": "high", "category_id": null, "requester_id": id(1), "source": "widget", "tags": ["billing"],
                   "context": {"widget_id": id(4), "page_url": "https://shop.example.com/cart", "user_agent": null, "identity_verified": true}}),
        ),
        (
            Event::Created(Created::Imported(Imported {
                imported_from: "zendesk".into(),
                original: json!({"id": 35436, "via": {"channel": "email"}}),
            })),
            json!({"imported_from": "zendesk", "original": {"id": 35436, "via": {"channel": "email"}}}),
        ),
        (
            Event::StatusChanged(StatusChange {
                from: TicketStatus::Open,
                to: TicketStatus::Pending,
                automatic: false,
            }),
            json!({"from": "open", "to": "pending"}),
        ),
        (
            Event::StatusChanged(StatusChange {
                from: TicketStatus::Resolved,
                to: TicketStatus::Closed,
                automatic: true,
            }),
            json!({"from": "resolved", "to": "closed", "automatic": true}),
        ),
        (
            Event::PriorityChanged(Change {
                from: Priority::Medium,
                to: Priority::Urgent,
            }),
            json!({"from": "medium", "to": "urgent"}),
        ),
        (
            Event::CategoryChanged(Change {
                from: None,
                to: Some(id(5)),
            }),
            json!({"from": null, "to": id(5)}),
        ),
        (
            Event::AssigneeChanged(Change {
                from: Some(id(2)),
                to: None,
            }),
            json!({"from": id(2), "to": null}),
        ),
        (
            Event::TagsChanged(Change {
                from: vec![],
                to: vec!["refund".into()],
            }),
            json!({"from": [], "to": ["refund"]}),
        ),
        (
            Event::SubjectChanged(Change {
                from: "Help".into(),
                to: "Charged twice".into(),
            }),
            json!({"from": "Help", "to": "Charged twice"}),
        ),
        (
            Event::MessageCreated(MessageAdded { message_id: id(3) }),
            json!({"message_id": id(3)}),
        ),
        (
            Event::AttachmentAdded(AttachmentAdded {
                message_id: id(3),
                attachment_id: id(6),
                filename: "receipt.pdf".into(),
            }),
            json!({"message_id": id(3), "attachment_id": id(6), "filename": "receipt.pdf"}),
        ),
        (Event::Deleted(Deleted {}), json!({})),
        (
            about(
                NotificationKind::Assigned,
                NotificationData {
                    message_id: None,
                    ..reply.clone()
                },
            ),
            json!({"id": id(9), "kind": "assigned", "data": {"number": 7, "subject": "Charged twice", "by": {"id": id(2), "name": "Ana"}}}),
        ),
        (
            about(NotificationKind::CustomerReplied, reply.clone()),
            json!({"id": id(9), "kind": "customer_replied", "data": {"number": 7, "subject": "Charged twice", "by": {"id": id(2), "name": "Ana"}, "message_id": id(3)}}),
        ),
        (
            about(NotificationKind::Mentioned, reply),
            json!({"id": id(9), "kind": "mentioned", "data": {"number": 7, "subject": "Charged twice", "by": {"id": id(2), "name": "Ana"}, "message_id": id(3)}}),
        ),
        (
            about(
                NotificationKind::NewTicket,
                NotificationData {
                    number: None,
                    subject: "Charged twice".into(),
                    by,
                    message_id: None,
                    breach: None,
                    priority: None,
                },
            ),
            json!({"id": id(9), "kind": "new_ticket", "data": {"subject": "Charged twice", "by": {"id": id(2), "name": "Ana"}}}),
        ),
        (
            about(
                NotificationKind::SlaBreach,
                NotificationData {
                    number: Some(7),
                    subject: "Charged twice".into(),
                    by: None,
                    message_id: None,
                    breach: Some(SlaTarget::FirstResponse),
                    priority: Some(Priority::High),
                },
            ),
            json!({"id": id(9), "kind": "sla_breach", "data": {"number": 7, "subject": "Charged twice", "breach": "first_response", "priority": "high"}}),
        ),
    ]
}

#[test]
fn every_variant_is_stored_as_before_and_read_back() {
    let events = every_variant();
    let kinds: Vec<EventKind> = events.iter().map(|(event, _)| event.kind()).collect();
    for kind in EventKind::ALL {
        assert!(kinds.contains(&kind), "{kind:?} is covered");
    }
    for (event, data) in events {
        let kind = event.kind();
        assert_eq!(
            serde_json::to_value(event.data()).unwrap(),
            data,
            "{kind:?}"
        );
        assert_eq!(Event::from_stored(kind, data.clone()), event);
        let tagged = serde_json::to_value(&event).unwrap();
        assert_eq!(tagged, json!({"kind": kind.as_str(), "data": data}));
        assert_eq!(serde_json::from_value::<Event>(tagged).unwrap(), event);
    }
}

#[test]
fn data_a_variant_would_not_write_back_the_same_is_kept_as_stored() {
    for (kind, data) in [
        (EventKind::StatusChanged, json!({"from": "open"})),
        (
            EventKind::StatusChanged,
            json!({"from": "open", "to": "closed", "by": "cron"}),
        ),
        (
            EventKind::StatusChanged,
            json!({"from": "open", "to": "closed", "automatic": false}),
        ),
        (
            EventKind::StatusChanged,
            json!({"from": "opened", "to": "closed"}),
        ),
        (
            EventKind::MessageCreated,
            json!({"message_id": "0000000A-0000-0000-0000-000000000001"}),
        ),
        (EventKind::Created, json!({"imported_from": "kayako"})),
        (EventKind::Created, json!({"number": 1, "subject": "s"})),
        (EventKind::Deleted, json!({"reason": "spam"})),
        (
            EventKind::NotificationCreated,
            json!({"id": id(9), "kind": "escalated", "data": {}}),
        ),
        (EventKind::TagsChanged, json!("not an object")),
    ] {
        let event = Event::from_stored(kind, data.clone());
        assert_eq!(
            event,
            Event::Unrecognised(Unrecognised {
                kind,
                data: data.clone()
            })
        );
        assert_eq!(event.kind(), kind);
        assert_eq!(serde_json::to_value(event.data()).unwrap(), data);
    }
}

#[test]
fn an_entry_is_sent_with_its_kind_and_data_among_its_fields() {
    let mut entry = TicketEvent {
        id: 42,
        ticket_id: id(1),
        actor_id: None,
        internal: false,
        recipient_id: None,
        event: Event::StatusChanged(StatusChange {
            from: TicketStatus::Resolved,
            to: TicketStatus::Closed,
            automatic: true,
        }),
        created_at: datetime!(2026-03-02 09:15:00 UTC),
    };
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        r#"{"id":42,"ticket_id":"00000000-0000-0000-0000-000000000001","kind":"status_changed","actor_id":null,"internal":false,"data":{"from":"resolved","to":"closed","automatic":true},"created_at":"2026-03-02T09:15:00Z"}"#
    );
    entry.recipient_id = Some(id(2));
    entry.event = Event::Deleted(Deleted {});
    let sent = serde_json::to_value(&entry).unwrap();
    assert_eq!(sent["recipient_id"], json!(id(2)));
    assert_eq!(sent["kind"], "deleted");
    assert_eq!(sent["data"], json!({}));
}
