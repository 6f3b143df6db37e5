//! Notifications: stored for their user and pushed over the socket.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use super::{Client, WAIT};
use crate::helpers::spawn_app;

on_both_backends!(notifications_are_stored_and_pushed);

async fn notifications_are_stored_and_pushed(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, agent_user) = app.user_token("ana@example.com", "agent").await;
    let (watcher, _) = app.user_token("watcher@example.com", "agent").await;
    let (alice, _) = app.user_token("alice@example.com", "customer").await;
    let admin = app.admin_token().await;
    app.patch(
        "/api/auth/me",
        &watcher,
        json!({"notify_new_tickets": true}),
    )
    .await
    .expect(200);
    app.patch("/api/auth/me", &alice, json!({"notify_new_tickets": true}))
        .await
        .problem(403);

    let mut socket = Client::connect(&app, &agent, None).await;
    socket.next_of("ready", WAIT).await.unwrap();
    let ticket = app
        .post(
            "/api/tickets",
            Some(&alice),
            json!({"subject": "Help", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let id = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin),
        json!({"assignee_id": agent_user["id"]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&alice),
        json!({"body": "any news?"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&admin),
        json!({"body": "@ana please look", "internal": true}),
    )
    .await
    .expect(201);

    let mut pushed = Vec::new();
    while pushed.len() < 3 {
        let frame = socket
            .next_of("event", WAIT)
            .await
            .expect("notifications are pushed");
        if frame["event"]["kind"] == "notification_created" {
            pushed.push(frame["notification"]["kind"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(pushed, ["assigned", "customer_replied", "mentioned"]);

    let inbox = app
        .get("/api/notifications?unread=true", &agent)
        .await
        .expect(200)
        .body;
    let kinds: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["mentioned", "customer_replied", "assigned"],
        "newest first"
    );
    let first = inbox["items"][0]["id"].as_str().unwrap();
    app.call(
        Method::POST,
        &format!("/api/notifications/{first}/read"),
        Some(&agent),
        None,
    )
    .await
    .expect(204);
    app.call(
        Method::POST,
        &format!("/api/notifications/{first}/read"),
        Some(&watcher),
        None,
    )
    .await
    .problem(404);
    assert_eq!(
        app.get("/api/notifications?unread=true", &agent)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let marked = app
        .call(
            Method::POST,
            "/api/notifications/read-all",
            Some(&agent),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(marked["marked"], 2);
    assert!(
        app.get("/api/notifications?unread=true", &agent)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let watched = app
        .get("/api/notifications", &watcher)
        .await
        .expect(200)
        .body;
    assert_eq!(watched["items"][0]["kind"], "new_ticket");
    assert_eq!(watched["items"][0]["ticket_id"], ticket["id"]);
    let history = app
        .get(&format!("/api/tickets/{id}/events?limit=100"), &admin)
        .await
        .expect(200)
        .body;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] != "notification_created"),
        "notifications are personal"
    );
}
