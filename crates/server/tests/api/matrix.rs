//! The authorisation matrix: every route × {anonymous, customer A, customer B, agent, admin},
//! on objects that belong to customer A (so they are customer B's foreign objects). Each case
//! runs on a fresh fixture and asserts the status; a refused request must change nothing.
//! A visitor token (the widget's credential) is refused on every one of them. The public widget
//! routes have their own table, over widget keys and visitor tokens; a visitor claiming a staff
//! email is refused and holds nothing more than the widget's key. A route missing from the
//! tables fails `every_route_is_in_the_matrix`.

mod routes;
mod widget;

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, access, spawn_app};
use routes::cases;
use widget::widget_cases;

on_both_backends!(every_identity_gets_the_expected_answer_and_refusals_change_nothing);

/// The origin the widgets of these tests are embedded on.
const SITE: &str = "https://shop.example.com";

/// The objects one case works on; all of the ticket's belong to customer A.
struct Fixture {
    ticket: String,
    public_file: String,
    internal_file: String,
    category: String,
    faq: String,
    /// A customer account for the user routes.
    user: String,
    /// The agent's notification that the ticket was assigned to them.
    notification: String,
    widget: String,
    webhook: String,
    /// A saved view the admin shared.
    view: String,
    /// A canned reply the admin shared.
    reply: String,
    /// An email mailbox (its servers do not exist).
    mailbox: String,
}

struct Identities {
    customer_a: String,
    customer_b: String,
    agent: String,
    agent_id: String,
    admin: String,
}

/// Statuses for anonymous, customer B (foreign), customer A (own), agent, admin.
type Expected = [u16; 5];

struct Case {
    method: Method,
    /// With `{ticket}`, `{public_file}`, `{internal_file}`, `{category}`, `{faq}`, `{user}`,
    /// `{notification}`, `{widget}`, `{webhook}`, `{view}`,
    /// `{reply}`, `{mailbox}`, and an email template's `{kind}` and `{locale}`.
    path: &'static str,
    body: fn(&Identities) -> Option<Value>,
    expected: Expected,
}

fn none(_: &Identities) -> Option<Value> {
    None
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Routes outside the matrix, and why.
const EXEMPT: &[(&str, &str)] = &[
    ("POST /api/auth/register", "public; tests in auth.rs"),
    ("POST /api/auth/login", "public; tests in auth.rs"),
    (
        "POST /api/auth/refresh",
        "public, needs a refresh token; tests in auth.rs",
    ),
    (
        "POST /api/auth/logout",
        "ends the caller's session; tests in auth.rs",
    ),
    (
        "GET /api/ws",
        "the WebSocket handshake; tests in realtime.rs",
    ),
    (
        "GET /widget/ws",
        "the visitor's WebSocket handshake; tests in widgets.rs and realtime.rs",
    ),
    (
        "POST /api/auth/password-reset",
        "public, the same answer for every address; tests in email/password_reset.rs",
    ),
    (
        "POST /api/auth/password-reset/confirm",
        "public, needs a mailed token; tests in email/password_reset.rs",
    ),
    (
        "GET /api/unsubscribe",
        "public, needs a mailed token; tests in email/unsubscribe.rs",
    ),
    (
        "POST /api/unsubscribe",
        "public, needs a mailed token; tests in email/unsubscribe.rs",
    ),
];

async fn fixture(app: &TestApp, ids: &Identities) -> Fixture {
    let ticket = app
        .post(
            "/api/tickets",
            Some(&ids.customer_a),
            json!({"subject": "A's ticket", "description": "private"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = |token: &str, internal: bool| {
        let part = reqwest::multipart::Part::bytes(b"file".to_vec())
            .file_name("f.txt")
            .mime_str("text/plain")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("body", "with a file")
            .text("internal", internal.to_string())
            .part("files", part);
        app.client
            .post(app.url(&format!("/api/tickets/{ticket}/messages")))
            .bearer_auth(token.to_owned())
            .multipart(form)
            .send()
    };
    let file_of = |message: Value| message["attachments"][0]["id"].as_str().unwrap().to_owned();
    let public_file = file_of(
        TestApp::reply(upload(&ids.customer_a, false).await.unwrap())
            .await
            .expect(201)
            .body,
    );
    let internal_file = file_of(
        TestApp::reply(upload(&ids.agent, true).await.unwrap())
            .await
            .expect(201)
            .body,
    );
    let id_of =
        |reply: crate::helpers::Reply| reply.expect(201).body["id"].as_str().unwrap().to_owned();
    let category = id_of(
        app.post(
            "/api/categories",
            Some(&ids.admin),
            json!({"name": unique()}),
        )
        .await,
    );
    let faq = id_of(
        app.post(
            "/api/faqs",
            Some(&ids.admin),
            json!({"question": "q", "answer": "a"}),
        )
        .await,
    );
    let user = id_of(
        app.post(
            "/api/users",
            Some(&ids.admin),
            json!({"email": format!("{}@example.com", unique()), "role": "customer"}),
        )
        .await,
    );
    app.post(
        &format!("/api/tickets/{ticket}/assign"),
        Some(&ids.admin),
        json!({"assignee_id": ids.agent_id}),
    )
    .await
    .expect(200);
    let inbox = app
        .get("/api/notifications?limit=1", &ids.agent)
        .await
        .expect(200)
        .body;
    let notification = inbox["items"][0]["id"].as_str().unwrap().to_owned();
    let widget = id_of(
        app.post("/api/widgets", Some(&ids.admin), json!({"name": "Fixture"}))
            .await,
    );
    let webhook = id_of(
        app.post(
            "/api/webhooks",
            Some(&ids.admin),
            json!({"url": "https://93.184.215.14/hook", "event_types": ["*"]}),
        )
        .await,
    );
    let view = id_of(
        app.post(
            "/api/views",
            Some(&ids.admin),
            json!({"name": "Shared", "shared": true}),
        )
        .await,
    );
    let reply = id_of(
        app.post(
            "/api/canned-replies",
            Some(&ids.admin),
            json!({"title": "Shared", "body": "Hello", "shared": true}),
        )
        .await,
    );
    let mailbox = id_of(
        app.post(
            "/api/mailboxes",
            Some(&ids.admin),
            crate::email::mailbox_body(&format!("{}@example.test", unique())),
        )
        .await,
    );
    Fixture {
        ticket,
        public_file,
        internal_file,
        category,
        faq,
        user,
        notification,
        widget,
        webhook,
        view,
        reply,
        mailbox,
    }
}

fn fill(path: &str, fixture: &Fixture) -> String {
    path.replace("{ticket}", &fixture.ticket)
        .replace("{public_file}", &fixture.public_file)
        .replace("{internal_file}", &fixture.internal_file)
        .replace("{category}", &fixture.category)
        .replace("{faq}", &fixture.faq)
        .replace("{user}", &fixture.user)
        .replace("{notification}", &fixture.notification)
        .replace("{widget}", &fixture.widget)
        .replace("{webhook}", &fixture.webhook)
        .replace("{view}", &fixture.view)
        .replace("{reply}", &fixture.reply)
        .replace("{mailbox}", &fixture.mailbox)
        .replace("{kind}", "reply")
        .replace("{locale}", "en")
}

/// Everything a request could have changed, as the admin (and the agent, for their inbox)
/// sees it.
async fn snapshot(app: &TestApp, ids: &Identities, fixture: &Fixture) -> Value {
    let admin = &ids.admin;
    let mut state = serde_json::Map::new();
    let inbox = app.get("/api/notifications?limit=100", &ids.agent).await;
    state.insert("agent inbox".to_owned(), inbox.body);
    for path in [
        format!("/api/tickets/{}", fixture.ticket),
        format!("/api/tickets/{}/messages?limit=100", fixture.ticket),
        format!("/api/tickets/{}/events?limit=100", fixture.ticket),
        format!("/api/faqs/{}", fixture.faq),
        format!("/api/users/{}", fixture.user),
        "/api/tickets?limit=100".to_owned(),
        "/api/categories".to_owned(),
        "/api/faqs?limit=100".to_owned(),
        "/api/users?limit=100".to_owned(),
        "/api/widgets".to_owned(),
        "/api/webhooks".to_owned(),
        format!("/api/webhooks/{}/deliveries", fixture.webhook),
        "/api/views?limit=100".to_owned(),
        "/api/canned-replies?limit=100".to_owned(),
        "/api/mailboxes".to_owned(),
        "/api/email-templates".to_owned(),
        format!("/api/tickets/{}/deliveries", fixture.ticket),
    ] {
        let reply = app.get(&path, admin).await;
        state.insert(
            path,
            json!({"status": reply.status.as_u16(), "body": reply.body}),
        );
    }
    Value::Object(state)
}

async fn every_identity_gets_the_expected_answer_and_refusals_change_nothing(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (customer_a, _) = app.user_token("a@example.com", "customer").await;
    let (customer_b, _) = app.user_token("b@example.com", "customer").await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let ids = Identities {
        customer_a,
        customer_b,
        agent,
        agent_id: agent_user["id"].as_str().unwrap().to_owned(),
        admin: access(
            &app.login(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
                .await,
        ),
    };
    let chat = open_widget_chat(&app, &ids.admin).await;
    let visitor = chat.visitor_token;
    let fixture_for_visitor = fixture(&app, &ids).await;
    let before = snapshot(&app, &ids, &fixture_for_visitor).await;
    // A visitor claiming a staff email gets no credential at all: the claim is refused (and,
    // as the snapshot below shows, changes nothing).
    claim_staff_email(&app, &chat.key).await.problem(422);
    for case in cases() {
        let path = fill(case.path, &fixture_for_visitor);
        let reply = app
            .call(
                case.method.clone(),
                &path,
                Some(&visitor),
                (case.body)(&ids),
            )
            .await;
        // A visitor token is no staff credential: it gets what no token at all gets.
        let anonymous = case.expected[0];
        assert_eq!(
            reply.status.as_u16(),
            anonymous,
            "visitor: {} {}: {}",
            case.method,
            case.path,
            reply.body
        );
        if anonymous >= 400 {
            reply.problem(anonymous);
        }
    }
    assert_eq!(
        before,
        snapshot(&app, &ids, &fixture_for_visitor).await,
        "a visitor token, or a visitor claiming a staff email, changed something"
    );

    let mut checked = 0;
    for case in cases() {
        let who: [(&str, Option<&str>); 5] = [
            ("anonymous", None),
            ("customer B", Some(&ids.customer_b)),
            ("customer A", Some(&ids.customer_a)),
            ("agent", Some(&ids.agent)),
            ("admin", Some(&ids.admin)),
        ];
        for ((name, token), expected) in who.into_iter().zip(case.expected) {
            let fixture = fixture(&app, &ids).await;
            let path = fill(case.path, &fixture);
            let before = snapshot(&app, &ids, &fixture).await;
            let reply = app
                .call(case.method.clone(), &path, token, (case.body)(&ids))
                .await;
            assert_eq!(
                reply.status.as_u16(),
                expected,
                "{name}: {} {}: {}",
                case.method,
                case.path,
                reply.body
            );
            if expected >= 400 {
                reply.problem(expected);
                let after = snapshot(&app, &ids, &fixture).await;
                assert_eq!(
                    before, after,
                    "{name}: refused {} {} changed something",
                    case.method, case.path
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, cases().len() * 5);
}

#[test]
fn every_route_is_in_the_matrix() {
    let document: Value = serde_json::from_str(&growdesk_http::openapi::openapi_json()).unwrap();
    let covered: Vec<String> = cases()
        .iter()
        .chain(widget_cases().iter())
        .map(|case| {
            let mut path = case.path.to_owned();
            for placeholder in [
                "{ticket}",
                "{public_file}",
                "{internal_file}",
                "{category}",
                "{faq}",
                "{user}",
                "{notification}",
                "{widget}",
                "{webhook}",
                "{view}",
                "{reply}",
                "{mailbox}",
            ] {
                path = path.replace(placeholder, "{id}");
            }
            format!("{} {path}", case.method)
        })
        .collect();
    let mut missing = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let route = format!("{} {path}", method.to_uppercase());
            let exempt = EXEMPT.iter().any(|(exempt, _)| *exempt == route);
            if !exempt && !covered.contains(&route) {
                missing.push(route);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an authorisation matrix entry: {missing:?}"
    );
}

/// A widget with a chat open on it: its key, and the visitor's token and ticket.
struct WidgetChat {
    key: String,
    visitor_token: String,
    ticket: String,
}

async fn open_widget_chat(app: &TestApp, admin: &str) -> WidgetChat {
    let widget = app
        .post(
            "/api/widgets",
            Some(admin),
            json!({"name": unique(), "allowed_origins": [SITE]}),
        )
        .await
        .expect(201)
        .body;
    let key = widget["key"].as_str().unwrap().to_owned();
    let opened = widget_call(
        app,
        Method::POST,
        "/widget/tickets",
        Some(&key),
        None,
        Some(json!({"name": "Vera", "email": format!("{}@example.com", unique()), "message": "Hello"})),
    )
    .await
    .expect(201)
    .body;
    WidgetChat {
        key,
        visitor_token: opened["visitor_token"].as_str().unwrap().to_owned(),
        ticket: opened["ticket"]["id"].as_str().unwrap().to_owned(),
    }
}

async fn widget_call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    token: Option<&str>,
    body: Option<Value>,
) -> crate::helpers::Reply {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("origin", SITE);
    if let Some(key) = key {
        request = request.header("x-widget-key", key);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

/// A visitor opening a chat under the agent's email, in another letter case.
async fn claim_staff_email(app: &TestApp, key: &str) -> crate::helpers::Reply {
    widget_call(
        app,
        Method::POST,
        "/widget/tickets",
        Some(key),
        None,
        Some(json!({"name": "Eve", "email": "AGENT@Example.com", "message": "I am staff"})),
    )
    .await
}
