//! The visitor socket: replies and typing reach the visitor live.

use std::time::Duration;

use futures_util::StreamExt as _;
use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::{SITE, public, visitor_ticket, widget};
use crate::helpers::spawn_app;

on_both_backends!(the_visitor_socket_delivers_replies_and_typing);

/// How long a test waits for something that must happen, before failing: long, so that a
/// loaded machine is never mistaken for a broken server.
const PATIENCE: Duration = Duration::from_secs(30);

async fn the_visitor_socket_delivers_replies_and_typing(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let opened = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("live@example.com")),
    )
    .await
    .expect(201)
    .body;
    let token = opened["visitor_token"].as_str().unwrap();
    let ticket = opened["ticket"]["id"].as_str().unwrap();

    let url = format!(
        "{}/widget/ws?key={key}&visitor_token={token}&last_event_id=0",
        app.base.replace("http://", "ws://")
    );
    let (mut visitor, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut frames = Vec::new();
    let mut next = async || -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, visitor.next())
                .await
                .expect("a frame")
                .unwrap()
                .unwrap();
            if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
                return serde_json::from_str(&text).unwrap();
            }
        }
    };
    loop {
        let frame = next().await;
        let ready = frame["type"] == "ready";
        frames.push(frame);
        if ready {
            break;
        }
    }
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "agents" && f["online"] == false)
    );
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "event" && f["message"]["body"] == "Hello from the site"),
        "the backlog"
    );

    let agent_url = format!(
        "{}/api/ws?access_token={agent}",
        app.base.replace("http://", "ws://")
    );
    let (mut staff, _) = tokio_tungstenite::connect_async(agent_url).await.unwrap();
    assert_eq!(next().await, json!({"type": "agents", "online": true}));
    app.post(
        &format!("/api/tickets/{ticket}/messages"),
        Some(&agent),
        json!({"body": "secret", "internal": true}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{ticket}/messages"),
        Some(&agent),
        json!({"body": "We're on it"}),
    )
    .await
    .expect(201);
    let reply = next().await;
    assert_eq!(
        reply["message"]["body"], "We're on it",
        "internal notes never reach visitors"
    );

    use futures_util::SinkExt as _;
    staff
        .send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "subscribe", "ticket_id": ticket})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let subscribe = json!({"type": "subscribe", "ticket_id": ticket}).to_string();
    visitor
        .send(tokio_tungstenite::tungstenite::Message::Text(
            subscribe.into(),
        ))
        .await
        .unwrap();
    // The server takes both subscriptions in its own time, and typing is not replayed to a
    // late subscriber: the agent keeps typing until the visitor sees it, within a long deadline.
    let typing = json!({"type": "typing", "ticket_id": ticket, "typing": true}).to_string();
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut saw_typing = false;
    while !saw_typing && std::time::Instant::now() < deadline {
        staff
            .send(tokio_tungstenite::tungstenite::Message::Text(
                typing.clone().into(),
            ))
            .await
            .unwrap();
        while let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(500), visitor.next()).await
        {
            if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "typing" {
                    saw_typing = frame["typing"] == true;
                    break;
                }
            }
        }
    }
    assert!(saw_typing, "the agent's typing reaches the visitor");
    drop(staff);
    let mut offline = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(PATIENCE, visitor.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame
            && serde_json::from_str::<Value>(&text).unwrap()
                == json!({"type": "agents", "online": false})
        {
            offline = true;
            break;
        }
    }
    assert!(offline, "the visitor hears the agent went offline");
}
