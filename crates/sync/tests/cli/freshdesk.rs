//! `import freshdesk` from API responses on disk and from a live (test) API.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, PoolSettings, Store,
    tickets::{TicketFilter, TicketSort},
};
use serde_json::{Value, json};

use crate::support::{fixture, growdesk_sync, serve_on_loopback, sync, tickets_and_messages};

async fn imported(database: &TestDatabase) -> Vec<Value> {
    let (tickets, messages) = tickets_and_messages(database).await;
    tickets
        .iter()
        .map(|t| {
            let conversation: Vec<Value> = messages
                .iter()
                .filter(|m| m.ticket_id == t.id)
                .map(|m| json!([m.body, m.internal]))
                .collect();
            json!([
                t.subject,
                t.status,
                t.priority,
                t.tags,
                t.requester.email,
                t.assignee_id.is_some(),
                conversation
            ])
        })
        .collect()
}

async fn from_files(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let out = sync(
        &database,
        &[
            "import",
            "freshdesk",
            fixture("freshdesk").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tickets = imported(&database).await;
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(
        (ticket[0].as_str(), ticket[1].as_str(), ticket[2].as_str()),
        (Some("This is a sample ticket"), Some("open"), Some("low"))
    );
    assert_eq!(ticket[3], json!(["mytag"]));
    let conversation = ticket[6].as_array().unwrap();
    assert_eq!(
        conversation.len(),
        3,
        "the description and two conversations"
    );
    assert_eq!(
        conversation[1][1], true,
        "a private conversation is an internal note"
    );
    let again = sync(
        &database,
        &[
            "import",
            "freshdesk",
            fixture("freshdesk").to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(imported(&database).await, tickets);
}

#[tokio::test]
async fn freshdesk_files_import_on_sqlite() {
    from_files(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn freshdesk_files_import_on_postgres() {
    from_files(BackendKind::Postgres).await;
}

#[tokio::test]
async fn freshdesk_api_is_pulled_from_the_stored_cursor() {
    let load = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(fixture("freshdesk").join(name)).unwrap()).unwrap()
    };
    let (contacts, agents, tickets, conversations) = (
        load("contacts.json"),
        load("agents.json"),
        load("tickets.json"),
        load("conversations.json"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let guard = |headers: &HeaderMap| {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic "))
    };
    let page = |all: Value| {
        move |headers: HeaderMap, Query(query): Query<std::collections::HashMap<String, String>>| {
            let all = all.clone();
            async move {
                if !guard(&headers) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let first = query.get("page").map(String::as_str) == Some("1");
                let since = query
                    .get("updated_since")
                    .map(String::as_str)
                    .unwrap_or("1970");
                let fresh = since.starts_with("1970");
                axum::Json(
                    if first && (fresh || !query.contains_key("updated_since")) {
                        all
                    } else {
                        json!([])
                    },
                )
                .into_response()
            }
        }
    };
    let conversations_route = move |Path(_id): Path<String>| {
        let conversations = conversations.clone();
        async move { axum::Json(conversations) }
    };
    let app = axum::Router::new()
        .route("/api/v2/contacts", axum::routing::get(page(contacts)))
        .route("/api/v2/agents", axum::routing::get(page(agents)))
        .route("/api/v2/tickets", axum::routing::get(page(tickets)))
        .route(
            "/api/v2/tickets/{id}/conversations",
            axum::routing::get(conversations_route),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let database = TestDatabase::create(BackendKind::Sqlite).await;
    let url = database.url().to_owned();
    let run = move || {
        growdesk_sync()
            .env_clear()
            .arg("--database-url")
            .arg(&url)
            .args(["import", "freshdesk", "--url", &base, "--api-key", "k3y"])
            .output()
            .unwrap()
    };
    let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(imported(&database).await.len(), 1);
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    assert_eq!(
        store
            .imports()
            .cursor("freshdesk")
            .await
            .unwrap()
            .as_deref(),
        Some("2015-01-01T10:58:39+10:00")
    );
    store.close().await;
    let second = tokio::task::spawn_blocking(run).await.unwrap();
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("0 created, 0 updated"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
}

/// A Freshdesk API that answers as the real one: a ticket list without descriptions unless
/// asked with `include=description`, an agent record the import refuses (a bad email)
/// assigned to the ticket, and conversations whose text version is empty.
async fn recorded_freshdesk() -> String {
    let load = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(fixture("freshdesk").join(name)).unwrap()).unwrap()
    };
    let ticket = load("ticket_1.json");
    let mut agents = load("agents.json");
    agents[0]["id"] = ticket["responder_id"].clone();
    agents[0]["contact"]["email"] = json!("not an address");
    let mut conversations = load("conversations.json");
    for conversation in conversations.as_array_mut().unwrap() {
        conversation["ticket_id"] = ticket["id"].clone();
    }
    let html_only = json!({"id": 3, "body": "<div>Thanks &amp; <b>bye</b><script>x()</script></div>",
        "body_text": "", "incoming": true, "private": false, "user_id": ticket["requester_id"],
        "ticket_id": ticket["id"], "created_at": "2016-05-19T06:00:00Z", "attachments": []});
    let empty = json!({"id": 4, "body": "<div> </div>", "body_text": "", "incoming": true,
        "private": false, "user_id": ticket["requester_id"], "ticket_id": ticket["id"],
        "created_at": "2016-05-19T06:01:00Z", "attachments": [{"id": 1, "name": "a.png"}]});
    conversations
        .as_array_mut()
        .unwrap()
        .extend([html_only, empty]);
    let first_page = |all: Value| {
        move |Query(query): Query<std::collections::HashMap<String, String>>| {
            let all = all.clone();
            async move {
                axum::Json(if query.get("page").map(String::as_str) == Some("1") {
                    all
                } else {
                    json!([])
                })
            }
        }
    };
    let tickets = move |Query(query): Query<std::collections::HashMap<String, String>>| {
        let mut listed = ticket.clone();
        if !query
            .get("include")
            .is_some_and(|include| include.split(',').any(|part| part == "description"))
        {
            let fields = listed.as_object_mut().unwrap();
            fields.remove("description");
            fields.remove("description_text");
        }
        async move {
            axum::Json(if query.get("page").map(String::as_str) == Some("1") {
                json!([listed])
            } else {
                json!([])
            })
        }
    };
    let app = axum::Router::new()
        .route(
            "/api/v2/contacts",
            axum::routing::get(first_page(load("contacts.json"))),
        )
        .route("/api/v2/agents", axum::routing::get(first_page(agents)))
        .route("/api/v2/tickets", axum::routing::get(tickets))
        .route(
            "/api/v2/tickets/{id}/conversations",
            axum::routing::get(first_page(conversations)),
        );
    serve_on_loopback(app).await
}

async fn a_live_import_keeps_every_message(kind: BackendKind) {
    let base = recorded_freshdesk().await;
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let url = database.url().to_owned();
    let run = move |dry_run: bool| {
        let mut command = growdesk_sync();
        command
            .env_clear()
            .arg("--database-url")
            .arg(&url)
            .args([
                "import",
                "freshdesk",
                "--url",
                &base,
                "--api-key",
                "k3y",
                "--report",
            ])
            .arg(&report);
        if dry_run {
            command.arg("--dry-run");
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let refused: Vec<(String, String)> = report["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["position"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (
            [&report["created"], &report["updated"], &report["unchanged"]]
                .map(|n| n.as_u64().unwrap()),
            refused,
        )
    };
    let predicted = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(true)
    })
    .await
    .unwrap();
    let done = tokio::task::spawn_blocking(move || run(false))
        .await
        .unwrap();
    assert_eq!(predicted, done, "the dry run predicts the run");
    let refused_positions: Vec<&str> = done
        .1
        .iter()
        .map(|(position, _)| position.as_str())
        .collect();
    assert_eq!(
        refused_positions,
        ["agent 6010396333", "ticket 1 conversation 4"],
        "{:?}",
        done.1
    );

    let tickets = imported(&database).await;
    assert_eq!(tickets.len(), 1);
    let conversation: Vec<&str> = tickets[0][6]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message[0].as_str().unwrap())
        .collect();
    assert_eq!(
        conversation,
        [
            "This is a sample ticket, feel free to delete it.",
            "This is a private note",
            "This is a reply",
            "Thanks & bye",
        ]
    );
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    let listed = store
        .tickets()
        .list(
            &TicketFilter::default(),
            TicketSort::CreatedAt,
            false,
            None,
            10,
        )
        .await
        .unwrap();
    let assignee = store
        .users()
        .get(
            listed[0]
                .assignee_id
                .expect("assigned to the agent's stand-in"),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        assignee.role.is_staff() && !assignee.active,
        "an inactive staff stand-in: {assignee:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_live_freshdesk_import_keeps_every_message_on_sqlite() {
    a_live_import_keeps_every_message(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn a_live_freshdesk_import_keeps_every_message_on_postgres() {
    a_live_import_keeps_every_message(BackendKind::Postgres).await;
}
