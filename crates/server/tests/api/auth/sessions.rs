//! Sessions and tokens: refresh rotation and reuse, sign-out, revocation reaching every
//! instance, password changes ending other sessions, and forged or expired tokens.

use std::time::{Duration, Instant};

use growdesk_store::BackendKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, access, refresh, spawn_app, spawn_app_with,
    spawn_second_instance,
};

on_both_backends!(
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_only_that_session,
    sign_out_and_demotion_reach_every_instance,
    password_change_needs_the_current_one_and_ends_other_sessions,
    forged_and_expired_tokens_are_refused,
);

/// How long an instance trusts a session it read without reading it again
/// (`growdesk_store::principals`).
const SESSION_CACHE_LIFETIME: Duration = Duration::from_secs(10);

async fn refresh_rotates_and_reuse_revokes_the_session(kind: BackendKind) {
    // No grace window: the replay below comes at once, which a window would take for a
    // concurrent duplicate (see refresh.rs).
    let app = spawn_app_with(kind, |settings| settings.refresh_reuse_grace_secs = 0).await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refresh(&first)}),
        )
        .await
        .expect(200)
        .body;
    assert_ne!(refresh(&second), refresh(&first));
    assert_eq!(second["user"]["email"], ADMIN_EMAIL);
    app.get("/api/auth/me", &access(&second)).await.expect(200);

    // Replaying the spent token revokes the whole session: the newer tokens die with it.
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&first)}),
    )
    .await
    .problem(401);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&second)}),
    )
    .await
    .problem(401);
    app.get("/api/auth/me", &access(&second)).await.problem(401);

    for garbage in ["", " ", "x", &"A".repeat(43), &access(&first)] {
        app.post("/api/auth/refresh", None, json!({"refresh_token": garbage}))
            .await
            .problem(401);
    }
    // Another session is untouched.
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&other)}),
    )
    .await
    .expect(200);
}

async fn logout_ends_only_that_session(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let laptop = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let phone = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.call(
        Method::POST,
        "/api/auth/logout",
        Some(&access(&laptop)),
        None,
    )
    .await
    .expect(204);
    app.get("/api/auth/me", &access(&laptop)).await.problem(401);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&laptop)}),
    )
    .await
    .problem(401);
    app.get("/api/auth/me", &access(&phone)).await.expect(200);
    app.call(Method::POST, "/api/auth/logout", None, None)
        .await
        .problem(401);
}

/// Each instance keeps the sessions it checked; what another instance revokes reaches it
/// through the relay, before its cache would read them again (10 s after it first read them).
async fn sign_out_and_demotion_reach_every_instance(kind: BackendKind) {
    let first = spawn_app(kind).await;
    let second = spawn_second_instance(&first).await;
    let admin = first.admin_token().await;
    let (agent, agent_user) = first.user_token("agent@example.com", "agent").await;
    let leaving = access(&first.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
    // The second instance caches both sessions from now on; a refusal seen before the cache's
    // lifetime has passed since can only be the relay's doing, however slow the machine.
    let cached = Instant::now();
    for token in [&agent, &leaving] {
        second.get("/api/tickets", token).await.expect(200);
    }

    first
        .call(Method::POST, "/api/auth/logout", Some(&leaving), None)
        .await
        .expect(204);
    first
        .patch(
            &format!("/api/users/{}", agent_user["id"].as_str().unwrap()),
            &admin,
            json!({"role": "customer"}),
        )
        .await
        .expect(200);
    for token in [&leaving, &agent] {
        while second.get("/api/tickets", token).await.status != 401 {
            assert!(
                cached.elapsed() < SESSION_CACHE_LIFETIME,
                "the other instance still takes the token"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    second.get("/api/tickets", &admin).await.expect(200);
}

async fn password_change_needs_the_current_one_and_ends_other_sessions(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let here = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let elsewhere = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = access(&here);

    let renamed = app
        .patch("/api/auth/me", &token, json!({"name": "  Root  "}))
        .await
        .expect(200)
        .body;
    assert_eq!(renamed["name"], "Root");

    let missing = app
        .patch(
            "/api/auth/me",
            &token,
            json!({"password": "new-password-1"}),
        )
        .await
        .problem(422);
    assert_eq!(missing["errors"][0]["field"], "current_password");
    let wrong = json!({"password": "new-password-1", "current_password": "not-it-at-all"});
    let wrong = app.patch("/api/auth/me", &token, wrong).await.problem(422);
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    let short = json!({"password": "short", "current_password": ADMIN_PASSWORD});
    app.patch("/api/auth/me", &token, short).await.problem(422);
    let role = json!({"role": "customer"});
    app.patch("/api/auth/me", &token, role).await.problem(422);

    let change = json!({"password": "new-password-1", "current_password": ADMIN_PASSWORD});
    app.patch("/api/auth/me", &token, change).await.expect(200);
    app.get("/api/auth/me", &token).await.expect(200);
    app.get("/api/auth/me", &access(&elsewhere))
        .await
        .problem(401);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&elsewhere)}),
    )
    .await
    .problem(401);
    app.post(
        "/api/auth/login",
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await
    .problem(401);
    app.login(ADMIN_EMAIL, "new-password-1").await;
}

async fn forged_and_expired_tokens_are_refused(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let genuine = access(&tokens);
    app.get("/api/auth/me", &genuine).await.expect(200);
    let claims: serde_json::Value = {
        use base64::Engine as _;
        let payload = genuine.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sign = |claims: &serde_json::Value, key: &[u8], typ: Option<&str>| {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let with = |field: &str, value: serde_json::Value| {
        let mut changed = claims.clone();
        changed[field] = value;
        changed
    };
    // Re-signed with the real key and type, the genuine claims still pass: the refusals below
    // are about the one thing each case changes.
    app.get(
        "/api/auth/me",
        &sign(&claims, JWT_SECRET.as_bytes(), Some("at+jwt")),
    )
    .await
    .expect(200);
    let forged = [
        (
            "wrong key",
            sign(
                &claims,
                b"another-key-another-key-another-key!",
                Some("at+jwt"),
            ),
        ),
        (
            "wrong audience",
            sign(
                &with("aud", json!("growdesk-widget")),
                JWT_SECRET.as_bytes(),
                Some("at+jwt"),
            ),
        ),
        (
            "wrong issuer",
            sign(
                &with("iss", json!("someone-else")),
                JWT_SECRET.as_bytes(),
                Some("at+jwt"),
            ),
        ),
        (
            "expired",
            sign(
                &with("exp", json!(now - 60)),
                JWT_SECRET.as_bytes(),
                Some("at+jwt"),
            ),
        ),
        ("no type", sign(&claims, JWT_SECRET.as_bytes(), None)),
        (
            "old token version",
            sign(
                &with("ver", json!(-1)),
                JWT_SECRET.as_bytes(),
                Some("at+jwt"),
            ),
        ),
        (
            "unknown session",
            sign(
                &with("sid", json!(uuid::Uuid::now_v7())),
                JWT_SECRET.as_bytes(),
                Some("at+jwt"),
            ),
        ),
        ("alg none", {
            use base64::Engine as _;
            let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let header = engine.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
            let payload = engine.encode(claims.to_string());
            format!("{header}.{payload}.")
        }),
        ("tampered role", {
            let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
            use base64::Engine as _;
            let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            parts[1] = engine.encode(with("role", json!("customer")).to_string());
            parts.join(".")
        }),
    ];
    for (case, token) in forged {
        let reply = app.get("/api/auth/me", &token).await;
        assert_eq!(reply.status.as_u16(), 401, "{case} was accepted");
    }
}
