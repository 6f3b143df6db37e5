//! Mass-assignment probes. From the OpenAPI document: every JSON request body is sent with each
//! field no caller may set through it (`role`, `internal`, `author_id`, `requester_id`, ids,
//! counters, timestamps) that the body does not document; each is refused with a 422 naming
//! the field, and nothing changes. Where a body documents such a field for staff only, a
//! customer setting it is refused.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

on_both_backends!(
    undocumented_privileged_fields_are_refused_on_every_body,
    customers_cannot_set_staff_only_fields
);

/// Fields that would hand a caller someone else's identity, role or record.
fn probes() -> Vec<(&'static str, Value)> {
    let someone = json!(uuid::Uuid::now_v7());
    vec![
        ("role", json!("admin")),
        ("internal", json!(true)),
        ("author_id", someone.clone()),
        ("requester_id", someone.clone()),
        ("assignee_id", someone.clone()),
        ("user_id", someone.clone()),
        ("widget_id", someone.clone()),
        ("id", someone),
        ("number", json!(1)),
        ("version", json!(99)),
        ("created_at", json!("2000-01-01T00:00:00Z")),
        (
            "password_hash",
            json!("$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA"),
        ),
        ("active", json!(true)),
        ("is_admin", json!(true)),
    ]
}

/// The records the probes aim at, and the credentials to reach them.
struct Targets {
    admin: String,
    ticket: String,
    category: String,
    faq: String,
    user: String,
    webhook: String,
    widget: String,
    view: String,
    canned_reply: String,
    mailbox: String,
    widget_key: String,
    visitor_token: String,
    visitor_ticket: String,
}

async fn targets(app: &TestApp) -> Targets {
    let admin = app.admin_token().await;
    let id = |body: Value| body["id"].as_str().unwrap().to_owned();
    let created = |path: &'static str, body: Value| {
        let admin = admin.clone();
        async move { app.post(path, Some(&admin), body).await.expect(201).body }
    };
    let ticket = id(created("/api/tickets", json!({"subject": "s", "description": "d"})).await);
    let category = id(created("/api/categories", json!({"name": "Billing"})).await);
    let faq = id(created("/api/faqs", json!({"question": "q", "answer": "a"})).await);
    let user = id(created(
        "/api/users",
        json!({"email": "c@example.com", "role": "customer", "password": "customer-pw-1"}),
    )
    .await);
    let webhook = id(created(
        "/api/webhooks",
        json!({"url": "https://93.184.215.14/hook", "event_types": ["*"]}),
    )
    .await);
    let view = id(created(
        "/api/views",
        json!({"name": "Open", "filter": {"status": ["open"]}}),
    )
    .await);
    let canned_reply = id(created(
        "/api/canned-replies",
        json!({"title": "Thanks", "body": "Thanks, {{requester.name}}."}),
    )
    .await);
    let mailbox = id(created(
        "/api/mailboxes",
        crate::email::mailbox_body("support@example.test"),
    )
    .await);
    let widget = created(
        "/api/widgets",
        json!({"name": "Site", "allowed_origins": ["https://shop.example.com"]}),
    )
    .await;
    let widget_key = widget["key"].as_str().unwrap().to_owned();
    let opened = app
        .client
        .post(app.url("/widget/tickets"))
        .header("x-widget-key", &widget_key)
        .header("origin", "https://shop.example.com")
        .json(&json!({"name": "Vera", "email": "vera@example.com", "message": "Hello"}))
        .send()
        .await
        .unwrap();
    let opened = TestApp::reply(opened).await.expect(201).body;
    Targets {
        ticket,
        category,
        faq,
        user,
        webhook,
        widget: id(widget),
        view,
        canned_reply,
        mailbox,
        widget_key,
        visitor_token: opened["visitor_token"].as_str().unwrap().to_owned(),
        visitor_ticket: opened["ticket"]["id"].as_str().unwrap().to_owned(),
        admin,
    }
}

impl Targets {
    /// The path with its `{id}` filled by the record of the kind the path names.
    fn fill(&self, path: &str) -> String {
        let id = [
            ("/widget/tickets/", &self.visitor_ticket),
            ("/api/tickets/", &self.ticket),
            ("/api/categories/", &self.category),
            ("/api/faqs/", &self.faq),
            ("/api/users/", &self.user),
            ("/api/webhooks/", &self.webhook),
            ("/api/widgets/", &self.widget),
            ("/api/views/", &self.view),
            ("/api/canned-replies/", &self.canned_reply),
            ("/api/mailboxes/", &self.mailbox),
        ]
        .into_iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, id)| id.as_str());
        let path = path.replace("{kind}", "reply").replace("{locale}", "en");
        match id {
            Some(id) => path.replace("{id}", id),
            None => path,
        }
    }

    /// Everything a probe could have changed, as the admin sees it.
    async fn state(&self, app: &TestApp) -> Value {
        let mut state = serde_json::Map::new();
        for path in [
            "/api/tickets?limit=100".to_owned(),
            format!("/api/tickets/{}", self.ticket),
            format!("/api/tickets/{}/messages?limit=100", self.ticket),
            format!("/api/tickets/{}/messages?limit=100", self.visitor_ticket),
            "/api/users?limit=100".to_owned(),
            "/api/categories".to_owned(),
            "/api/faqs?limit=100".to_owned(),
            "/api/webhooks".to_owned(),
            "/api/widgets".to_owned(),
            "/api/views".to_owned(),
            "/api/canned-replies".to_owned(),
            "/api/mailboxes".to_owned(),
            "/api/email-templates".to_owned(),
            "/api/auth/me".to_owned(),
        ] {
            state.insert(path.clone(), app.get(&path, &self.admin).await.body);
        }
        Value::Object(state)
    }
}

async fn undocumented_privileged_fields_are_refused_on_every_body(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 10_000;
        settings.login_attempts_per_account_per_minute = 10_000;
    })
    .await;
    let targets = targets(&app).await;
    let before = targets.state(&app).await;
    let document: Value = serde_json::from_str(&growdesk_http::openapi::openapi_json()).unwrap();
    let schemas = &document["components"]["schemas"];

    let mut bodies = 0;
    let mut probed = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(schema) =
                operation["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            let schema = match schema["$ref"].as_str() {
                Some(reference) => &schemas[reference.rsplit('/').next().unwrap()],
                None => schema,
            };
            let documented = schema["properties"].as_object().unwrap();
            bodies += 1;
            for (field, value) in probes() {
                if documented.contains_key(field) {
                    continue;
                }
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut request = app
                    .client
                    .request(method.clone(), app.url(&targets.fill(path)))
                    .json(&json!({ field: value }));
                if path.starts_with("/widget/") {
                    request = request
                        .header("x-widget-key", &targets.widget_key)
                        .header("origin", "https://shop.example.com")
                        .bearer_auth(&targets.visitor_token);
                } else if !path.starts_with("/api/auth/") || path == "/api/auth/me" {
                    request = request.bearer_auth(&targets.admin);
                }
                let reply = TestApp::reply(request.send().await.unwrap()).await;
                let problem = reply.problem(422);
                assert_eq!(
                    problem["errors"][0]["field"], field,
                    "{method} {path} with `{field}`: {problem}"
                );
                probed += 1;
            }
        }
    }
    assert!(bodies >= 20, "every JSON body was found: {bodies}");
    assert_eq!(
        before,
        targets.state(&app).await,
        "a probe changed something"
    );
    eprintln!("{kind:?}: {probed} probes over {bodies} request bodies, all 422 naming the field");
}

/// `requester_id` (open a ticket for someone else) and `internal` (a note customers cannot
/// see) are documented for staff; a customer sending them is refused and nothing is written.
async fn customers_cannot_set_staff_only_fields(kind: BackendKind) {
    let app = spawn_app_with(kind, |_| {}).await;
    let admin = app.admin_token().await;
    let (customer, _) = app.user_token("a@example.com", "customer").await;
    let (_, other) = app.user_token("b@example.com", "customer").await;
    let tickets_before = app.get("/api/tickets?limit=100", &admin).await.body;
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "For B", "description": "d", "requester_id": other["id"]}),
    )
    .await
    .problem(403);
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "For B", "description": "d", "requester_email": "b@example.com"}),
    )
    .await
    .problem(403);
    assert_eq!(
        tickets_before,
        app.get("/api/tickets?limit=100", &admin).await.body
    );

    let own = app
        .post(
            "/api/tickets",
            Some(&customer),
            json!({"subject": "Mine", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let messages = format!(
        "/api/tickets/{}/messages?limit=100",
        own["id"].as_str().unwrap()
    );
    let conversation_before = app.get(&messages, &admin).await.body;
    app.post(
        &messages.replace("?limit=100", ""),
        Some(&customer),
        json!({"body": "let me hide this", "internal": true}),
    )
    .await
    .problem(403);
    assert_eq!(conversation_before, app.get(&messages, &admin).await.body);
}
