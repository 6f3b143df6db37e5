//! Visitors through the public widget API: they open and continue conversations, see only
//! their own, and many of them at once get distinct tickets.

use std::time::Duration;

use growdesk_store::BackendKind;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{SITE, public, ticket_count, visitor_ticket, widget};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

on_both_backends!(
    visitors_open_and_continue_conversations,
    visitors_see_only_their_own,
    many_widget_tickets_at_once_are_all_distinct,
);

async fn visitors_open_and_continue_conversations(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE], "default_priority": "high"}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    app.post(
        "/api/faqs",
        Some(&agent),
        json!({"question": "¿Cuánto tarda el envío?", "answer": "Tres días.", "published": true}),
    )
    .await
    .expect(201);
    app.post(
        "/api/faqs",
        Some(&agent),
        json!({"question": "Draft about envio", "answer": "secret draft"}),
    )
    .await
    .expect(201);

    let before = ticket_count(&app, &admin).await;
    let config = public(&app, Method::GET, "/widget/config", key, None, None)
        .await
        .expect(200);
    assert_eq!(config.headers["access-control-allow-origin"], SITE);
    assert_eq!(config.body["settings"]["brand_name"], "Support");
    assert_eq!(
        config.body["text_color"], "#ffffff",
        "white on the default blue"
    );
    assert_eq!(config.body["agents_online"], false);
    let faqs = public(&app, Method::GET, "/widget/faqs?q=envio", key, None, None)
        .await
        .expect(200)
        .body;
    let questions: Vec<&str> = faqs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["question"].as_str().unwrap())
        .collect();
    assert_eq!(
        questions,
        ["¿Cuánto tarda el envío?"],
        "published only, accents ignored"
    );
    assert_eq!(
        ticket_count(&app, &admin).await,
        before,
        "loading the widget writes nothing"
    );

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
    let token = opened["visitor_token"].as_str().unwrap().to_owned();
    let ticket = &opened["ticket"];
    assert_eq!(
        (
            ticket["source"].as_str(),
            ticket["priority"].as_str(),
            ticket["subject"].as_str()
        ),
        (Some("widget"), Some("high"), Some("Chat with Vera Visitor"))
    );
    let id = ticket["id"].as_str().unwrap();

    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&agent),
        json!({"body": "Hi Vera!"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&agent),
        json!({"body": "internal only", "internal": true}),
    )
    .await
    .expect(201);
    public(
        &app,
        Method::POST,
        &format!("/widget/tickets/{id}/messages"),
        key,
        Some(&token),
        Some(json!({"body": "Thanks!"})),
    )
    .await
    .expect(201);
    let messages = public(
        &app,
        Method::GET,
        &format!("/widget/tickets/{id}/messages"),
        key,
        Some(&token),
        None,
    )
    .await
    .expect(200)
    .body;
    let bodies: Vec<&str> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Hello from the site", "Hi Vera!", "Thanks!"]);
    let mine = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(&token),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(mine["items"][0]["id"], ticket["id"]);

    let again = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        Some(&token),
        Some(visitor_ticket("vera@example.com")),
    )
    .await
    .expect(201)
    .body;
    let newer = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(again["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        newer["items"].as_array().unwrap().len(),
        2,
        "the same visitor's conversations"
    );
    let bad = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(json!({"name": "", "email": "nope", "message": " "})),
    )
    .await
    .problem(422);
    assert_eq!(bad["errors"].as_array().unwrap().len(), 3);
}

async fn visitors_see_only_their_own(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let first = widget(
        &app,
        &admin,
        json!({"name": "One", "allowed_origins": [SITE]}),
    )
    .await;
    let second = widget(
        &app,
        &admin,
        json!({"name": "Two", "allowed_origins": [SITE]}),
    )
    .await;
    let key = first["key"].as_str().unwrap();
    let a = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("a@example.com")),
    )
    .await
    .expect(201)
    .body;
    let b = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("b@example.com")),
    )
    .await
    .expect(201)
    .body;
    let (a_token, b_token) = (
        a["visitor_token"].as_str().unwrap(),
        b["visitor_token"].as_str().unwrap(),
    );
    let a_ticket = a["ticket"]["id"].as_str().unwrap();

    public(
        &app,
        Method::GET,
        &format!("/widget/tickets/{a_ticket}/messages"),
        key,
        Some(b_token),
        None,
    )
    .await
    .problem(404);
    public(
        &app,
        Method::POST,
        &format!("/widget/tickets/{a_ticket}/messages"),
        key,
        Some(b_token),
        Some(json!({"body": "let me in"})),
    )
    .await
    .problem(404);
    let b_list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(b_token),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(b_list["items"].as_array().unwrap().len(), 1);
    // A visitor token is worthless on the staff API and on another widget.
    app.get("/api/tickets", a_token).await.problem(401);
    app.get(&format!("/api/tickets/{a_ticket}"), a_token)
        .await
        .problem(401);
    public(
        &app,
        Method::GET,
        "/widget/tickets",
        second["key"].as_str().unwrap(),
        Some(a_token),
        None,
    )
    .await
    .problem(401);
    // An email typed into the widget proves nothing: the same email from another visitor sees nothing of A's.
    let copycat = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("a@example.com")),
    )
    .await
    .expect(201)
    .body;
    let copycat_list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(copycat["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(copycat_list["items"].as_array().unwrap().len(), 1);
    let staff_token = app.admin_token().await;
    public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(&staff_token),
        None,
    )
    .await
    .problem(401);
}

async fn many_widget_tickets_at_once_are_all_distinct(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.widget_requests_per_ip_per_minute = 1_000;
        settings.widget_requests_per_widget_per_minute = 1_000;
        settings.db_max_connections = 10;
    })
    .await;
    let admin = app.admin_token().await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Busy", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    // Like the widget, each visitor sends an Idempotency-Key and retries a 503 (a busy machine
    // can keep some of 500 requests waiting past the database deadline): every ticket is still
    // created exactly once.
    let requests = (0..500).map(|i| {
        let app = &app;
        async move {
            let request = || {
                app.client
                    .post(app.url("/widget/tickets"))
                    .header("x-widget-key", key)
                    .header("origin", SITE)
                    .header("idempotency-key", format!("busy-{i}"))
                    .json(&visitor_ticket(&format!("v{i}@example.com")))
            };
            for _ in 0..50 {
                let reply = TestApp::reply(request().send().await.unwrap()).await;
                if reply.status != StatusCode::SERVICE_UNAVAILABLE {
                    return reply;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("the widget stayed unavailable through 50 retries");
        }
    });
    let replies = futures_util::future::join_all(requests).await;
    let mut ids: Vec<String> = replies
        .into_iter()
        .map(|reply| {
            reply.expect(201).body["ticket"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 500);
    let mut numbers = Vec::new();
    let mut path = "/api/tickets?limit=100&sort=number&order=asc".to_owned();
    loop {
        let page = app.get(&path, &admin).await.expect(200).body;
        numbers.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["number"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/tickets?limit=100&sort=number&order=asc&cursor={cursor}")
            }
            None => break,
        }
    }
    // A PostgreSQL sequence may skip the number of a transaction a 503 rolled back; numbers
    // never repeat.
    assert_eq!(numbers.len(), 500, "500 tickets listed");
    assert!(
        numbers.windows(2).all(|pair| pair[0] < pair[1]),
        "ticket numbers are distinct: {numbers:?}"
    );
}
