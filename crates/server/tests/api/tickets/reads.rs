//! Read marks: each agent's own. A ticket is unread for an agent while its latest public message
//! is the customer's or another agent's and came after the agent marked it read; their own
//! reply reads it, notes and field changes leave it as it was. Customers neither see nor set
//! marks.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::{id_of, open};
use crate::helpers::{TestApp, spawn_app};

on_both_backends!(
    a_ticket_is_unread_until_each_agent_reads_it,
    only_staff_mark_tickets_read,
);

/// Whether the ticket is unread for `token`, on `GET` and in the list, which must agree.
async fn unread(app: &TestApp, token: &str, ticket: &str) -> bool {
    let one = app
        .get(&format!("/api/tickets/{ticket}"), token)
        .await
        .expect(200)
        .body;
    let page = app
        .get("/api/tickets?limit=100", token)
        .await
        .expect(200)
        .body;
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == ticket)
        .expect("the ticket is listed");
    assert_eq!(one["unread"], listed["unread"], "GET and the list agree");
    one["unread"]
        .as_bool()
        .expect("unread is a boolean for staff")
}

async fn mark_read(app: &TestApp, token: &str, ticket: &str) {
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/tickets/{ticket}/read"),
            Some(token),
            None,
        )
        .await
        .expect(204);
    assert_eq!(reply.body, Value::Null, "no body");
}

async fn write(app: &TestApp, token: &str, ticket: &str, body: &str, internal: bool) {
    app.post(
        &format!("/api/tickets/{ticket}/messages"),
        Some(token),
        json!({"body": body, "internal": internal}),
    )
    .await
    .expect(201);
}

async fn a_ticket_is_unread_until_each_agent_reads_it(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (ana, _) = app.user_token("ana@example.com", "agent").await;
    let (leo, leo_user) = app.user_token("leo@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let ticket = id_of(
        &open(
            &app,
            &customer,
            json!({"subject": "Order late", "description": "Where is it?"}),
        )
        .await,
    );
    // A new ticket is unread for every agent: its description is the customer's message.
    assert!(unread(&app, &ana, &ticket).await);
    assert!(unread(&app, &leo, &ticket).await);

    mark_read(&app, &ana, &ticket).await;
    assert!(!unread(&app, &ana, &ticket).await, "Ana read it");
    assert!(unread(&app, &leo, &ticket).await, "marks are per agent");
    mark_read(&app, &ana, &ticket).await;
    assert!(
        !unread(&app, &ana, &ticket).await,
        "marking again changes nothing"
    );

    // Ana's own reply, her note and a change of fields leave it read for her.
    write(&app, &ana, &ticket, "On it.", false).await;
    write(&app, &ana, &ticket, "Courier asked.", true).await;
    app.post(
        &format!("/api/tickets/{ticket}/assign"),
        Some(&ana),
        json!({"assignee_id": leo_user["id"]}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/tickets/{ticket}"),
        &ana,
        json!({"priority": "high", "status": "pending"}),
    )
    .await
    .expect(200);
    assert!(!unread(&app, &ana, &ticket).await, "nothing new by others");

    // Leo reads it; Ana's next note leaves it read for him, her public reply does not.
    mark_read(&app, &leo, &ticket).await;
    write(&app, &ana, &ticket, "Refund if not there by Friday.", true).await;
    assert!(!unread(&app, &leo, &ticket).await, "a note is not news");
    write(&app, &ana, &ticket, "It ships today.", false).await;
    assert!(unread(&app, &leo, &ticket).await, "another agent's reply");
    assert!(!unread(&app, &ana, &ticket).await);

    // The customer writes: unread for both until each opens it again.
    mark_read(&app, &leo, &ticket).await;
    write(&app, &customer, &ticket, "Thanks!", false).await;
    assert!(unread(&app, &ana, &ticket).await);
    assert!(unread(&app, &leo, &ticket).await);
    mark_read(&app, &leo, &ticket).await;
    assert!(!unread(&app, &leo, &ticket).await);
    assert!(unread(&app, &ana, &ticket).await);

    // Ana answers the customer without opening the ticket again: her reply reads it for her,
    // and is news for Leo.
    write(&app, &ana, &ticket, "You are welcome.", false).await;
    assert!(
        !unread(&app, &ana, &ticket).await,
        "her own reply answers it"
    );
    assert!(unread(&app, &leo, &ticket).await, "another agent's reply");
}

async fn only_staff_mark_tickets_read(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("ana@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let (other, _) = app.user_token("bo@example.com", "customer").await;
    let ticket = id_of(
        &open(
            &app,
            &customer,
            json!({"subject": "Mine", "description": "d"}),
        )
        .await,
    );
    let read = |token: String, ticket: String| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                &format!("/api/tickets/{ticket}/read"),
                Some(&token),
                None,
            )
            .await
        }
    };
    read(customer.clone(), ticket.clone()).await.problem(403);
    read(other.clone(), ticket.clone()).await.problem(404);
    read(agent.clone(), uuid::Uuid::now_v7().to_string())
        .await
        .problem(404);
    read(agent.clone(), "not-an-id".to_owned())
        .await
        .problem(404);

    // Customers never see the field, on their ticket or in their list.
    let own = app
        .get(&format!("/api/tickets/{ticket}"), &customer)
        .await
        .expect(200)
        .body;
    assert!(own.get("unread").is_none(), "{own}");
    let list = app.get("/api/tickets", &customer).await.expect(200).body;
    assert!(list["items"][0].get("unread").is_none(), "{list}");

    // A ticket someone has read can still be deleted: its marks go with it.
    let admin = app.admin_token().await;
    read(agent.clone(), ticket.clone()).await.expect(204);
    app.delete(&format!("/api/tickets/{ticket}"), &admin)
        .await
        .expect(204);
    read(agent, ticket).await.problem(404);
}
