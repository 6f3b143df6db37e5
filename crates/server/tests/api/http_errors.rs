//! Every error is problem+json, including the framework's own rejections; limits hold.

use growdesk_store::BackendKind;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue, ORIGIN};
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with};

on_both_backends!(
    malformed_requests_get_clear_problems,
    oversized_bodies_are_refused,
    every_response_carries_a_request_id,
    cors_allows_only_configured_origins,
    hostile_inputs_get_clear_4xx_and_text_is_stored_verbatim,
    malformed_if_match_is_refused_not_guessed_at,
    integers_written_with_a_zero_fraction_are_integers,
    identity_secrets_are_counted_in_characters,
);

async fn raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: &'static str,
) -> crate::helpers::Reply {
    let mut request = app.client.post(app.url("/api/auth/login")).body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

async fn malformed_requests_get_clear_problems(kind: BackendKind) {
    let app = spawn_app(kind).await;
    raw(&app, Some("application/json"), "{\"email\": ")
        .await
        .problem(400);
    raw(&app, Some("application/json"), "[1, 2]")
        .await
        .problem(422);
    // A body's fields as an array in their order is no object, though serde would read one.
    assert_eq!(
        (ADMIN_EMAIL, ADMIN_PASSWORD),
        ("admin@example.com", "admin-password-1")
    );
    raw(
        &app,
        Some("application/json"),
        r#"["admin@example.com", "admin-password-1"]"#,
    )
    .await
    .problem(422);
    raw(&app, Some("text/plain"), "{}").await.problem(415);
    raw(&app, None, "{}").await.problem(415);
    let missing = raw(
        &app,
        Some("application/json"),
        "{\"email\": \"a@example.com\"}",
    )
    .await
    .problem(422);
    assert_eq!(missing["errors"][0]["field"], "password");
    let mistyped = raw(
        &app,
        Some("application/json"),
        "{\"email\": 5, \"password\": \"x\"}",
    )
    .await
    .problem(422);
    assert_eq!(mistyped["errors"][0]["field"], "email");
    // A raw control character is not JSON; an escaped NUL is, and is no valid email.
    raw(&app, Some("application/json"), "{\"email\": \"a\u{0}\"}")
        .await
        .problem(400);
    let escaped = r#"{"email": "a\u0000@example.com", "password": "\u0000"}"#;
    raw(&app, Some("application/json"), escaped)
        .await
        .problem(422);

    app.call(Method::GET, "/api/no-such-route", None, None)
        .await
        .problem(404);
    app.call(Method::GET, "/no-such-page", None, None)
        .await
        .problem(404);
    let wrong_method = app
        .call(Method::DELETE, "/api/auth/login", None, None)
        .await;
    assert!(wrong_method.headers.contains_key("allow"));
    wrong_method.problem(405);
    app.call(Method::PUT, "/api/health", None, None)
        .await
        .problem(405);
    // Nothing above was a server error, and the server still answers.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

async fn oversized_bodies_are_refused(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.max_body_bytes = 4096).await;
    let huge = "x".repeat(5000);
    let reply = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": "a@example.com", "password": huge}),
        )
        .await;
    reply.problem(413);
    let long_but_allowed = "y".repeat(2000);
    let reply = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": "a@example.com", "password": long_but_allowed}),
        )
        .await;
    reply.problem(422);
}

async fn every_response_carries_a_request_id(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let ok = app.client.get(app.url("/api/health")).send().await.unwrap();
    let generated = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let error = app
        .client
        .get(app.url("/api/nope"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error.headers()["x-request-id"],
        "trace-me-123",
        "a caller's id is kept"
    );
    assert_eq!(error.headers()["x-content-type-options"], "nosniff");
}

async fn cors_allows_only_configured_origins(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.cors_origins = vec!["https://desk.example.com".to_owned()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/auth/me"))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://desk.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        HeaderValue::from_static("https://desk.example.com")
    );
    assert!(
        !allowed
            .headers()
            .contains_key("access-control-allow-credentials")
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let lookalike = preflight("https://desk.example.com.evil.example")
        .await
        .unwrap();
    assert!(
        !lookalike
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

/// A request head of 100 KiB (one huge header) is refused with 431 before any handler runs,
/// and the server goes on serving.
#[tokio::test]
async fn huge_request_heads_are_refused_with_431() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let app = spawn_app(BackendKind::Sqlite).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut client = tokio::net::TcpStream::connect(&address).await.unwrap();
    let padding = "a".repeat(100 * 1024);
    client
        .write_all(
            format!("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = vec![0; 4096];
    let length = tokio::time::timeout(std::time::Duration::from_secs(30), client.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..length]);
    assert!(head.starts_with("HTTP/1.1 431"), "{head}");
    app.call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);
}

/// Slow clients: one that never finishes its headers is disconnected; one that never finishes
/// its body gets 408; neither stops others from being served.
#[tokio::test]
async fn slow_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let app = spawn_app_with(BackendKind::Sqlite, |settings| {
        settings.header_read_timeout_secs = 1;
        settings.request_timeout_secs = 1;
    })
    .await;
    let address = app.base.trim_start_matches("http://").to_owned();

    let mut slow_headers = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow_headers
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut slow_body = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow_body
        .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
        .await
        .unwrap();

    app.call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);

    // The timeouts are one second; the reads wait far longer, so that only a server that never
    // cuts the clients off fails, not a loaded machine whose timers fire late.
    let patience = std::time::Duration::from_secs(30);
    let mut answer = Vec::new();
    let read = tokio::time::timeout(patience, slow_headers.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the half-sent request was not cut off");
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));

    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(patience, slow_body.read(&mut answer)).await;
    let length = read.expect("an answer within the request timeout").unwrap();
    let head = String::from_utf8_lossy(&answer[..length]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");
}

/// Sends `body` as JSON bytes to `path` as `token`, and returns the status.
async fn send_bytes(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> crate::helpers::Reply {
    let request = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    TestApp::reply(request.send().await.unwrap()).await
}

async fn hostile_inputs_get_clear_4xx_and_text_is_stored_verbatim(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let ticket = |subject: serde_json::Value, extra: serde_json::Value| {
        let mut body = json!({"subject": subject, "description": "Help."});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        serde_json::to_vec(&body).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("1 MiB + 1 body", vec![b' '; 1024 * 1024 + 1], 413),
        (
            "JSON nested 1,000 deep",
            format!("{}{}", "[".repeat(1000), "]".repeat(1000)).into_bytes(),
            422,
        ),
        (
            "nested objects",
            format!("{}1{}", "{\"a\":".repeat(1000), "}".repeat(1000)).into_bytes(),
            422,
        ),
        (
            "100,000 tags",
            ticket(
                json!("Tags"),
                json!({"tags": (0..100_000).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            ),
            422,
        ),
        (
            "100,000-character subject",
            ticket(json!("s".repeat(100_000)), json!({})),
            422,
        ),
        (
            "invalid UTF-8",
            b"{\"subject\": \"\xff\xfe\", \"description\": \"x\"}".to_vec(),
            400,
        ),
        (
            "lone surrogate",
            br#"{"subject": "\ud800", "description": "x"}"#.to_vec(),
            400,
        ),
        (
            "NUL in a subject",
            br#"{"subject": "a\u0000b", "description": "x"}"#.to_vec(),
            422,
        ),
        (
            "subject of the wrong type",
            ticket(json!({"$gt": ""}), json!({})),
            422,
        ),
        (
            "unknown priority",
            ticket(json!("Hi"), json!({"priority": "blocker"})),
            422,
        ),
    ];
    for (name, body, status) in cases {
        let reply = send_bytes(&app, "/api/tickets", &customer, body).await;
        assert_eq!(reply.status.as_u16(), status, "{name}: {:?}", reply.body);
        reply.problem(status);
    }
    let huge_header = app
        .client
        .get(app.url("/api/tickets"))
        .bearer_auth(&customer)
        .header(
            "x-padding",
            HeaderValue::from_str(&"p".repeat(200_000)).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        huge_header.status().is_client_error(),
        "{}",
        huge_header.status()
    );
    let bad_cursor = app
        .get("/api/tickets?cursor=%00%ff&limit=-5", &customer)
        .await;
    bad_cursor.problem(422);

    // Markup is data: stored and served back verbatim, as JSON the browser will not sniff.
    for xss in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg/onload=alert(1)>",
        "javascript:alert(1)",
        "{{constructor.constructor('alert(1)')()}}",
    ] {
        let created = app
            .post(
                "/api/tickets",
                Some(&customer),
                json!({"subject": xss, "description": xss, "tags": ["x"]}),
            )
            .await
            .expect(201);
        assert_eq!(created.body["subject"], xss);
        let id = created.body["id"].as_str().unwrap();
        let messages = app
            .get(&format!("/api/tickets/{id}/messages"), &customer)
            .await
            .expect(200);
        assert_eq!(messages.body["items"][0]["body"], xss);
        assert_eq!(messages.headers["x-content-type-options"], "nosniff");
        assert!(
            messages.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    // The server is still well.
    app.get("/api/tickets", &customer).await.expect(200);
    app.stop().await;
}

/// Found by the API fuzz test: `If-Match: 7` (no quotes), `""7""` or `W/W/"7"` were read as
/// version 7. Only `*`, `"7"` and `W/"7"` are ETags this server sends.
async fn malformed_if_match_is_refused_not_guessed_at(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&admin),
            json!({"subject": "Printer", "description": "It jams", "requester_email": "cy@example.com"}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/tickets/{}", ticket["id"].as_str().unwrap());
    let version = ticket["version"].as_i64().unwrap();
    let patch = |if_match: String| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(&admin)
            .header("if-match", if_match)
            .json(&json!({"priority": "high"}))
            .send()
    };
    for bad in [
        format!("{version}"),
        format!("\"\"{version}\"\""),
        format!("W/W/\"{version}\""),
        format!("\"+{version}\""),
        "\"\"".to_owned(),
    ] {
        let reply = TestApp::reply(patch(bad.clone()).await.unwrap()).await;
        assert_eq!(reply.status, 400, "If-Match: {bad}");
    }
    for good in [format!("\"{version}\""), "*".to_owned()] {
        let reply = TestApp::reply(patch(good.clone()).await.unwrap()).await;
        assert_eq!(reply.status, 200, "If-Match: {good}");
    }
}

/// Found by the API fuzz test: the document says `position` is an integer, and JSON Schema
/// counts `3.0` as one, but the server refused it.
async fn integers_written_with_a_zero_fraction_are_integers(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let category = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": "Billing", "position": 3.0}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(category["position"], 3);
    for bad in [json!(3.5), json!(4_294_967_296.0_f64), json!("3")] {
        let problem = app
            .post(
                "/api/categories",
                Some(&admin),
                json!({"name": "Refunds", "position": bad}),
            )
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], "position", "{bad}");
    }
}

/// Found by the API fuzz test: "at least 16 characters" was checked in bytes, so nine accented
/// letters (18 bytes) passed.
async fn identity_secrets_are_counted_in_characters(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let problem = app
        .post(
            "/api/widgets",
            Some(&admin),
            json!({"name": "Shop", "identity_secret": "ééééééééé"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "identity_secret");
    app.post(
        "/api/widgets",
        Some(&admin),
        json!({"name": "Shop", "identity_secret": "é".repeat(16)}),
    )
    .await
    .expect(201);
}
