//! The edge of the HTTP layer against an outside probe: metric labels from a closed set, body
//! limits by content type, CORS only for allowed origins, and problem+json even for the
//! answers hyper and axum give by themselves.

use std::collections::BTreeSet;

use growdesk_store::BackendKind;
use reqwest::Method;
use reqwest::header::ORIGIN;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::tickets::upload;
use crate::widgets::{SITE, widget};

on_both_backends!(
    attachments_get_the_attachment_limit_and_json_keeps_its_own,
    widget_answers_name_only_origins_their_widget_allows,
);

const MIB: usize = 1024 * 1024;

/// The exposition's series (each sample line without its value) and its size.
async fn metric_series(app: &TestApp) -> (BTreeSet<String>, usize) {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect();
    (series, text.len())
}

/// A method token of about 1 KB no client would send, different each call.
fn junk_method() -> Method {
    let token = format!("X{}", Uuid::new_v4().simple().to_string().to_uppercase()).repeat(30);
    Method::from_bytes(token.as_bytes()).unwrap()
}

/// Found by an outside probe: each request with a new method added a series under that method,
/// kept for ever (2,000 requests of 4 KB methods: /metrics 159 MB, 500 MB resident).
#[tokio::test]
async fn junk_methods_and_paths_add_no_metric_series() {
    let app = spawn_app(BackendKind::Sqlite).await;
    let send = |method: Method, path: String| {
        let request = app.client.request(method, app.url(&path)).send();
        async move { request.await.unwrap().status().as_u16() }
    };
    // One of each kind first, so the series they map to exist.
    assert_eq!(send(junk_method(), "/api/health".to_owned()).await, 405);
    assert_eq!(send(junk_method(), "/api/nowhere".to_owned()).await, 404);
    assert_eq!(send(Method::GET, "/api/nowhere".to_owned()).await, 404);
    metric_series(&app).await;
    let (before, size_before) = metric_series(&app).await;

    for round in 0..100 {
        let path = format!("/{}/{round}", Uuid::new_v4());
        assert_eq!(send(junk_method(), "/api/health".to_owned()).await, 405);
        assert_eq!(send(junk_method(), path.clone()).await, 404);
        assert_eq!(send(Method::GET, path).await, 404);
    }

    let (after, size_after) = metric_series(&app).await;
    assert_eq!(before, after, "no request adds a series");
    // Only counts and sums grew a few digits.
    assert!(
        size_after < size_before + 1024,
        "{size_before} → {size_after} bytes"
    );
    assert!(
        after
            .iter()
            .any(|series| series.contains("method=\"other\""))
    );
    assert!(
        after
            .iter()
            .any(|series| series.contains("route=\"unmatched\""))
    );
}

async fn attachments_get_the_attachment_limit_and_json_keeps_its_own(kind: BackendKind) {
    // The documented defaults: 1 MiB bodies, 10 MiB of files per message.
    let app = spawn_app(kind).await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&customer),
            json!({"subject": "Scans", "description": "Attached."}),
        )
        .await
        .expect(201)
        .body;
    let ticket = ticket["id"].as_str().unwrap();

    let scan: Vec<u8> = (0..9 * MIB).map(|i| (i % 251) as u8).collect();
    let posted = upload(
        &app,
        &customer,
        ticket,
        "Nine MiB",
        false,
        &[("scan.pdf", "application/pdf", scan.clone())],
    )
    .await
    .expect(201)
    .body;
    let file = &posted["attachments"][0];
    assert_eq!(file["size"], 9 * MIB);
    let downloaded = app
        .client
        .get(app.url(&format!(
            "/api/attachments/{}",
            file["id"].as_str().unwrap()
        )))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(downloaded == scan, "the file comes back whole");

    // Over the attachment limit, within the upload's: refused by the attachment rule.
    let just_over = vec![b'x'; 10 * MIB + 1];
    upload(
        &app,
        &customer,
        ticket,
        "Too much",
        false,
        &[("big.bin", "application/octet-stream", just_over)],
    )
    .await
    .problem(413);
    // Over the upload's limit (files and 1 MiB for the rest) by the form's framing: the body
    // stops being read. (Just over, so the unread rest does not reset the connection.)
    let far_over = vec![b'x'; 11 * MIB];
    upload(
        &app,
        &customer,
        ticket,
        "Far too much",
        false,
        &[("huge.bin", "application/octet-stream", far_over)],
    )
    .await
    .problem(413);

    // A JSON body on the same route keeps the 1 MiB limit.
    let long_json = serde_json::to_vec(&json!({"body": "x".repeat(MIB + 1)})).unwrap();
    let reply = app
        .client
        .post(app.url(&format!("/api/tickets/{ticket}/messages")))
        .bearer_auth(&customer)
        .header("content-type", "application/json")
        .body(long_json)
        .send()
        .await
        .unwrap();
    TestApp::reply(reply).await.problem(413);
    let messages = app
        .get(&format!("/api/tickets/{ticket}/messages"), &customer)
        .await
        .expect(200)
        .body;
    assert_eq!(
        messages["items"].as_array().unwrap().len(),
        2,
        "only the description and the 9 MiB message: {messages}"
    );
}

/// Found by an outside probe: `/widget/*` named any `Origin` in its 401 and 404 answers.
async fn widget_answers_name_only_origins_their_widget_allows(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let unknown_key = "wk_0000000000000000000000000000";
    let ask = |path: &'static str, key: Option<&str>, origin: &'static str| {
        let mut request = app.client.get(app.url(path)).header(ORIGIN, origin);
        if let Some(key) = key {
            request = request.header("x-widget-key", key);
        }
        async move {
            let response = request.send().await.unwrap();
            let allowed = response
                .headers()
                .get("access-control-allow-origin")
                .map(|value| value.to_str().unwrap().to_owned());
            (response.status().as_u16(), allowed)
        }
    };
    let evil = "https://evil.example.com";
    for (path, key, origin, status) in [
        ("/widget/config", None, evil, 401),
        ("/widget/config", Some(unknown_key), evil, 404),
        ("/widget/config", Some(key), evil, 403),
        ("/widget/tickets", Some(key), evil, 403),
        // An origin some widget allows is still not this unknown key's.
        ("/widget/config", None, SITE, 401),
        ("/widget/config", Some(unknown_key), SITE, 404),
    ] {
        assert_eq!(
            ask(path, key, origin).await,
            (status, None),
            "{path} with key {key:?} from {origin}"
        );
    }
    // The widget's own origin is named on success and on refusals after the widget accepted
    // it, so its page can read why.
    let named = Some(SITE.to_owned());
    assert_eq!(
        ask("/widget/config", Some(key), SITE).await,
        (200, named.clone())
    );
    assert_eq!(ask("/widget/tickets", Some(key), SITE).await, (401, named));
}

/// The answers built outside the handlers keep the CORS headers of the layer that allowed the
/// origin (the problem+json conversion dropped them).
#[tokio::test]
async fn framework_refusals_keep_their_cors_headers() {
    let desk = "https://desk.example.com";
    let app = spawn_app_with(BackendKind::Sqlite, |settings| {
        settings.cors_origins = vec![desk.to_owned()];
    })
    .await;
    let reply = app
        .client
        .delete(app.url("/api/auth/login"))
        .header(ORIGIN, desk)
        .send()
        .await
        .unwrap();
    let reply = TestApp::reply(reply).await;
    assert_eq!(reply.headers["access-control-allow-origin"], desk);
    assert!(reply.headers.contains_key("allow"));
    reply.problem(405);
}

/// Writes `request` on a fresh connection and returns the whole answer.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    connection.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connection.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers and closes")
    .unwrap();
    String::from_utf8(answer).unwrap()
}

/// The problem body of the last answer in `answer`, checking its head says problem+json.
fn last_problem(answer: &str, status: u16) -> serde_json::Value {
    let start = answer.rfind("HTTP/1.1 ").expect("an HTTP/1.1 answer");
    let (head, body) = answer[start..].split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], status, "{problem}");
    assert!(problem["detail"].is_string() && problem["title"].is_string());
    problem
}

/// hyper answers a head it cannot parse by itself, with an empty body: 431 for a head over
/// 64 KiB, 400 for a malformed one (also after a good request on the same connection).
#[tokio::test]
async fn unparsable_request_heads_get_problems() {
    let app = spawn_app(BackendKind::Sqlite).await;
    let padding = "a".repeat(100 * 1024);
    let huge = format!("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n");
    last_problem(&raw_exchange(&app, huge.as_bytes()).await, 431);
    let malformed = b"GET /api/health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n";
    last_problem(&raw_exchange(&app, malformed).await, 400);
    let bad_method = b"G(T /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
    last_problem(&raw_exchange(&app, bad_method).await, 400);
    let second_bad = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n\
        GET /api/health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n";
    let answer = raw_exchange(&app, second_bad).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    last_problem(&answer, 400);
    app.call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);
}
