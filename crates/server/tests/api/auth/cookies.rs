//! Browser sessions: the refresh token in an `HttpOnly` cookie, refreshed only with the CSRF
//! header from the server's own origin, rotated and replay-checked like a token in the body, and
//! removed at sign-out.

use growdesk_store::BackendKind;
use reqwest::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Reply, TestApp, access, spawn_app, spawn_app_with,
};

on_both_backends!(
    sign_in_sets_a_strict_http_only_cookie_on_the_refresh_path,
    a_cookie_refreshes_only_with_the_csrf_header_from_this_origin,
    a_replayed_cookie_ends_the_session_and_sign_out_removes_it,
);

/// The CSRF header the console sends with a refresh by cookie.
const CSRF: &str = "x-growdesk-csrf";

/// A browser's sign-in with `cookie: true`, as addressed to `host`.
async fn browser_sign_in(app: &TestApp, host: &str) -> Reply {
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header(HOST, host)
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "cookie": true}))
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await.expect(200)
}

/// The `Set-Cookie` header of a reply.
fn set_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get(SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `name=value` pair a `Set-Cookie` sets.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// A refresh by cookie with these extra headers.
async fn refresh_by_cookie(app: &TestApp, cookie: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header(COOKIE, cookie)
        .json(&json!({}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

async fn sign_in_sets_a_strict_http_only_cookie_on_the_refresh_path(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let local = browser_sign_in(&app, "127.0.0.1").await;
    assert_eq!(
        local.body["refresh_token"],
        Value::Null,
        "no script reads it"
    );
    assert!(local.body["access_token"].is_string());
    let cookie = set_cookie(&local);
    let (name_value, attributes) = cookie.split_once("; ").unwrap();
    assert!(name_value.starts_with("growdesk_refresh=") && name_value.len() > 30);
    // Plain HTTP on this machine: no `Secure`, which a browser would refuse from http://.
    assert_eq!(
        attributes,
        "Path=/api/auth/refresh; HttpOnly; SameSite=Strict"
    );

    let public = browser_sign_in(&app, "desk.example.com").await;
    assert!(set_cookie(&public).ends_with("; HttpOnly; SameSite=Strict; Secure"));

    // API clients that do not ask for the cookie get the token in the body, and no cookie.
    let tokens = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await
        .expect(200);
    assert!(tokens.body["refresh_token"].is_string());
    assert!(tokens.headers.get(SET_COOKIE).is_none());
}

async fn a_cookie_refreshes_only_with_the_csrf_header_from_this_origin(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let signed_in = browser_sign_in(&app, "127.0.0.1").await;
    let cookie = pair(&set_cookie(&signed_in));
    let own = app.base.clone();

    refresh_by_cookie(&app, &cookie, &[]).await.problem(403);
    for (name, value) in [
        ("origin", "https://evil.example.com"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        refresh_by_cookie(&app, &cookie, &[(CSRF, "1"), (name, value)])
            .await
            .problem(403);
    }
    // Refused requests spent nothing: the cookie still works, from the server's own page.
    let renewed = refresh_by_cookie(
        &app,
        &cookie,
        &[
            (CSRF, "1"),
            (ORIGIN.as_str(), &own),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await
    .expect(200);
    assert_eq!(renewed.body["refresh_token"], Value::Null);
    app.get("/api/auth/me", &access(&renewed.body))
        .await
        .expect(200);
    let next = pair(&set_cookie(&renewed));
    assert_ne!(next, cookie, "the token rotates");

    // Without a cookie (or with an empty one) there is nothing to refresh.
    refresh_by_cookie(&app, "other=1", &[(CSRF, "1")])
        .await
        .problem(401);
    refresh_by_cookie(&app, "growdesk_refresh=", &[(CSRF, "1")])
        .await
        .problem(401);
    // A token in the body is used as before, whatever cookie comes with it.
    let body_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header(COOKIE, &next)
        .json(&json!({"refresh_token": body_token["refresh_token"]}))
        .send()
        .await
        .unwrap();
    let by_body = TestApp::reply(response).await.expect(200);
    assert!(by_body.body["refresh_token"].is_string());
    assert!(by_body.headers.get(SET_COOKIE).is_none());
}

async fn a_replayed_cookie_ends_the_session_and_sign_out_removes_it(kind: BackendKind) {
    // No grace window: the replay below comes at once (see refresh.rs for the window).
    let app = spawn_app_with(kind, |settings| settings.refresh_reuse_grace_secs = 0).await;
    let first = pair(&set_cookie(&browser_sign_in(&app, "127.0.0.1").await));
    let second = refresh_by_cookie(&app, &first, &[(CSRF, "1")])
        .await
        .expect(200);
    let current = pair(&set_cookie(&second));
    refresh_by_cookie(&app, &first, &[(CSRF, "1")])
        .await
        .problem(401);
    refresh_by_cookie(&app, &current, &[(CSRF, "1")])
        .await
        .problem(401);
    app.get("/api/auth/me", &access(&second.body))
        .await
        .problem(401);

    let signed_in = browser_sign_in(&app, "127.0.0.1").await;
    let cookie = pair(&set_cookie(&signed_in));
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .header(HOST, "127.0.0.1")
        .bearer_auth(access(&signed_in.body))
        .send()
        .await
        .unwrap();
    let signed_out = TestApp::reply(response).await.expect(204);
    assert_eq!(
        set_cookie(&signed_out),
        "growdesk_refresh=; Max-Age=0; Path=/api/auth/refresh; HttpOnly; SameSite=Strict"
    );
    refresh_by_cookie(&app, &cookie, &[(CSRF, "1")])
        .await
        .problem(401);
}
