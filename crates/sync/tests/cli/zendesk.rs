//! `import zendesk` from API responses on disk and from a live (test) API with pagination,
//! a 429, and a stored cursor.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, PoolSettings, Store,
    tickets::{TicketFilter, TicketSort},
};
use serde_json::{Value, json};

use crate::support::{fixture, growdesk_sync, sync, tickets_and_messages};

async fn imported(database: &TestDatabase) -> Vec<Value> {
    let (tickets, messages) = tickets_and_messages(database).await;
    tickets
        .iter()
        .map(|t| {
            let bodies: Vec<&str> = messages
                .iter()
                .filter(|m| m.ticket_id == t.id)
                .map(|m| m.body.as_str())
                .collect();
            json!([
                t.subject,
                t.status,
                t.priority,
                t.source,
                t.created_at.unix_timestamp(),
                bodies
            ])
        })
        .collect()
}

async fn from_files(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let out = sync(
        &database,
        &["import", "zendesk", fixture("zendesk").to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("zendesk: 5 created"),
        "2 users, 1 stand-in for the unknown requester, 2 tickets: {summary}"
    );
    let tickets = imported(&database).await;
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0][0], "Mail to create fixture ticket for testing");
    assert_eq!(tickets[0][1], "resolved", "solved maps to resolved");
    assert_eq!(tickets[0][3], "import");
    assert_eq!(
        tickets[0][5].as_array().unwrap().len(),
        2,
        "ticket 2's comments"
    );
    assert_eq!(
        tickets[1][5].as_array().unwrap().len(),
        1,
        "ticket 3 has only its description"
    );
    let again = sync(
        &database,
        &["import", "zendesk", fixture("zendesk").to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(imported(&database).await, tickets);
}

/// Zendesk data as its API gives it by default: a deleted ticket in the export, a comment
/// whose text is only in `html_body`, one with no text at all, an assignee the users list
/// does not hold, and one that is a customer.
async fn what_the_api_leaves_out(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("comments")).unwrap();
    let load = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(fixture("zendesk").join(name)).unwrap()).unwrap()
    };
    let save = |name: &str, value: &Value| {
        std::fs::write(dir.path().join(name), value.to_string()).unwrap();
    };
    save("users.json", &load("users.json"));
    let mut tickets = load("tickets.json");
    tickets["tickets"][1]["assignee_id"] = json!(999);
    let mut deleted = tickets["tickets"][1].clone();
    deleted["id"] = json!(4);
    deleted["status"] = json!("deleted");
    tickets["tickets"].as_array_mut().unwrap().push(deleted);
    save("tickets.json", &tickets);
    let mut comments = load("comments/2.json");
    comments["comments"][1]["body"] = json!("");
    comments["comments"][1]["html_body"] =
        json!("<div class=\"zd-comment\"><p>Seen &amp; answered</p></div>");
    let mut empty = comments["comments"][1].clone();
    empty["id"] = json!(99);
    empty["html_body"] = json!("<p> </p>");
    comments["comments"].as_array_mut().unwrap().push(empty);
    save("comments/2.json", &comments);

    let report = dir.path().join("report.json");
    let run = |dry_run: bool| {
        let mut args = vec!["import", "zendesk", dir.path().to_str().unwrap()];
        args.extend(["--report", report.to_str().unwrap()]);
        if dry_run {
            args.push("--dry-run");
        }
        let output = sync(&database, &args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        json!([
            report["created"],
            report["updated"],
            report["unchanged"],
            report["refused"]
        ])
    };
    let predicted = run(true);
    let done = run(false);
    assert_eq!(predicted, done, "the dry run predicts the run");
    let refused: Vec<(&str, &str)> = done[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["position"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("ticket 2 comment 99", "body must not be empty"),
            ("ticket 4", "deleted in Zendesk")
        ]
    );
    let stored = imported(&database).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0][5][1], "Seen & answered");

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
    assert_eq!(
        listed[0].assignee_id, None,
        "assigned to a customer in the data: unassigned here"
    );
    let stand_in = store
        .users()
        .get(
            listed[1]
                .assignee_id
                .expect("the unknown assignee's stand-in"),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(stand_in.role.is_staff() && !stand_in.active, "{stand_in:?}");
    store.close().await;
}

#[tokio::test]
async fn what_the_zendesk_api_leaves_out_on_sqlite() {
    what_the_api_leaves_out(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn what_the_zendesk_api_leaves_out_on_postgres() {
    what_the_api_leaves_out(BackendKind::Postgres).await;
}

#[tokio::test]
async fn zendesk_files_import_on_sqlite() {
    from_files(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn zendesk_files_import_on_postgres() {
    from_files(BackendKind::Postgres).await;
}

/// A Zendesk-compatible API serving the fixtures: users in two pages, tickets through the
/// incremental cursor export (the second page answers 429 once), comments per ticket.
async fn fake_zendesk() -> (String, Arc<AtomicUsize>) {
    let throttled = Arc::new(AtomicUsize::new(0));
    let users: Value =
        serde_json::from_slice(&std::fs::read(fixture("zendesk").join("users.json")).unwrap())
            .unwrap();
    let tickets: Value =
        serde_json::from_slice(&std::fs::read(fixture("zendesk").join("tickets.json")).unwrap())
            .unwrap();
    let comments: Value =
        serde_json::from_slice(&std::fs::read(fixture("zendesk").join("comments/2.json")).unwrap())
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let authorized = |headers: &HeaderMap| {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic "))
    };
    let page_base = base.clone();
    let users_route =
        move |headers: HeaderMap,
              Query(query): Query<std::collections::HashMap<String, String>>| {
            let users = users.clone();
            let page_base = page_base.clone();
            async move {
                if !authorized(&headers) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let all = users["users"].as_array().unwrap().clone();
                if query.get("page").map(String::as_str) == Some("2") {
                    axum::Json(json!({"users": [all[1]], "next_page": null})).into_response()
                } else {
                    axum::Json(json!({"users": [all[0]], "next_page": format!("{page_base}/api/v2/users.json?page=2")})).into_response()
                }
            }
        };
    let count = throttled.clone();
    let tickets_route = move |Query(query): Query<std::collections::HashMap<String, String>>| {
        let tickets = tickets.clone();
        let count = count.clone();
        async move {
            let all = tickets["tickets"].as_array().unwrap().clone();
            match query.get("cursor").map(String::as_str) {
                None => axum::Json(
                    json!({"tickets": [all[0]], "after_cursor": "c1", "end_of_stream": false}),
                )
                .into_response(),
                Some("c1") if count.fetch_add(1, Ordering::SeqCst) == 0 => {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
                }
                Some("c1") => axum::Json(
                    json!({"tickets": [all[1]], "after_cursor": "c2", "end_of_stream": true}),
                )
                .into_response(),
                Some(_) => {
                    axum::Json(json!({"tickets": [], "after_cursor": "c2", "end_of_stream": true}))
                        .into_response()
                }
            }
        }
    };
    let comments_route = move |Path(id): Path<String>| {
        let comments = comments.clone();
        async move {
            if id == "2" {
                axum::Json(json!({"comments": comments["comments"]})).into_response()
            } else {
                axum::Json(json!({"comments": []})).into_response()
            }
        }
    };
    let app = axum::Router::new()
        .route("/api/v2/users.json", axum::routing::get(users_route))
        .route(
            "/api/v2/incremental/tickets/cursor.json",
            axum::routing::get(tickets_route),
        )
        .route(
            "/api/v2/tickets/{id}/comments.json",
            axum::routing::get(comments_route),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, throttled)
}

#[tokio::test]
async fn zendesk_api_is_pulled_page_by_page_through_a_429() {
    let (base, throttled) = fake_zendesk().await;
    let database = TestDatabase::create(BackendKind::Postgres).await;
    let args: Vec<String> = [
        "import",
        "zendesk",
        "--url",
        &base,
        "--email",
        "admin@example.com",
        "--token",
        "t0ken",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let url = database.url().to_owned();
    let run = move || {
        growdesk_sync()
            .env_clear()
            .arg("--database-url")
            .arg(&url)
            .args(&args)
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
    assert_eq!(
        throttled.load(Ordering::SeqCst),
        2,
        "the 429 was waited out and retried: {}",
        String::from_utf8_lossy(&first.stdout)
    );
    let tickets = imported(&database).await;
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0][5].as_array().unwrap().len(), 2);

    let second = tokio::task::spawn_blocking(run).await.unwrap();
    assert_eq!(second.status.code(), Some(0));
    let summary = String::from_utf8_lossy(&second.stdout);
    assert!(
        summary.contains("0 created, 0 updated"),
        "the stored cursor resumes past what was read: {summary}"
    );
}
