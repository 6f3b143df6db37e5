//! Each message says the channel it came by, and staff see what became of the mail a message
//! caused, on the message and in the ticket's deliveries; customers see neither.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::{mail_side, mailbox, plain_mail};
use crate::helpers::{TestApp, spawn_app};
use crate::widgets::{SITE, public, visitor_ticket, widget};

on_both_backends!(
    messages_carry_their_channel,
    staff_see_deliveries_and_customers_do_not,
    deliveries_are_paged,
);

const CUSTOMER: &str = "cy@example.com";

async fn messages_of(app: &TestApp, ticket: &str, token: &str) -> Vec<Value> {
    app.get(&format!("/api/tickets/{ticket}/messages?limit=100"), token)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The one ticket whose subject is `subject`, as the admin finds it.
async fn ticket_titled(app: &TestApp, admin: &str, subject: &str) -> Value {
    let tickets = app
        .get("/api/tickets?limit=100", admin)
        .await
        .expect(200)
        .body;
    let found: Vec<&Value> = tickets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|ticket| ticket["subject"] == subject)
        .collect();
    assert_eq!(found.len(), 1, "{tickets}");
    found[0].clone()
}

async fn messages_carry_their_channel(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (customer, _) = app.user_token(CUSTOMER, "customer").await;

    let posted = app
        .post(
            "/api/tickets",
            Some(&customer),
            json!({"subject": "By the API", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let by_api = posted["id"].as_str().unwrap();
    let reply = app
        .post(
            &format!("/api/tickets/{by_api}/messages"),
            Some(&customer),
            json!({"body": "more"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(reply["channel"], "web");
    for message in messages_of(&app, by_api, &admin).await {
        assert_eq!(message["channel"], "web", "{message}");
    }

    let site = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = site["key"].as_str().unwrap();
    let opened = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("vera@example.com")),
    )
    .await
    .expect(201)
    .body;
    let by_widget = opened["ticket"]["id"].as_str().unwrap();
    let from_visitor = &messages_of(&app, by_widget, &admin).await[0];
    assert_eq!(from_visitor["channel"], "widget");

    let support = mailbox(&app, &admin, "support@example.test").await;
    let mail = mail_side(&app).await;
    mail.receive(
        &support["id"],
        plain_mail(CUSTOMER, "support@example.test", "By mail", "Hello by mail"),
    )
    .await;
    let by_mail = ticket_titled(&app, &admin, "By mail").await;
    assert_eq!(by_mail["source"], "email");
    let first = &messages_of(&app, by_mail["id"].as_str().unwrap(), &admin).await[0];
    assert_eq!(first["channel"], "email");
    assert!(first["body"].as_str().unwrap().contains("Hello by mail"));
    // The customer's own view says the same.
    let theirs = &messages_of(&app, by_mail["id"].as_str().unwrap(), &customer).await[0];
    assert_eq!(theirs["channel"], "email");
}

async fn staff_see_deliveries_and_customers_do_not(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (customer, _) = app.user_token(CUSTOMER, "customer").await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let support = mailbox(&app, &admin, "support@example.test").await;
    let mail = mail_side(&app).await;
    mail.receive(
        &support["id"],
        plain_mail(
            CUSTOMER,
            "support@example.test",
            "Refund",
            "Where is my refund?",
        ),
    )
    .await;
    let ticket = ticket_titled(&app, &admin, "Refund").await;
    let id = ticket["id"].as_str().unwrap();
    let deliveries = format!("/api/tickets/{id}/deliveries");

    // The mailbox acknowledges new tickets: that mail is the ticket's first delivery.
    let listed = app.get(&deliveries, &agent).await.expect(200).body;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["kind"], "acknowledgement");
    assert_eq!(items[0]["recipient"], CUSTOMER);
    assert_eq!(items[0]["status"], "queued");

    let reply = app
        .post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({"body": "It is on its way."}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(reply["channel"], "web");
    let delivery = &reply["delivery"];
    assert_eq!(delivery["kind"], "reply", "{reply}");
    assert_eq!(delivery["recipient"], CUSTOMER);
    assert_eq!(delivery["status"], "queued");
    assert_eq!(delivery["attempts"], 0);
    assert_eq!(delivery["sent_at"], Value::Null);
    let note = app
        .post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({"body": "Checked with the bank.", "internal": true}),
        )
        .await
        .expect(201)
        .body;
    assert!(note.get("delivery").is_none(), "a note is never mailed");

    let staff_view = messages_of(&app, id, &admin).await;
    let mailed = staff_view
        .iter()
        .find(|message| message["id"] == reply["id"])
        .unwrap();
    assert_eq!(mailed["delivery"], *delivery);
    let listed = app.get(&deliveries, &admin).await.expect(200).body;
    let kinds: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["kind"])
        .collect();
    assert_eq!(
        kinds,
        [&json!("reply"), &json!("acknowledgement")],
        "newest first"
    );
    assert_eq!(listed["items"][0]["mail_id"], delivery["mail_id"]);

    // The customer reads the same reply without its delivery, and not the ticket's mail log.
    let customer_view = messages_of(&app, id, &customer).await;
    let seen = customer_view
        .iter()
        .find(|message| message["id"] == reply["id"])
        .unwrap();
    assert!(seen.get("delivery").is_none(), "{seen}");
    assert_eq!(seen["body"], reply["body"]);
    for message in &customer_view {
        assert!(message.get("delivery").is_none(), "{message}");
    }
    app.get(&deliveries, &customer).await.problem(403);
    let (stranger, _) = app.user_token("other@example.com", "customer").await;
    app.get(&deliveries, &stranger).await.problem(404);
    app.get(
        &format!("/api/tickets/{}/deliveries", uuid::Uuid::now_v7()),
        &agent,
    )
    .await
    .problem(404);
}

async fn deliveries_are_paged(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let support = mailbox(&app, &admin, "support@example.test").await;
    mail_side(&app)
        .await
        .receive(
            &support["id"],
            plain_mail(CUSTOMER, "support@example.test", "Paged", "Hello."),
        )
        .await;
    let id = ticket_titled(&app, &admin, "Paged").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..4 {
        app.post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({"body": format!("Answer {n}.")}),
        )
        .await
        .expect(201);
    }
    let deliveries = format!("/api/tickets/{id}/deliveries");
    let whole = app
        .get(&format!("{deliveries}?limit=100"), &agent)
        .await
        .expect(200)
        .body;
    assert_eq!(whole["next_cursor"], Value::Null);
    let whole = whole["items"].as_array().unwrap().clone();
    assert_eq!(whole.len(), 5, "the acknowledgement and four replies");

    // Two at a time, following `next_cursor`: the same mails in the same order, each once.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{deliveries}?limit=2&cursor={cursor}"),
            None => format!("{deliveries}?limit=2"),
        };
        let page = app.get(&url, &agent).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        paged.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(paged.len() < whole.len() + 2, "the pages end");
    }
    assert_eq!(paged, whole);

    app.get(&format!("{deliveries}?cursor=garbage"), &agent)
        .await
        .problem(422);
    app.get(&format!("{deliveries}?limit=0"), &agent)
        .await
        .problem(422);
}
