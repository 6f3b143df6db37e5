//! Export and import: an installation moves between backends intact, re-imports change
//! nothing, and bad lines are reported while good ones go in.

use growdesk_domain::{
    MessageBody, MessageChannel, Priority, Role, Subject, Tags, TicketSource, TicketStatus,
};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, Store,
    categories::CategoryFields,
    events::Span,
    faqs::{FaqFields, FaqFilter},
    messages::NewMessage,
    tickets::{
        Changed, MessageRecord, NewTicket, TicketChange, TicketFilter, TicketSort, TicketState,
    },
    users::NewUser,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{mode, store_of, sync};

async fn seed(store: &Store) {
    let user = |email: &str, role| NewUser {
        email: email.into(),
        name: format!("Name {email}"),
        role,
        password_hash: Some(format!("$argon2id$hash-of-{email}")),
    };
    let agent = store
        .users()
        .create(user("agent@example.com", Role::Agent))
        .await
        .unwrap();
    let customer = store
        .users()
        .create(user("cy@example.com", Role::Customer))
        .await
        .unwrap();
    let category = store
        .categories()
        .create(CategoryFields {
            name: "Billing".into(),
            description: "Money".into(),
            color: "#ff0000".into(),
            active: true,
            position: 1,
        })
        .await
        .unwrap();
    store
        .faqs()
        .create(FaqFields {
            question: "Refunds?".into(),
            answer: "Within 30 days.".into(),
            category_id: Some(category.id),
            published: true,
            position: 0,
        })
        .await
        .unwrap();
    for (i, subject) in ["Charged twice", "Login broken", "Facturación"]
        .iter()
        .enumerate()
    {
        let id = Uuid::now_v7();
        store
            .tickets()
            .create(
                NewTicket {
                    id,
                    subject: Subject::parse(subject).unwrap(),
                    priority: Priority::High,
                    category_id: (i == 0).then_some(category.id),
                    requester_id: customer.id,
                    source: TicketSource::Web,
                    tags: Tags::parse(&["vip".to_owned()]).unwrap(),
                    actor_id: customer.id,
                    description: MessageBody::parse(&format!("description {i}")).unwrap(),
                    extra_events: Vec::new(),
                    visitor_id: None,
                    context: None,
                    channel: MessageChannel::Web,
                    mailbox_id: None,
                    attachments: Vec::new(),
                    notes: Vec::new(),
                    mail: Vec::new(),
                    inbound: None,
                },
                None,
            )
            .await
            .unwrap();
        for (body, internal) in [("a note", true), ("a reply", false)] {
            let outcome: Changed<()> = store
                .tickets()
                .change(id, None, |ticket| {
                    let mut state = TicketState::of(ticket);
                    state.assignee_id = Some(agent.id);
                    if i == 1 {
                        state.status = TicketStatus::Closed;
                    }
                    Ok(TicketChange {
                        state,
                        events: Vec::new(),
                        message: Some(MessageRecord {
                            message: NewMessage {
                                id: Uuid::now_v7(),
                                ticket_id: id,
                                author_id: agent.id,
                                body: body.into(),
                                internal,
                                channel: MessageChannel::Web,
                            },
                            attachments: Vec::new(),
                        }),
                        notes: Vec::new(),
                        mail: Vec::new(),
                        inbound: None,
                    })
                })
                .await
                .unwrap();
            assert!(matches!(outcome, Changed::Applied { .. }));
        }
    }
}

/// Everything an export holds, in a comparable form.
async fn content(store: &Store) -> Value {
    let users: Vec<Value> = store
        .users()
        .export(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            json!([
                c.user.id,
                c.user.email,
                c.user.name,
                c.user.role,
                c.user.active,
                c.password_hash
            ])
        })
        .collect();
    let categories: Vec<Value> = store
        .categories()
        .list(false)
        .await
        .unwrap()
        .into_iter()
        .map(|c| json!([c.id, c.name, c.color]))
        .collect();
    let faqs: Vec<Value> = store
        .faqs()
        .list(&FaqFilter::default(), None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|f| json!([f.id, f.question, f.category_id]))
        .collect();
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let tickets = store
        .tickets()
        .list(&filter, TicketSort::Number, false, None, 100)
        .await
        .unwrap();
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let messages: Vec<Value> = store
        .messages()
        .of_tickets(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            json!([
                m.id,
                m.ticket_id,
                m.author.id,
                m.body,
                m.internal,
                m.created_at.unix_timestamp_nanos() / 1000
            ])
        })
        .collect();
    let tickets: Vec<Value> = tickets
        .into_iter()
        .map(|t| {
            json!([
                t.id,
                t.number,
                t.subject,
                t.status,
                t.priority,
                t.category_id,
                t.requester.id,
                t.assignee_id,
                t.tags,
                t.created_at.unix_timestamp()
            ])
        })
        .collect();
    json!({"users": users, "categories": categories, "faqs": faqs, "tickets": tickets, "messages": messages})
}

async fn move_between(from: BackendKind, to: BackendKind) {
    let source = TestDatabase::create(from).await;
    let source_store = store_of(&source).await;
    seed(&source_store).await;
    let dir = tempfile::tempdir().unwrap();
    let out = sync(&source, &["export", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.path().join("growdesk-export.jsonl");
    assert_eq!(mode(&file), 0o600, "exports hold password hashes");

    let target = TestDatabase::create(to).await;
    let report = dir.path().join("report.json");
    let first = sync(
        &target,
        &[
            "import",
            "json",
            dir.path().to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    // Two users, a category, a FAQ and three tickets, then the event log's entries.
    let whole_log = Span {
        after: 0,
        upto: i64::MAX,
    };
    let logged = source_store.events().after(whole_log, 1000).await;
    let records = 2 + 1 + 1 + 3 + logged.unwrap().len();
    assert_eq!(
        (
            report["created"].as_u64(),
            report["refused"].as_array().map(Vec::len)
        ),
        (u64::try_from(records).ok(), Some(0))
    );
    let target_store = store_of(&target).await;
    assert_eq!(
        content(&target_store).await,
        content(&source_store).await,
        "the same data on the other backend"
    );

    let again = sync(&target, &["import", "json", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    let summary = String::from_utf8_lossy(&again.stdout);
    assert!(
        summary.contains(&format!(
            "0 created, 0 updated, {records} unchanged, 0 refused"
        )),
        "{summary}"
    );
    assert_eq!(content(&target_store).await, content(&source_store).await);

    // New tickets continue after the imported numbers.
    let next = Uuid::now_v7();
    let customer = target_store
        .users()
        .export(None, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.user.role == Role::Customer)
        .unwrap();
    target_store
        .tickets()
        .create(
            NewTicket {
                id: next,
                subject: Subject::parse("After the move").unwrap(),
                priority: Priority::Low,
                category_id: None,
                requester_id: customer.user.id,
                source: TicketSource::Web,
                tags: Tags::default(),
                actor_id: customer.user.id,
                description: MessageBody::parse("d").unwrap(),
                extra_events: Vec::new(),
                visitor_id: None,
                context: None,
                channel: MessageChannel::Web,
                mailbox_id: None,
                attachments: Vec::new(),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        target_store
            .tickets()
            .get(next)
            .await
            .unwrap()
            .unwrap()
            .number,
        4
    );
    source_store.close().await;
    target_store.close().await;
}

#[tokio::test]
async fn an_installation_moves_from_sqlite_to_postgres() {
    move_between(BackendKind::Sqlite, BackendKind::Postgres).await;
}

#[tokio::test]
async fn an_installation_moves_from_postgres_to_sqlite() {
    move_between(BackendKind::Postgres, BackendKind::Sqlite).await;
}

#[tokio::test]
async fn bad_lines_are_reported_and_good_ones_go_in() {
    let target = TestDatabase::create(BackendKind::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.jsonl");
    let user = json!({"kind": "user", "id": Uuid::now_v7(), "email": "ok@example.com", "name": "<script>alert(1)</script>", "role": "customer", "active": true, "password_hash": null, "created_at": "2024-01-02T03:04:05Z"});
    let ticket = |requester: Uuid, subject: &str| json!({"kind": "ticket", "id": Uuid::now_v7(), "number": 9, "subject": subject, "status": "open", "priority": "low", "category_id": null, "requester_id": requester, "assignee_id": null, "tags": [], "source": "import", "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-02T03:04:05Z", "first_response_at": null, "resolved_at": null, "closed_at": null, "messages": []});
    let user_id: Uuid = serde_json::from_value(user["id"].clone()).unwrap();
    let lines = [
        json!({"kind": "header", "format": "growdesk-export", "version": 1, "exported_at": "2024-01-02T03:04:05Z"}).to_string(),
        user.to_string(),
        "{\"kind\": \"user\", \"id\": ".to_owned(),
        json!({"kind": "ticket", "id": 5}).to_string(),
        ticket(Uuid::now_v7(), "Orphan").to_string(),
        ticket(user_id, "x".repeat(50_000).as_str()).to_string(),
        ticket(user_id, "Fine").to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let report = dir.path().join("report.json");

    let dry = sync(
        &target,
        &["import", "json", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(dry.status.code(), Some(1));
    let store = store_of(&target).await;
    assert!(
        store.users().export(None, 10).await.unwrap().is_empty(),
        "a dry run writes nothing"
    );

    let run = sync(
        &target,
        &[
            "import",
            "json",
            file.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "some records refused: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let positions: Vec<&str> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, ["line 3", "line 4", "line 5", "line 6"]);
    assert_eq!(report["created"], 2, "the good user and ticket went in");
    let users = store.users().export(None, 10).await.unwrap();
    assert_eq!(
        users[0].user.name, "<script>alert(1)</script>",
        "stored verbatim, as text"
    );

    let missing = sync(&target, &["import", "json", "/nonexistent/export.jsonl"]);
    assert_eq!(missing.status.code(), Some(2), "a failure is exit code 2");
    store.close().await;
}
