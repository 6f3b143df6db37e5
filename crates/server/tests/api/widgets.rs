//! The chat widget: the admin's registry, the public visitor API and socket, and the rules
//! that keep visitors to their own conversations.

use std::time::Duration;

use futures_util::StreamExt as _;
use growdesk_store::BackendKind;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// How long a test waits for something that must happen, before failing: long, so that a
/// loaded machine is never mistaken for a broken server.
const PATIENCE: Duration = Duration::from_secs(30);

on_both_backends!(
    admins_register_widgets,
    visitors_open_and_continue_conversations,
    visitors_see_only_their_own,
    origins_are_checked,
    identity_hashes_grant_history_and_enforce_mode_refuses,
    many_widget_tickets_at_once_are_all_distinct,
    widget_requests_are_rate_limited,
    the_visitor_socket_delivers_replies_and_typing,
);

pub(crate) const SITE: &str = "https://shop.example.com";

pub(crate) async fn widget(app: &TestApp, admin: &str, body: Value) -> Value {
    app.post("/api/widgets", Some(admin), body)
        .await
        .expect(201)
        .body
}

/// A request to the public widget API.
pub(crate) async fn public(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> crate::helpers::Reply {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-widget-key", key)
        .header("origin", SITE);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

pub(crate) fn visitor_ticket(email: &str) -> Value {
    json!({"name": "Vera Visitor", "email": email, "message": "Hello from the site", "page_url": "https://shop.example.com/cart"})
}

pub(crate) async fn ticket_count(app: &TestApp, admin: &str) -> usize {
    app.get("/api/tickets?limit=100", admin)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn admins_register_widgets(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let created = widget(&app, &admin, json!({"name": "Shop", "allowed_origins": ["https://Shop.Example.com/"], "settings": {"brand_name": "Shop help", "color": "#FF0000", "welcome_message": "Hi", "position": "left", "offline_message": "Away"}})).await;
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("wk_"));
    assert_eq!(created["allowed_origins"], json!([SITE]));
    assert!(
        created["embed_snippet"]
            .as_str()
            .unwrap()
            .contains(&format!("data-key=\"{key}\""))
    );
    assert!(
        created["embed_snippet"]
            .as_str()
            .unwrap()
            .contains("/widget.js")
    );

    for bad in [
        json!({"name": "x", "allowed_origins": ["https://*.example.com"]}),
        json!({"name": "x", "allowed_origins": ["shop.example.com"]}),
        json!({"name": "x", "enforce_identity": true}),
        json!({"name": "x", "identity_secret": "short"}),
        json!({"name": "x", "settings": {"color": "red"}}),
        json!({"allowed_origins": [SITE]}),
    ] {
        app.post("/api/widgets", Some(&admin), bad)
            .await
            .problem(422);
    }
    app.post("/api/widgets", Some(&agent), json!({"name": "Mine"}))
        .await
        .problem(403);

    let path = format!("/api/widgets/{}", created["id"].as_str().unwrap());
    let changed = app
        .patch(
            &path,
            &admin,
            json!({"identity_secret": "a-long-identity-secret", "enforce_identity": true}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["enforce_identity"], true);
    assert_eq!(changed["name"], "Shop");
    let listed = app.get("/api/widgets", &admin).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let regenerated = app
        .call(
            Method::POST,
            &format!("{path}/regenerate-key"),
            Some(&admin),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_ne!(regenerated["key"], created["key"]);
    public(&app, Method::GET, "/widget/config", key, None, None)
        .await
        .problem(404);
    public(
        &app,
        Method::GET,
        "/widget/config",
        regenerated["key"].as_str().unwrap(),
        None,
        None,
    )
    .await
    .expect(200);
    app.patch(&path, &admin, json!({"active": false}))
        .await
        .expect(200);
    let inactive = public(
        &app,
        Method::GET,
        "/widget/config",
        regenerated["key"].as_str().unwrap(),
        None,
        None,
    )
    .await
    .problem(403);
    assert_eq!(inactive["detail"], "this widget is inactive");
    app.call(Method::DELETE, &path, Some(&admin), None)
        .await
        .expect(204);
    app.get(&path, &admin).await.problem(404);
    app.call(Method::GET, "/widget/config", None, None)
        .await
        .problem(401);
}

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

async fn origins_are_checked(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/widget/tickets"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-widget-key",
            )
            .send()
    };
    let allowed = preflight(SITE).await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], SITE);
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let wrong_origin = app
        .client
        .get(app.url("/widget/config"))
        .header("x-widget-key", key)
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        !wrong_origin
            .headers()
            .contains_key("access-control-allow-origin")
    );
    TestApp::reply(wrong_origin).await.problem(403);

    let opened = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("o@example.com")),
    )
    .await
    .expect(201)
    .body;
    let url = format!(
        "{}/widget/ws?key={key}&visitor_token={}",
        app.base.replace("http://", "ws://"),
        opened["visitor_token"].as_str().unwrap()
    );
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example.com".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "a foreign origin opened the socket: {:?}",
            other.map(|_| ())
        ),
    }
}

pub(crate) fn identity_hash(secret: &str, email: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(email.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn identity_hashes_grant_history_and_enforce_mode_refuses(kind: BackendKind) {
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
    let (customer, _) = app.user_token("known@example.com", "customer").await;
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "Earlier", "description": "from the web"}),
    )
    .await
    .expect(201);

    let unproven = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("known@example.com")),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(unproven["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "without a hash, only the new conversation"
    );

    let mut wrong = visitor_ticket("known@example.com");
    wrong["identity_hash"] = json!(identity_hash(
        "another-secret-entirely",
        "known@example.com"
    ));
    let wrong = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(wrong),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(wrong["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "a wrong hash proves nothing"
    );

    let mut proven = visitor_ticket("known@example.com");
    proven["identity_hash"] = json!(identity_hash(secret, "known@example.com"));
    let proven = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(proven),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(proven["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        4,
        "a valid hash shows the customer's history"
    );

    app.patch(
        &format!("/api/widgets/{}", created["id"].as_str().unwrap()),
        &admin,
        json!({"enforce_identity": true}),
    )
    .await
    .expect(200);
    public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("known@example.com")),
    )
    .await
    .problem(401);
    let mut enforced = visitor_ticket("known@example.com");
    enforced["identity_hash"] = json!(identity_hash(secret, "known@example.com"));
    public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(enforced),
    )
    .await
    .expect(201);
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

async fn widget_requests_are_rate_limited(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.widget_requests_per_ip_per_minute = 3
    })
    .await;
    let admin = app.admin_token().await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    for i in 0..3 {
        public(
            &app,
            Method::POST,
            "/widget/tickets",
            key,
            None,
            Some(visitor_ticket(&format!("r{i}@example.com"))),
        )
        .await
        .expect(201);
    }
    let limited = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("r9@example.com")),
    )
    .await;
    assert!(limited.headers.contains_key("retry-after"));
    limited.problem(429);
    public(&app, Method::GET, "/widget/config", key, None, None)
        .await
        .expect(200);
}

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
