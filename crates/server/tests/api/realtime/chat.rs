//! Chat over the socket: messages, typing and presence.

use growdesk_store::BackendKind;
use serde_json::json;

use super::{Client, WAIT};
use crate::helpers::spawn_app;

on_both_backends!(chat_typing_and_presence_work_over_the_socket);

async fn chat_typing_and_presence_work_over_the_socket(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let (alice, _) = app.user_token("alice@example.com", "customer").await;
    let (bob, _) = app.user_token("bob@example.com", "customer").await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&alice),
            json!({"subject": "Chat", "description": "hi"}),
        )
        .await
        .expect(201)
        .body;
    let id = ticket["id"].clone();

    let mut staff = Client::connect(&app, &agent, None).await;
    staff.next_of("ready", WAIT).await.unwrap();
    staff
        .send(json!({"type": "subscribe", "ticket_id": id}))
        .await;
    let presence = staff.next_of("presence", WAIT).await.unwrap();
    assert_eq!(presence["viewers"][0]["id"], agent_user["id"]);

    let mut customer = Client::connect(&app, &alice, None).await;
    customer.next_of("ready", WAIT).await.unwrap();
    customer
        .send(json!({"type": "subscribe", "ticket_id": id}))
        .await;
    let presence = customer.next_of("presence", WAIT).await.unwrap();
    assert_eq!(
        presence["viewers"].as_array().unwrap().len(),
        1,
        "the customer sees the agent viewing"
    );

    customer
        .send(json!({"type": "typing", "ticket_id": id, "typing": true}))
        .await;
    let typing = staff.next_of("typing", WAIT).await.unwrap();
    assert_eq!(
        (typing["typing"].as_bool(), typing["ticket_id"].clone()),
        (Some(true), id.clone())
    );

    customer
        .send(json!({"type": "message", "ref": "r-1", "ticket_id": id, "body": "over the socket"}))
        .await;
    let ack = customer.next_of("ack", WAIT).await.unwrap();
    assert_eq!(
        (ack["ref"].as_str(), ack["message"]["body"].as_str()),
        (Some("r-1"), Some("over the socket"))
    );
    let delivered = staff.next_of("event", WAIT).await.unwrap();
    assert_eq!(delivered["message"]["id"], ack["message"]["id"]);
    customer
        .send(json!({"type": "message", "ref": "r-1", "ticket_id": id, "body": "over the socket"}))
        .await;
    let again = customer.next_of("ack", WAIT).await.unwrap();
    assert_eq!(
        again["message"]["id"], ack["message"]["id"],
        "a resent ref posts nothing new"
    );

    customer.send(json!({"type": "message", "ref": "r-2", "ticket_id": id, "body": "psst", "internal": true})).await;
    let refused = customer.next_of("error", WAIT).await.unwrap();
    assert_eq!(
        (refused["ref"].as_str(), refused["code"].as_str()),
        (Some("r-2"), Some("forbidden"))
    );
    customer.send(json!({"type": "launch"})).await;
    assert_eq!(
        customer.next_of("error", WAIT).await.unwrap()["code"],
        "bad-request"
    );

    let mut stranger = Client::connect(&app, &bob, None).await;
    stranger.next_of("ready", WAIT).await.unwrap();
    stranger
        .send(json!({"type": "subscribe", "ticket_id": id}))
        .await;
    assert_eq!(
        stranger.next_of("error", WAIT).await.unwrap()["code"],
        "not-found"
    );
    stranger
        .send(json!({"type": "message", "ref": "x", "ticket_id": id, "body": "let me in"}))
        .await;
    assert_eq!(
        stranger.next_of("error", WAIT).await.unwrap()["code"],
        "not-found"
    );

    drop(staff);
    let presence = customer.next_of("presence", WAIT).await.unwrap();
    assert!(
        presence["viewers"].as_array().unwrap().is_empty(),
        "the agent left"
    );
    let messages = app
        .get(
            &format!("/api/tickets/{}/messages", id.as_str().unwrap()),
            &alice,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(messages["items"].as_array().unwrap().len(), 2);
}
