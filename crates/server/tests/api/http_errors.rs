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
    app.call(Method::GET, "/", None, None).await.problem(404);
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
