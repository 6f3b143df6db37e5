//! Sign-up, sign-in and the caller's own account; sessions and tokens in the module below.

mod cookies;
mod sessions;

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, access, spawn_app, spawn_app_with};

on_both_backends!(
    admin_signs_in_and_reads_me,
    customers_register_and_sign_in,
    registration_can_be_switched_off,
    wrong_password_and_unknown_email_get_the_same_answer,
    sign_in_is_rate_limited_per_account_and_per_ip,
    stored_password_hashes_are_argon2id,
);

async fn admin_signs_in_and_reads_me(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["user"]["role"], "admin");
    assert_eq!(tokens["user"]["email"], ADMIN_EMAIL);
    assert!(tokens["user"].get("password_hash").is_none());

    let me = app
        .get("/api/auth/me", &access(&tokens))
        .await
        .expect(200)
        .body;
    assert_eq!(me["id"], tokens["user"]["id"]);
    let keys: Vec<&String> = me.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "active",
            "created_at",
            "email",
            "id",
            "name",
            "notify_new_tickets",
            "role",
            "updated_at"
        ]
    );

    let anonymous = app.call(Method::GET, "/api/auth/me", None, None).await;
    assert_eq!(
        anonymous.headers["www-authenticate"],
        "Bearer realm=\"growdesk\""
    );
    anonymous.problem(401);
    app.call(Method::GET, "/api/auth/me", Some("not-a-jwt"), None)
        .await
        .problem(401);
}

async fn customers_register_and_sign_in(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let body = json!({"email": "Ana@Example.com", "password": "ana-password", "name": "Ana"});
    let tokens = app
        .post("/api/auth/register", None, body)
        .await
        .expect(201)
        .body;
    assert_eq!(tokens["user"]["role"], "customer");
    assert_eq!(tokens["user"]["email"], "ana@example.com");
    assert_eq!(tokens["user"]["name"], "Ana");
    app.get("/api/auth/me", &access(&tokens)).await.expect(200);

    let again = json!({"email": "ANA@example.COM", "password": "another-password"});
    app.post("/api/auth/register", None, again)
        .await
        .problem(409);
    let signed_in = app.login("aNa@example.com", "ana-password").await;
    assert_eq!(signed_in["user"]["id"], tokens["user"]["id"]);

    let bad = json!({"email": "not-an-email", "password": "short"});
    let problem = app.post("/api/auth/register", None, bad).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);

    // Mass assignment: a customer cannot make themselves an admin.
    let sneaky = json!({"email": "eve@example.com", "password": "eve-password", "role": "admin"});
    let problem = app
        .post("/api/auth/register", None, sneaky)
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "role");
    app.post(
        "/api/auth/login",
        None,
        json!({"email": "eve@example.com", "password": "eve-password"}),
    )
    .await
    .problem(401);

    let unnamed = json!({"email": "bo.b@example.com", "password": "bob-password"});
    let tokens = app
        .post("/api/auth/register", None, unnamed)
        .await
        .expect(201)
        .body;
    assert_eq!(tokens["user"]["name"], "bo.b");
}

async fn registration_can_be_switched_off(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.allow_registration = false).await;
    let body = json!({"email": "ana@example.com", "password": "ana-password"});
    app.post("/api/auth/register", None, body)
        .await
        .problem(403);
    app.post(
        "/api/auth/login",
        None,
        json!({"email": "ana@example.com", "password": "ana-password"}),
    )
    .await
    .problem(401);
}

async fn wrong_password_and_unknown_email_get_the_same_answer(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let wrong = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "wrong-password"}),
        )
        .await
        .problem(401);
    let unknown = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": "nobody@example.com", "password": "wrong-password"}),
        )
        .await
        .problem(401);
    assert_eq!(wrong, unknown);

    let (_, user) = app.user_token("gone@example.com", "agent").await;
    let admin = app.admin_token().await;
    app.delete(
        &format!("/api/users/{}", user["id"].as_str().unwrap()),
        &admin,
    )
    .await
    .expect(200);
    let deactivated = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": "gone@example.com", "password": "user-password-1"}),
        )
        .await
        .problem(401);
    assert_eq!(deactivated, wrong);
}

async fn sign_in_is_rate_limited_per_account_and_per_ip(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.login_attempts_per_account_per_minute = 3;
        settings.auth_attempts_per_ip_per_minute = 7;
    })
    .await;
    let attempt = json!({"email": ADMIN_EMAIL, "password": "guessing-1"});
    // A parallel burst cannot slip past the counter.
    let burst = (0..5).map(|_| app.post("/api/auth/login", None, attempt.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|reply| reply.status.as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );

    let limited = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    limited.problem(429);

    // Six attempts so far: the address has one left of seven; then every account is refused.
    app.post(
        "/api/auth/login",
        None,
        json!({"email": "other@example.com", "password": "guessing-2"}),
    )
    .await
    .problem(401);
    app.post(
        "/api/auth/login",
        None,
        json!({"email": "third@example.com", "password": "guessing-3"}),
    )
    .await
    .problem(429);
}

async fn stored_password_hashes_are_argon2id(kind: BackendKind) {
    let app = spawn_app(kind).await;
    app.post(
        "/api/auth/register",
        None,
        json!({"email": "cy@example.com", "password": "cy-password"}),
    )
    .await
    .expect(201);
    let hashes: Vec<String> = match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            let hashes = sqlx::query_scalar("SELECT password_hash FROM users")
                .fetch_all(&pool)
                .await
                .unwrap();
            pool.close().await;
            hashes
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            sqlx::query_scalar("SELECT password_hash FROM users")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(hashes.len(), 2);
    for hash in hashes {
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("cy-password") && !hash.contains(ADMIN_PASSWORD));
    }
}
