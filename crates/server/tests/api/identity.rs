//! Who a widget visitor may claim to be: staff addresses are refused, a visitor reads and
//! writes with a customer's rights only and loses them with the account, and a retried first
//! message opens one conversation.

use std::time::Duration;

use futures_util::StreamExt as _;
use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::widgets::{SITE, identity_hash, public, ticket_count, visitor_ticket, widget};

on_both_backends!(
    staff_emails_are_refused_by_the_widget,
    visitors_read_and_answer_as_customers_whatever_the_requesters_role,
    a_deactivated_accounts_visitor_token_stops_working,
    a_retried_first_message_opens_one_conversation,
);

/// Rows of `table`, straight from the database (visitors are not listed by the API).
pub(crate) async fn rows(app: &TestApp, kind: BackendKind, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            count
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    }
}

/// Everything opening a conversation could create.
async fn created_rows(app: &TestApp, kind: BackendKind) -> [i64; 4] {
    [
        rows(app, kind, "tickets").await,
        rows(app, kind, "visitors").await,
        rows(app, kind, "users").await,
        rows(app, kind, "messages").await,
    ]
}

pub(crate) async fn open_chat(app: &TestApp, key: &str, email: &str) -> Value {
    public(
        app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket(email)),
    )
    .await
    .expect(201)
    .body
}

pub(crate) fn ids(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect()
}

async fn staff_emails_are_refused_by_the_widget(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    app.user_token("agent@example.com", "agent").await;
    let secret = "site-identity-secret-0123";
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE], "identity_secret": secret}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let returning = open_chat(&app, key, "vera@example.com").await;
    let returning_token = returning["visitor_token"].as_str().unwrap();
    let before = created_rows(&app, kind).await;

    for (email, token, proven) in [
        ("admin@example.com", None, false),
        ("ADMIN@Example.com", None, false),
        ("Agent@EXAMPLE.com", None, false),
        ("\u{ff41}gent@example.com", None, false),
        ("agent@example.com", None, true),
        ("agent@example.com", Some(returning_token), false),
    ] {
        let mut body = visitor_ticket(email);
        if proven {
            body["identity_hash"] = json!(identity_hash(secret, email));
        }
        let refused = public(
            &app,
            Method::POST,
            "/widget/tickets",
            key,
            token,
            Some(body),
        )
        .await
        .problem(422);
        assert_eq!(refused["errors"][0]["field"], "email", "{email}");
    }
    assert_eq!(
        created_rows(&app, kind).await,
        before,
        "a refused staff address leaves no ticket, visitor, account or message"
    );
}

async fn visitors_read_and_answer_as_customers_whatever_the_requesters_role(kind: BackendKind) {
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
    let opened = open_chat(&app, key, "vera@example.com").await;
    let token = opened["visitor_token"].as_str().unwrap();
    let ticket = opened["ticket"]["id"].as_str().unwrap();
    let requester = opened["ticket"]["requester"]["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{ticket}/messages"),
        Some(&agent),
        json!({"body": "staff-only note", "internal": true}),
    )
    .await
    .expect(201);
    // The account the conversation was filed under becomes staff after it began.
    app.patch(
        &format!("/api/users/{requester}"),
        &admin,
        json!({"role": "agent"}),
    )
    .await
    .expect(200);

    let messages = public(
        &app,
        Method::GET,
        &format!("/widget/tickets/{ticket}/messages"),
        key,
        Some(token),
        None,
    )
    .await
    .expect(200)
    .body;
    assert!(
        messages["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|message| message["internal"] == false),
        "a visitor read an internal note: {messages}"
    );
    public(
        &app,
        Method::POST,
        &format!("/widget/tickets/{ticket}/messages"),
        key,
        Some(token),
        Some(json!({"body": "Any news?"})),
    )
    .await
    .expect(201);
    let stored = app
        .get(&format!("/api/tickets/{ticket}"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(
        stored["first_response_at"],
        Value::Null,
        "a visitor's message is no staff response"
    );

    let url = format!(
        "{}/widget/ws?key={key}&visitor_token={token}&last_event_id=0",
        app.base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            assert!(
                !text.contains("staff-only note"),
                "the visitor socket replayed an internal note: {text}"
            );
            if serde_json::from_str::<Value>(&text).unwrap()["type"] == "ready" {
                break;
            }
        }
    }
}

async fn a_deactivated_accounts_visitor_token_stops_working(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let secret = "site-identity-secret-0123";
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE], "identity_secret": secret}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let (_, known) = app.user_token("known@example.com", "customer").await;
    let opened = open_chat(&app, key, "leaving@example.com").await;
    let token = opened["visitor_token"].as_str().unwrap();
    let ticket = opened["ticket"]["id"].as_str().unwrap();
    let requester = opened["ticket"]["requester"]["id"].as_str().unwrap();
    // A visitor filed under one customer who proved another's identity.
    let mut proving = visitor_ticket("known@example.com");
    proving["identity_hash"] = json!(identity_hash(secret, "known@example.com"));
    let proven = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        Some(token),
        Some(proving),
    )
    .await
    .expect(201)
    .body;
    let proven_token = proven["visitor_token"].as_str().unwrap();
    public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(proven_token),
        None,
    )
    .await
    .expect(200);

    app.delete(
        &format!("/api/users/{}", known["id"].as_str().unwrap()),
        &admin,
    )
    .await
    .expect(200);
    public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(proven_token),
        None,
    )
    .await
    .problem(401);
    public(&app, Method::GET, "/widget/tickets", key, Some(token), None)
        .await
        .expect(200);

    let url = format!(
        "{}/widget/ws?key={key}&visitor_token={token}",
        app.base.replace("http://", "ws://")
    );
    let (mut open_socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    app.delete(&format!("/api/users/{requester}"), &admin)
        .await
        .expect(200);
    // The socket opened before closes: the deadline only guards against a hang.
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(frame)) = open_socket.next().await {
            if frame.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "an open visitor socket outlived the account"
    );
    for (method, path, body) in [
        (Method::GET, "/widget/tickets".to_owned(), None),
        (
            Method::GET,
            format!("/widget/tickets/{ticket}/messages"),
            None,
        ),
        (
            Method::POST,
            format!("/widget/tickets/{ticket}/messages"),
            Some(json!({"body": "still here?"})),
        ),
        (
            Method::POST,
            "/widget/tickets".to_owned(),
            Some(visitor_ticket("someone-else@example.com")),
        ),
    ] {
        public(&app, method, &path, key, Some(token), body)
            .await
            .problem(401);
    }
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!(
            "a deactivated account's visitor opened a socket: {:?}",
            other.map(|_| ())
        ),
    }
}

async fn a_retried_first_message_opens_one_conversation(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let first_message = |idempotency_key: &'static str, message: &'static str| {
        let mut body = visitor_ticket("retry@example.com");
        body["message"] = json!(message);
        app.client
            .post(app.url("/widget/tickets"))
            .header("x-widget-key", key)
            .header("origin", SITE)
            .header("idempotency-key", idempotency_key)
            .json(&body)
            .send()
    };
    let first = TestApp::reply(first_message("first-try", "Hello").await.unwrap())
        .await
        .expect(201)
        .body;
    let after_first = created_rows(&app, kind).await;
    // The answer was lost: the widget retries without a visitor token, twice at once.
    let (second, third) = tokio::join!(
        first_message("first-try", "Hello"),
        first_message("first-try", "Hello")
    );
    for retry in [second, third] {
        let retry = TestApp::reply(retry.unwrap()).await.expect(201).body;
        assert_eq!(retry["ticket"]["id"], first["ticket"]["id"]);
        let mine = public(
            &app,
            Method::GET,
            "/widget/tickets",
            key,
            Some(retry["visitor_token"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200)
        .body;
        assert_eq!(
            ids(&mine),
            [first["ticket"]["id"].as_str().unwrap()],
            "the retry's token is the first visitor's"
        );
    }
    assert_eq!(
        created_rows(&app, kind).await,
        after_first,
        "a retry creates no second ticket or visitor"
    );
    TestApp::reply(first_message("first-try", "Something else").await.unwrap())
        .await
        .problem(422);
    assert_eq!(created_rows(&app, kind).await, after_first);
    assert_eq!(ticket_count(&app, &admin).await, 1);

    // A key that is no key is refused before the new address becomes an account.
    let bad_key = app
        .client
        .post(app.url("/widget/tickets"))
        .header("x-widget-key", key)
        .header("origin", SITE)
        .header("idempotency-key", "with spaces")
        .json(&visitor_ticket("newcomer@example.com"))
        .send()
        .await
        .unwrap();
    let refused = TestApp::reply(bad_key).await.problem(422);
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(created_rows(&app, kind).await, after_first);
}
