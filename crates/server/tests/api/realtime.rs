//! The realtime socket with real WebSocket clients: delivery, visibility and resume under churn
//! here; chat, typing and presence, notifications, the life of a connection (slow consumers,
//! revocation, the handshake, silence, shutdown, several instances), and many writers at once
//! in the modules below.

mod chat;
mod connections;
mod notifications;
mod writers;

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use growdesk_store::BackendKind;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

on_both_backends!(
    events_reach_staff_and_owners_only,
    a_reconnecting_client_gets_what_it_missed_exactly_once,
    fifty_clients_reconnecting_at_random_miss_nothing,
);

/// A test client for `/api/ws`.
struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Self {
        let mut url = format!(
            "{}/api/ws?access_token={token}",
            app.base.replace("http://", "ws://")
        );
        if let Some(last) = last_event_id {
            url.push_str(&format!("&last_event_id={last}"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Self { socket }
    }

    /// The next JSON frame, or `None` when none comes within `wait` or the socket closed.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.socket.next())
                .await
                .ok()??
            {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("JSON frames"));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next frame of `kind`, skipping others.
    async fn next_of(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let frame = self.next(left).await?;
            if frame["type"] == kind {
                return Some(frame);
            }
        }
    }

    /// Reads until the socket closes; the close code (`None` for a plain end).
    async fn closed(&mut self, wait: Duration) -> Option<Option<u16>> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.socket.next()).await.ok()? {
                None | Some(Err(_)) => return Some(None),
                Some(Ok(Message::Close(frame))) => return Some(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
            }
        }
    }

    async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("the frame is sent");
    }
}

/// How long a test waits for a frame that must come, before failing: long, so that a loaded
/// machine is never mistaken for a lost frame (waits for frames that must not come are short).
const WAIT: Duration = Duration::from_secs(30);

fn event_kinds(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f["event"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn events(client: &mut Client, count: usize) -> Vec<Value> {
    let mut frames = Vec::new();
    while frames.len() < count {
        frames.push(
            client
                .next_of("event", WAIT)
                .await
                .unwrap_or_else(|| panic!("only {} of {count} events arrived", frames.len())),
        );
    }
    frames
}

async fn events_reach_staff_and_owners_only(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (alice, _) = app.user_token("alice@example.com", "customer").await;
    let (bob, _) = app.user_token("bob@example.com", "customer").await;
    let mut staff = Client::connect(&app, &agent, None).await;
    let mut owner = Client::connect(&app, &alice, None).await;
    let mut other = Client::connect(&app, &bob, None).await;
    for client in [&mut staff, &mut owner, &mut other] {
        client.next_of("ready", WAIT).await.expect("ready");
    }

    let ticket = app
        .post(
            "/api/tickets",
            Some(&alice),
            json!({"subject": "Live", "description": "hello"}),
        )
        .await
        .expect(201)
        .body;
    let id = ticket["id"].as_str().unwrap();
    for client in [&mut staff, &mut owner] {
        let frames = events(client, 2).await;
        assert_eq!(event_kinds(&frames), ["created", "message_created"]);
        assert_eq!(
            frames[1]["message"]["body"], "hello",
            "message events carry the message"
        );
    }
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&agent),
        json!({"body": "secret", "internal": true}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&agent),
        json!({"body": "public reply"}),
    )
    .await
    .expect(201);
    let seen_by_staff = events(&mut staff, 2).await;
    assert_eq!(seen_by_staff[0]["message"]["body"], "secret");
    let seen_by_owner = events(&mut owner, 1).await;
    assert_eq!(
        seen_by_owner[0]["message"]["body"], "public reply",
        "customers never get internal notes"
    );

    // Bob sees nothing of Alice's ticket: his first event is his own ticket's.
    let own = app
        .post(
            "/api/tickets",
            Some(&bob),
            json!({"subject": "Mine", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let first = events(&mut other, 1).await;
    assert_eq!(first[0]["event"]["ticket_id"], own["id"]);
}

async fn a_reconnecting_client_gets_what_it_missed_exactly_once(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (alice, _) = app.user_token("alice@example.com", "customer").await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&alice),
            json!({"subject": "Resume", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap());

    let mut client = Client::connect(&app, &alice, Some(0)).await;
    let backlog = events(&mut client, 2).await;
    let ready = client.next_of("ready", WAIT).await.unwrap();
    let last = ready["last_event_id"].as_i64().unwrap();
    assert_eq!(last, backlog[1]["event"]["id"].as_i64().unwrap());
    drop(client);

    for i in 0..5 {
        app.post(&path, Some(&agent), json!({"body": format!("missed {i}")}))
            .await
            .expect(201);
    }
    let mut client = Client::connect(&app, &alice, Some(last)).await;
    let missed = events(&mut client, 5).await;
    let bodies: Vec<&str> = missed
        .iter()
        .map(|f| f["message"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["missed 0", "missed 1", "missed 2", "missed 3", "missed 4"]
    );
    client.next_of("ready", WAIT).await.unwrap();
    app.post(&path, Some(&agent), json!({"body": "live"}))
        .await
        .expect(201);
    let live = events(&mut client, 1).await;
    assert_eq!(live[0]["message"]["body"], "live");
    assert!(
        client
            .next_of("event", Duration::from_millis(300))
            .await
            .is_none(),
        "nothing twice"
    );
}

async fn fifty_clients_reconnecting_at_random_miss_nothing(kind: BackendKind) {
    const CLIENTS: usize = 50;
    const MESSAGES: usize = 5_000;
    let app = spawn_app_with(kind, |settings| {
        settings.ws_max_connections_per_user = 200;
        settings.db_max_connections = 10;
    })
    .await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&agent),
            json!({"subject": "Busy", "description": "start"}),
        )
        .await
        .expect(201)
        .body;
    let ticket_id = ticket["id"].as_str().unwrap().to_owned();
    let start = app
        .get(&format!("/api/tickets/{ticket_id}/events"), &agent)
        .await
        .expect(200)
        .body;
    let after = start["items"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();

    let app = std::sync::Arc::new(app);
    let readers: Vec<_> = (0..CLIENTS)
        .map(|seed| {
            let app = app.clone();
            let token = agent.clone();
            tokio::spawn(async move {
                let mut seen: Vec<i64> = Vec::new();
                let mut last = after;
                let mut rounds = 0u64;
                loop {
                    let mut client = Client::connect(&app, &token, Some(last)).await;
                    rounds += 1;
                    // Read a pseudo-random number of frames, then drop the connection.
                    let budget = 20 + (seed as u64 * 7919 + rounds * 104_729) % 400;
                    let mut read = 0;
                    while read < budget {
                        let Some(frame) = client.next(Duration::from_secs(10)).await else {
                            break;
                        };
                        if frame["type"] != "event" {
                            continue;
                        }
                        read += 1;
                        let id = frame["event"]["id"].as_i64().unwrap();
                        seen.push(id);
                        last = id;
                        if frame["message"]["body"] == format!("message {}", MESSAGES - 1) {
                            return seen;
                        }
                    }
                }
            })
        })
        .collect();

    let posters: Vec<_> = (0..4)
        .map(|poster| {
            let app = app.clone();
            let token = agent.clone();
            let path = format!("/api/tickets/{ticket_id}/messages");
            tokio::spawn(async move {
                for i in (poster..MESSAGES - 1).step_by(4) {
                    app.post(&path, Some(&token), json!({"body": format!("message {i}")}))
                        .await
                        .expect(201);
                }
            })
        })
        .collect();
    for poster in posters {
        poster.await.unwrap();
    }
    app.post(
        &format!("/api/tickets/{ticket_id}/messages"),
        Some(&agent),
        json!({"body": format!("message {}", MESSAGES - 1)}),
    )
    .await
    .expect(201);

    let mut history = Vec::new();
    let mut path = format!("/api/tickets/{ticket_id}/events?limit=100&cursor=");
    let mut cursor = base64_cursor(after);
    loop {
        let page = app
            .get(&format!("{path}{cursor}"), &agent)
            .await
            .expect(200)
            .body;
        history.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    path.clear();
    assert_eq!(history.len(), MESSAGES);
    for reader in readers {
        let seen = tokio::time::timeout(Duration::from_secs(120), reader)
            .await
            .expect("every client finishes")
            .unwrap();
        assert_eq!(
            seen, history,
            "a client's events equal the server's history: no gap, no duplicate, in order"
        );
    }
}

fn base64_cursor(id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}
