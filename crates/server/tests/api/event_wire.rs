//! The JSON of every kind of event, pinned as the API, the socket, webhooks and exports show
//! it: one scenario raises each kind (and each shape of notification), and what every reader
//! gets must equal `event_wire.json` once ids and times are replaced by placeholders.
//!
//! `GROWDESK_BLESS_EVENT_WIRE=1` rewrites the file from a run; a change to it is a change of
//! the wire format, which clients, receivers and old exports depend on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use growdesk_store::BackendKind;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_app_with};
use crate::tickets::upload;
use crate::widgets::{SITE, public, visitor_ticket, widget};

on_both_backends!(every_kind_of_event_keeps_its_json);

const GOLDEN: &str = "tests/api/event_wire.json";

/// The bodies a webhook receiver on a loopback port got.
type Received = Arc<Mutex<Vec<Value>>>;

/// A webhook receiver that answers 204 to every request and keeps its JSON body.
async fn receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut chunk = [0; 4096];
            let body = loop {
                let read = stream.read(&mut chunk).await.unwrap_or(0);
                if read == 0 {
                    break None;
                }
                request.extend_from_slice(&chunk[..read]);
                let text = String::from_utf8_lossy(&request);
                let Some(end) = text.find("\r\n\r\n") else {
                    continue;
                };
                let length = text[..end]
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break Some(request[end + 4..end + 4 + length].to_vec());
                }
            };
            if let Some(body) = body {
                log.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).expect("a JSON body"));
            }
            let _ = stream
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (url, received)
}

/// Runs one pass of growdesk-sync's jobs on `app`'s database as if at `now`.
fn run_jobs(app: &TestApp, data: &Path, now: OffsetDateTime) {
    let output = Command::new(crate::deployment::sync_binary())
        .env_clear()
        .env("GROWDESK_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
        .arg("--database-url")
        .arg(app.database_url())
        .arg("--data-dir")
        .arg(data)
        .args(["run", "--once", "--now"])
        .arg(now.format(&Rfc3339).unwrap())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "growdesk-sync run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The event and notification lines of a `growdesk-sync export` of `app`.
fn exported(app: &TestApp, data: &Path) -> Vec<Value> {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("export.jsonl");
    let output = Command::new(crate::deployment::sync_binary())
        .env_clear()
        .arg("--database-url")
        .arg(app.database_url())
        .arg("--data-dir")
        .arg(data)
        .arg("export")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "growdesk-sync export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["kind"] == "event" || line["kind"] == "notification")
        .collect()
}

/// Every frame a socket of `token` gets when it resumes from the start of the log, up to
/// `ready`.
async fn resumed_frames(app: &TestApp, token: &str) -> Vec<Value> {
    let url = format!(
        "{}/api/ws?access_token={token}&last_event_id=0",
        app.base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut frames = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("frames come")
            .expect("the socket stays open")
            .unwrap();
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "ready" {
                return frames;
            }
            frames.push(frame);
        }
    }
}

/// Replaces what differs from run to run and between backends with placeholders: times with
/// `<time>`, each UUID with `<uuid N>` and each event id with `<event N>`, numbered in order of
/// first appearance (event ids in their own order, so gaps a backend leaves do not count).
struct Placeholders {
    uuids: BTreeMap<String, usize>,
    events: BTreeMap<i64, usize>,
}

impl Placeholders {
    fn new(event_ids: impl IntoIterator<Item = i64>) -> Self {
        let mut ids: Vec<i64> = event_ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Self {
            uuids: BTreeMap::new(),
            events: ids.into_iter().zip(1..).collect(),
        }
    }

    fn apply(&mut self, value: &Value, key: Option<&str>) -> Value {
        match value {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, field)| (name.clone(), self.apply(field, Some(name))))
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.apply(item, key)).collect())
            }
            Value::Number(number) if matches!(key, Some("id" | "event_id" | "last_event_id")) => {
                let id = number.as_i64().expect("event ids are integers");
                json!(format!("<event {}>", self.events[&id]))
            }
            Value::String(text) if OffsetDateTime::parse(text, &Rfc3339).is_ok() => {
                json!("<time>")
            }
            Value::String(text) if uuid::Uuid::parse_str(text).is_ok() => {
                let next = self.uuids.len() + 1;
                json!(format!(
                    "<uuid {}>",
                    self.uuids.entry(text.clone()).or_insert(next)
                ))
            }
            other => other.clone(),
        }
    }
}

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN)
}

async fn every_kind_of_event_keeps_its_json(kind: BackendKind) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_owned();
    let app = spawn_app_with(kind, move |settings| {
        settings.data_dir = data_dir;
        settings.webhook_allow_private_targets = true;
    })
    .await;
    let (hook, received) = receiver().await;
    let admin = app.admin_token().await;
    app.post(
        "/api/webhooks",
        Some(&admin),
        json!({"url": hook, "event_types": ["*"]}),
    )
    .await
    .expect(201);
    let (ana, ana_user) = app.user_token("ana@example.com", "agent").await;
    app.patch("/api/auth/me", &ana, json!({"notify_new_tickets": true}))
        .await
        .expect(200);
    let (cy, _) = app.user_token("cy@example.com", "customer").await;
    let category = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": "Billing", "description": "Money", "color": "#FF0000", "position": 1}),
        )
        .await
        .expect(201)
        .body;

    // created, message_created and new_ticket; then each field change, assignee_changed and
    // assigned; a customer's reply that wakes the pending ticket (status_changed) and
    // customer_replied; an internal note with a file (attachment_added) and a mention.
    let ticket = app
        .post(
            "/api/tickets",
            Some(&cy),
            json!({"subject": "Charged twice", "description": "Twice on May 2.", "priority": "high", "tags": ["billing"]}),
        )
        .await
        .expect(201)
        .body;
    let id = ticket["id"].as_str().unwrap();
    let path = format!("/api/tickets/{id}");
    app.patch(
        &path,
        &admin,
        json!({"status": "pending", "subject": "Charged twice in May", "priority": "urgent", "category_id": category["id"], "tags": ["billing", "refund"]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("{path}/assign"),
        Some(&admin),
        json!({"assignee_id": ana_user["id"]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("{path}/messages"),
        Some(&cy),
        json!({"body": "Any news?"}),
    )
    .await
    .expect(201);
    let receipt = (
        "receipt.pdf",
        "application/pdf",
        b"%PDF-1.4 a receipt\n".to_vec(),
    );
    upload(&app, &admin, id, "@ana the receipt", true, &[receipt])
        .await
        .expect(201);
    app.patch(&path, &admin, json!({"status": "resolved"}))
        .await
        .expect(200);

    // A widget conversation (created with its context), a deleted ticket, and a month later
    // the jobs: the resolved ticket closes by itself, the widget's breaches its targets, and
    // the webhooks are sent (the second pass sends what the first one's changes queued).
    let site = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let opened = public(
        &app,
        reqwest::Method::POST,
        "/widget/tickets",
        site["key"].as_str().unwrap(),
        None,
        Some(visitor_ticket("vera@example.com")),
    )
    .await
    .expect(201)
    .body;
    let chat = opened["ticket"]["id"].as_str().unwrap();
    let doomed = app
        .post(
            "/api/tickets",
            Some(&cy),
            json!({"subject": "Wrong one", "description": "Sorry."}),
        )
        .await
        .expect(201)
        .body;
    app.delete(
        &format!("/api/tickets/{}", doomed["id"].as_str().unwrap()),
        &admin,
    )
    .await
    .expect(204);
    let later = OffsetDateTime::now_utc() + time::Duration::days(30);
    run_jobs(&app, data.path(), later);
    run_jobs(&app, data.path(), later);

    let mut shown = json!({});
    for (name, ticket) in [("ticket", id), ("widget_ticket", chat)] {
        shown[format!("GET /api/tickets/{{{name}}}/events")] = app
            .get(&format!("/api/tickets/{ticket}/events?limit=100"), &admin)
            .await
            .expect(200)
            .body["items"]
            .clone();
    }
    shown["socket of the agent, resumed from 0"] = json!(resumed_frames(&app, &ana).await);
    shown["socket of the admin, resumed from 0"] = json!(resumed_frames(&app, &admin).await);
    let mut webhooks = received.lock().unwrap().clone();
    webhooks.sort_by_key(|body| body["data"]["event_id"].as_i64());
    shown["webhook bodies"] = json!(webhooks);
    shown["export lines"] = json!(exported(&app, data.path()));

    let event_ids = shown["GET /api/tickets/{ticket}/events"]
        .as_array()
        .into_iter()
        .chain(shown["socket of the admin, resumed from 0"].as_array())
        .chain(shown["socket of the agent, resumed from 0"].as_array())
        .chain(shown["export lines"].as_array())
        .chain(shown["GET /api/tickets/{widget_ticket}/events"].as_array())
        .flatten()
        .filter_map(|item| item["id"].as_i64().or_else(|| item["event"]["id"].as_i64()))
        .collect::<Vec<_>>();
    let mut placeholders = Placeholders::new(event_ids);
    let mut normalised = json!({});
    // In a fixed order, so placeholders are numbered the same way on every run.
    for section in [
        "GET /api/tickets/{ticket}/events",
        "GET /api/tickets/{widget_ticket}/events",
        "socket of the agent, resumed from 0",
        "socket of the admin, resumed from 0",
        "webhook bodies",
        "export lines",
    ] {
        normalised[section] = placeholders.apply(&shown[section], None);
    }
    let actual = serde_json::to_string_pretty(&normalised).unwrap() + "\n";
    if std::env::var_os("GROWDESK_BLESS_EVENT_WIRE").is_some() {
        std::fs::write(golden_path(), &actual).unwrap();
    }
    let expected = std::fs::read_to_string(golden_path()).unwrap_or_default();
    assert!(
        actual == expected,
        "the events' JSON changed ({kind:?}); compare {} with:\n{actual}",
        golden_path().display()
    );
    app.stop().await;
}
