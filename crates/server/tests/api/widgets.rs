//! The chat widget: the admin's registry, allowed origins and the rate limit here; the public
//! visitor API, identity hashes and the visitor socket in the modules below, with the rules that
//! keep visitors to their own conversations.

mod identity;
mod preview;
mod socket;
mod visitors;

use growdesk_store::BackendKind;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

on_both_backends!(
    admins_register_widgets,
    origins_are_checked,
    widget_requests_are_rate_limited,
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
