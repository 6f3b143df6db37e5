//! An installation for the backup scenarios: a database and a data directory, seeded with
//! every kind of record a backup carries, and its content in a comparable form.

use std::path::Path;
use std::process::{Command, Output};

use growdesk_domain::{EventKind, Priority, Role, TicketSource, TicketStatus, WidgetSettings};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, CategoryFields, Changed, FaqFields, FaqFilter, FileStore, MessageRecord,
    NewAttachment, NewEvent, NewMessage, NewTicket, NewUser, Store, TicketChange, TicketFilter,
    TicketSort, TicketState, UserChanges, Visitor, WebhookFields, WidgetFields,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{BINARY, store_of, succeeded, text};

/// An installation: its database and its data directory (where attachments' files live).
pub(super) struct Installation {
    database: TestDatabase,
    data_dir: tempfile::TempDir,
}

impl Installation {
    pub(super) async fn new(kind: BackendKind) -> Self {
        Self {
            database: TestDatabase::create(kind).await,
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(super) fn sync(&self, args: &[&str]) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(self.database.url())
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    pub(super) async fn store(&self) -> Store {
        store_of(&self.database).await
    }

    pub(super) fn files(&self) -> FileStore {
        FileStore::new(self.data_dir.path().join("attachments"))
    }
}

pub(super) const ATTACHMENT: &[u8] = b"%PDF-1.4 a receipt\n";

/// An installation using every kind of record a backup must carry.
async fn seed(installation: &Installation) {
    let store = installation.store().await;
    let user = |email: &str, role| NewUser {
        email: email.into(),
        name: format!("Name {email}"),
        role,
        password_hash: Some(format!("$argon2id$hash-of-{email}")),
    };
    let agent = store
        .create_user(user("agent@example.com", Role::Agent))
        .await
        .unwrap();
    let customer = store
        .create_user(user("cy@example.com", Role::Customer))
        .await
        .unwrap();
    store
        .update_user(
            agent.id,
            UserChanges {
                name: Some("Agent Renamed".into()),
                notify_new_tickets: Some(true),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    let visitor_account = store
        .create_user(user("visitor@example.com", Role::Customer))
        .await
        .unwrap();
    let category = store
        .create_category(CategoryFields {
            name: "Billing".into(),
            description: "Money".into(),
            color: "#ff0000".into(),
            active: true,
            position: 1,
        })
        .await
        .unwrap();
    store
        .create_faq(FaqFields {
            question: "Refunds?".into(),
            answer: "Within 30 days.".into(),
            category_id: Some(category.id),
            published: true,
            position: 0,
        })
        .await
        .unwrap();
    let widget = store
        .create_widget(
            "wk_backup_key",
            &WidgetFields {
                name: "Shop".into(),
                allowed_origins: vec!["https://shop.example.com".into()],
                settings: WidgetSettings::default(),
                identity_secret: Some("identity-secret".into()),
                enforce_identity: true,
                active: true,
                default_category_id: Some(category.id),
                default_priority: Priority::High,
            },
        )
        .await
        .unwrap();
    store
        .create_webhook(
            "whsec_backup",
            &WebhookFields {
                url: "https://hooks.example.com/growdesk".into(),
                event_types: vec!["created".into(), "status_changed".into()],
                active: true,
            },
        )
        .await
        .unwrap();
    let visitor = Visitor {
        id: Uuid::now_v7(),
        widget_id: widget.id,
        user_id: visitor_account.id,
    };
    let ticket = |subject: &str, requester: Uuid, visitor_id: Option<Uuid>| NewTicket {
        id: Uuid::now_v7(),
        subject: subject.into(),
        priority: Priority::Low,
        category_id: Some(category.id),
        requester_id: requester,
        source: TicketSource::Widget,
        tags: vec!["vip".into()],
        actor_id: requester,
        description: format!("about {subject}"),
        extra_events: Vec::new(),
        visitor_id,
        context: Value::Null,
    };
    let through_widget = ticket("From the shop", visitor_account.id, Some(visitor.id));
    store
        .create_ticket_with_visitor(through_widget, Some(&visitor), None)
        .await
        .unwrap();
    let with_file = ticket("Charged twice", customer.id, None);
    let ticket_id = with_file.id;
    store.create_ticket(with_file, None).await.unwrap();
    let sha256 = installation.files().put(ATTACHMENT).unwrap();
    let changed: Changed<()> = store
        .change_ticket(ticket_id, None, |ticket| {
            let mut state = TicketState::of(ticket);
            state.status = TicketStatus::Pending;
            Ok(TicketChange {
                state,
                events: vec![
                    NewEvent::public(
                        ticket_id,
                        EventKind::StatusChanged,
                        Some(agent.id),
                        json!({"to": "pending"}),
                    ),
                    NewEvent::notification(
                        customer.id,
                        ticket_id,
                        Some(agent.id),
                        "reply",
                        json!({"subject": "Charged twice"}),
                    ),
                    NewEvent::notification(
                        agent.id,
                        ticket_id,
                        None,
                        "assigned",
                        json!({"subject": "Charged twice"}),
                    ),
                ],
                message: Some(MessageRecord {
                    message: NewMessage {
                        id: Uuid::now_v7(),
                        ticket_id,
                        author_id: agent.id,
                        body: "Your receipt, and an internal note".into(),
                        internal: true,
                    },
                    attachments: vec![NewAttachment {
                        id: Uuid::now_v7(),
                        filename: "receipt.pdf".into(),
                        content_type: "application/pdf".into(),
                        size: i64::try_from(ATTACHMENT.len()).unwrap(),
                        sha256,
                    }],
                }),
            })
        })
        .await
        .unwrap();
    assert!(matches!(changed, Changed::Applied { .. }));
    let read = store
        .list_notifications(agent.id, false, None, 10)
        .await
        .unwrap();
    assert!(
        store
            .mark_notification_read(agent.id, read[0].id)
            .await
            .unwrap()
    );
    store.close().await;
}

/// Everything a backup restores, as the store reads it back, attachments' bytes included.
pub(super) async fn content(installation: &Installation) -> Value {
    let store = installation.store().await;
    let users: Vec<Value> = store
        .export_users(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| json!([c.user, c.password_hash]))
        .collect();
    let faqs = store
        .list_faqs(&FaqFilter::default(), None, 100)
        .await
        .unwrap();
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let tickets = store
        .list_tickets(&filter, TicketSort::Number, false, None, 100)
        .await
        .unwrap();
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let files = installation.files();
    let messages: Vec<Value> = store
        .messages_of_tickets(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let stored: Vec<Value> = m
                .attachments
                .iter()
                .map(|a| {
                    let bytes = files.locate(&a.sha256).map(|p| std::fs::read(p).unwrap());
                    json!([a.sha256, a.message_id, bytes])
                })
                .collect();
            json!([m, stored])
        })
        .collect();
    let tickets: Vec<Value> = tickets
        .into_iter()
        .map(|t| json!([t, t.visitor_id]))
        .collect();
    let value = json!({
        "users": users,
        "categories": store.list_categories(false).await.unwrap(),
        "faqs": faqs,
        "widgets": store.list_widgets().await.unwrap(),
        "visitors": store.export_visitors(None, 100).await.unwrap().into_iter()
            .map(|v| json!([v.id, v.widget_id, v.user_id, v.created_at.into_inner()])).collect::<Vec<_>>(),
        "webhooks": store.list_webhooks().await.unwrap(),
        "events": store.events_after(0, 1000).await.unwrap().into_iter().map(|e| e.event).collect::<Vec<_>>(),
        "notifications": store.export_notifications(None, 1000).await.unwrap().into_iter()
            .map(|n| json!([n.id, n.user_id, n.kind, n.ticket_id, n.data, n.read_at.map(|at| at.into_inner()), n.created_at.into_inner()]))
            .collect::<Vec<_>>(),
        "tickets": tickets,
        "messages": messages,
    });
    store.close().await;
    value
}

/// The paths at which two JSON values differ, for a readable failure.
fn differences(left: &Value, right: &Value, path: &str, found: &mut Vec<String>) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for key in l.keys().chain(r.keys().filter(|key| !l.contains_key(*key))) {
                let (a, b) = (
                    l.get(key).unwrap_or(&Value::Null),
                    r.get(key).unwrap_or(&Value::Null),
                );
                differences(a, b, &format!("{path}.{key}"), found);
            }
        }
        (Value::Array(l), Value::Array(r)) if l.len() == r.len() => {
            for (index, (a, b)) in l.iter().zip(r).enumerate() {
                differences(a, b, &format!("{path}[{index}]"), found);
            }
        }
        _ if left != right => found.push(format!("{path}: {left} ≠ {right}")),
        _ => {}
    }
}

pub(super) fn assert_same(restored: &Value, original: &Value, context: &str) {
    let mut found = Vec::new();
    differences(restored, original, "", &mut found);
    assert!(found.is_empty(), "{context}:\n{}", found.join("\n"));
}

/// Exports `from` into `dir` and imports that into `to`.
pub(super) fn carry(from: &Installation, to: &Installation, dir: &Path) {
    succeeded(&from.sync(&["export", text(dir)]));
    succeeded(&to.sync(&["import", "json", text(dir)]));
}

pub(super) async fn seeded_sqlite() -> Installation {
    let original = Installation::new(BackendKind::Sqlite).await;
    seed(&original).await;
    original
}

/// What an import of `dir` with `flags` reports it did (or, dry, would do) with the records,
/// by outcome.
pub(super) fn outcome_counts(
    installation: &Installation,
    dir: &Path,
    name: &str,
    flags: &[&str],
) -> Value {
    let report = dir.join(name);
    let mut args = vec!["import", "json", text(dir), "--report", text(&report)];
    args.extend_from_slice(flags);
    let output = installation.sync(&args);
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    json!({
        "created": report["created"],
        "updated": report["updated"],
        "unchanged": report["unchanged"],
        "refused": report["refused"],
    })
}
