//! A backup restores what the API shows: every GET route of the OpenAPI document, fetched as
//! the admin, a customer, a widget visitor and an agent (who alone sees their personal views,
//! canned replies and read marks), answers the same on the original SQLite instance
//! and after `growdesk-sync export` → `import json` on PostgreSQL, then back on SQLite — the
//! email channel's mailboxes, templates, tickets that came by mail and their mail log
//! included.

use std::path::Path;
use std::process::Command;

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};

use crate::email::{mail_side_in, mailbox, plain_mail};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, access, spawn_app_with, start};
use crate::widgets::{SITE, public, visitor_ticket, widget};

const CUSTOMER: &str = "cy@example.com";
const AGENT: &str = "agent@example.com";
const PASSWORD: &str = "user-password-1";
const RECEIPT: &[u8] = b"%PDF-1.4 the receipt\n";

/// Routes left out, and why: they describe the process, not the data a backup holds.
const NOT_DATA: [&str; 5] = [
    // Liveness and readiness: the same by construction, and not stored.
    "/api/health",
    "/api/ready",
    // Counters of this process's requests since it started.
    "/metrics",
    // WebSocket upgrades; the resume ids they replay from are the event log, compared through
    // /api/tickets/{id}/events.
    "/api/ws",
    "/widget/ws",
];

/// Who asks: a bearer token, and for the widget's routes its key.
struct Caller {
    token: String,
    widget_key: Option<String>,
}

/// An instance with one of everything a backup carries, made through the API (and what
/// arrives by mail, through the service, keeping its files in `data_dir`, the instance's).
async fn seed(app: &TestApp, data_dir: &Path) -> (String, String) {
    let admin = app.admin_token().await;
    let (agent, agent_user) = app.user_token(AGENT, "agent").await;
    let (customer, _) = app.user_token(CUSTOMER, "customer").await;
    let category = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": "Billing", "description": "Money", "color": "#FF0000", "position": 2}),
        )
        .await
        .expect(201)
        .body;
    app.post("/api/faqs", Some(&agent), json!({"question": "Refunds?", "answer": "Within 30 days.", "category_id": category["id"], "published": true, "position": 1}))
        .await
        .expect(201);
    // Saved views and canned replies: the agent's own, and shared ones (only an admin shares).
    for (caller, view, reply) in [
        (
            &agent,
            json!({"name": "My billing", "filter": {"status": ["open", "pending"], "category_id": category["id"], "assignee_id": "me"}}),
            json!({"title": "Refunded", "body": "Hello {{requester.name}}, refunded.", "shortcut": "refund"}),
        ),
        (
            &admin,
            json!({"name": "All urgent", "shared": true, "filter": {"priority": "urgent"}}),
            json!({"title": "Welcome", "body": "Welcome!", "shared": true}),
        ),
    ] {
        app.post("/api/views", Some(caller), view).await.expect(201);
        app.post("/api/canned-replies", Some(caller), reply)
            .await
            .expect(201);
    }
    let site = widget(app, &admin, json!({"name": "Shop", "allowed_origins": [SITE], "identity_secret": "identity-secret-0123456789"})).await;
    let key = site["key"].as_str().unwrap().to_owned();
    let opened = public(
        app,
        Method::POST,
        "/widget/tickets",
        &key,
        None,
        Some(visitor_ticket("vera@example.com")),
    )
    .await
    .expect(201)
    .body;
    let visitor = opened["visitor_token"].as_str().unwrap().to_owned();
    app.post(
        "/api/webhooks",
        Some(&admin),
        json!({"url": "https://93.184.215.14/hooks/growdesk", "event_types": ["*"]}),
    )
    .await
    .expect(201);
    // The email channel: a mailbox (its servers are never contacted), an admin's wording of
    // replies in Spanish, and a ticket that came by mail, acknowledged and answered by mail.
    let support = mailbox(app, &admin, "support@example.test").await;
    app.call(
        Method::PUT,
        "/api/email-templates/reply/es",
        Some(&admin),
        Some(json!({
            "subject": "Re: {{ticket.subject}}",
            "text_body": "Hola {{requester.name}},\n\n{{message.body}}",
            "html_body": "<p>Hola {{requester.name}},</p>{{message.body}}",
        })),
    )
    .await
    .expect(200);
    mail_side_in(app, data_dir)
        .await
        .receive(
            &support["id"],
            plain_mail(CUSTOMER, "support@example.test", "By mail", "Hello by mail"),
        )
        .await;
    let listed = app
        .get("/api/tickets?limit=100", &agent)
        .await
        .expect(200)
        .body;
    let by_mail = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ticket| ticket["subject"] == "By mail")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/tickets/{by_mail}/messages"),
        Some(&agent),
        json!({"body": "Answered by mail."}),
    )
    .await
    .expect(201);
    let ticket = app
        .post("/api/tickets", Some(&customer), json!({"subject": "Charged twice", "description": "Twice on May 2.", "tags": ["Billing"], "category_id": category["id"]}))
        .await
        .expect(201)
        .body;
    let ticket_id = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{ticket_id}/assign"),
        Some(&agent),
        json!({"assignee_id": agent_user["id"]}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/tickets/{ticket_id}"),
        &agent,
        json!({"status": "pending"}),
    )
    .await
    .expect(200);
    for (body, internal) in [
        ("Refunded; receipt attached.", false),
        ("Bank says fine.", true),
    ] {
        let part = reqwest::multipart::Part::bytes(RECEIPT.to_vec())
            .file_name("receipt.pdf")
            .mime_str("application/pdf")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("body", body)
            .text("internal", internal.to_string())
            .part("files", part);
        let sent = app
            .client
            .post(app.url(&format!("/api/tickets/{ticket_id}/messages")))
            .bearer_auth(&agent)
            .multipart(form)
            .send()
            .await
            .unwrap();
        TestApp::reply(sent).await.expect(201);
    }
    let widget_ticket = opened["ticket"]["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{widget_ticket}/messages"),
        Some(&agent),
        json!({"body": "Hello Vera, on it."}),
    )
    .await
    .expect(201);
    // The agent has read the customer's ticket and not Vera's: each shows as such to them alone.
    app.call(
        Method::PUT,
        &format!("/api/tickets/{ticket_id}/read"),
        Some(&agent),
        None,
    )
    .await
    .expect(204);
    (key, visitor)
}

/// Runs growdesk-sync on `database_url` with `data_dir`.
fn sync(database_url: &str, data_dir: &Path, args: &[&str]) {
    let output = Command::new(crate::deployment::sync_binary())
        .env_clear()
        .arg("--database-url")
        .arg(database_url)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "growdesk-sync {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Exports `from` (on `from_data`) and restores it into a new database of `kind` with its own
/// data directory, then starts a server on it.
async fn restored(
    from: &TestApp,
    from_data: &Path,
    kind: BackendKind,
    data: &tempfile::TempDir,
) -> TestApp {
    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("backup");
    let folder = folder.to_str().unwrap();
    sync(from.database_url(), from_data, &["export", folder]);
    let database = TestDatabase::create(kind).await;
    sync(database.url(), data.path(), &["import", "json", folder]);
    let data_dir = data.path().to_owned();
    start(database, move |settings| settings.data_dir = data_dir).await
}

/// Every GET route of the document with its `{id}` filled with each id the lists show (the
/// admin's, and for personal records the agent's too).
async fn requests(app: &TestApp, admin: &str, agent: &str, visitor: &Caller) -> Vec<String> {
    let document = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    let document: Value = document.json().await.unwrap();
    let ids = |list: Value| -> Vec<String> {
        let items = list.get("items").cloned().unwrap_or(list);
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed =
        |path: &'static str| async move { ids(app.get(path, admin).await.expect(200).body) };
    // Personal views and replies are listed to their owner only.
    let listed_with_agent = |path: &'static str| async move {
        let mut all = ids(app.get(path, admin).await.expect(200).body);
        for id in ids(app.get(path, agent).await.expect(200).body) {
            if !all.contains(&id) {
                all.push(id);
            }
        }
        all
    };
    let tickets = listed("/api/tickets?limit=100").await;
    let mut attachments = Vec::new();
    for ticket in &tickets {
        let messages = app
            .get(&format!("/api/tickets/{ticket}/messages"), admin)
            .await
            .expect(200)
            .body;
        for message in messages["items"].as_array().unwrap() {
            attachments.extend(ids(message["attachments"].clone()));
        }
    }
    let visitor_tickets = ids(fetch(app, "/widget/tickets", visitor).await.1);
    let mut requests = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if operations.get("get").is_none() || NOT_DATA.contains(&path.as_str()) {
            continue;
        }
        let ids = match path.as_str() {
            p if !p.contains("{id}") => vec![String::new()],
            p if p.starts_with("/api/tickets/") => tickets.clone(),
            p if p.starts_with("/api/users/") => listed("/api/users?limit=100").await,
            p if p.starts_with("/api/faqs/") => listed("/api/faqs?limit=100").await,
            p if p.starts_with("/api/webhooks/") => listed("/api/webhooks").await,
            p if p.starts_with("/api/widgets/") => listed("/api/widgets").await,
            p if p.starts_with("/api/mailboxes/") => listed("/api/mailboxes").await,
            p if p.starts_with("/api/attachments/") => attachments.clone(),
            p if p.starts_with("/api/views/") => listed_with_agent("/api/views?limit=100").await,
            p if p.starts_with("/api/canned-replies/") => {
                listed_with_agent("/api/canned-replies?limit=100").await
            }
            p if p.starts_with("/widget/tickets/") => visitor_tickets.clone(),
            other => panic!("no ids known for {other}: add them here"),
        };
        assert!(!ids.is_empty(), "{path} would not be compared");
        requests.extend(ids.iter().map(|id| path.replace("{id}", id)));
    }
    requests
}

/// A GET's status and body (JSON, or a file's bytes as an array of numbers), the instance's
/// address written the same for all.
async fn fetch(app: &TestApp, path: &str, caller: &Caller) -> (u16, Value) {
    let mut request = app.client.get(app.url(path)).bearer_auth(&caller.token);
    if let Some(key) = &caller.widget_key {
        request = request.header("x-widget-key", key).header("origin", SITE);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(bytes.to_vec()));
    // The one thing that must differ: the instance's own address (in widgets' embed snippets).
    let body = body.to_string().replace(&app.base, "http://the-instance");
    (status, serde_json::from_str(&body).unwrap())
}

/// Signs in on `app` as the admin, the customer and the agent (passwords survive a backup);
/// the widget visitor is third.
async fn callers(app: &TestApp, key: &str, visitor: &str) -> [Caller; 4] {
    let sign_in = |email: &'static str, password: &'static str| async move {
        Caller {
            token: access(&app.login(email, password).await),
            widget_key: None,
        }
    };
    [
        sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        sign_in(CUSTOMER, PASSWORD).await,
        Caller {
            token: visitor.to_owned(),
            widget_key: Some(key.to_owned()),
        },
        sign_in(AGENT, PASSWORD).await,
    ]
}

#[tokio::test]
async fn every_get_answers_the_same_after_sqlite_to_postgres_to_sqlite() {
    let data = [(); 3].map(|()| tempfile::tempdir().unwrap());
    let first_data = data[0].path().to_owned();
    let original = spawn_app_with(BackendKind::Sqlite, move |settings| {
        settings.data_dir = first_data;
    })
    .await;
    let (key, visitor) = seed(&original, data[0].path()).await;
    let on_postgres = restored(&original, data[0].path(), BackendKind::Postgres, &data[1]).await;
    let back = restored(&on_postgres, data[1].path(), BackendKind::Sqlite, &data[2]).await;

    let before = callers(&original, &key, &visitor).await;
    let after = callers(&back, &key, &visitor).await;
    let paths = requests(&original, &before[0].token, &before[3].token, &before[2]).await;
    assert_eq!(
        paths,
        requests(&back, &after[0].token, &after[3].token, &after[2]).await,
        "the same routes and ids"
    );
    let mut compared = 0;
    for path in &paths {
        let widget_route = path.starts_with("/widget/");
        for (who, (was, is)) in before.iter().zip(&after).enumerate() {
            if widget_route != (who == 2) {
                continue;
            }
            let (was, is) = (
                fetch(&original, path, was).await,
                fetch(&back, path, is).await,
            );
            if path.starts_with("/api/webhooks/") && path.ends_with("/deliveries") && was.0 == 200 {
                // Webhook deliveries are not restored: old events are not sent again. (A
                // ticket's mail log is, and is compared.)
                assert_eq!((is.0, &is.1["items"]), (200, &json!([])), "{path}");
                continue;
            }
            assert_eq!(is, was, "GET {path} as caller {who}");
            compared += 1;
        }
    }
    assert!(compared > paths.len(), "{compared} comparisons");
    original.stop().await;
    on_postgres.stop().await;
    back.stop().await;
}
