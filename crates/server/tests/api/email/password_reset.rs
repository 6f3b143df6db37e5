//! "Forgot password": one answer for every address, a mailed link that works once and ends
//! every session, links that expire, and a rate limit.

use growdesk_domain::MailKind;
use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::{mail_side, mailbox};
use crate::helpers::{TestApp, access, refresh, spawn_app, spawn_app_with};

on_both_backends!(
    a_reset_link_works_once_and_ends_every_session,
    every_address_gets_the_same_answer,
    expired_reset_links_are_refused,
    reset_requests_are_rate_limited,
    reset_confirmations_are_rate_limited_per_client_address,
);

const CUSTOMER: &str = "cy@example.com";
const OLD_PASSWORD: &str = "old-customer-password-1";
const NEW_PASSWORD: &str = "new-customer-password-2";

/// A customer who can sign in, and a mailbox to send from.
async fn desk(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    mailbox(app, &admin, "support@example.test").await;
    app.post(
        "/api/users",
        Some(&admin),
        json!({"email": CUSTOMER, "role": "customer", "password": OLD_PASSWORD}),
    )
    .await
    .expect(201);
    app.login(CUSTOMER, OLD_PASSWORD).await
}

/// The token of the reset link in a mail's text.
fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("the mail has the link") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

async fn ask(app: &TestApp, email: &str) -> crate::helpers::Reply {
    app.post("/api/auth/password-reset", None, json!({"email": email}))
        .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> crate::helpers::Reply {
    app.post(
        "/api/auth/password-reset/confirm",
        None,
        json!({"token": token, "password": password}),
    )
    .await
}

async fn a_reset_link_works_once_and_ends_every_session(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let session = desk(&app).await;
    let mail = mail_side(&app).await;
    assert!(mail.outbox().await.is_empty());

    ask(&app, CUSTOMER).await.expect(202);
    let outbox = mail.outbox().await;
    assert_eq!(outbox.len(), 1, "one mail: {outbox:?}");
    let reset = &outbox[0];
    assert_eq!(reset.mail.kind, MailKind::PasswordReset);
    assert_eq!(reset.mail.recipient, CUSTOMER);
    assert_eq!(reset.mail.ticket_id, None);
    let token = token_in(&reset.mail.text_body);
    assert!(token.len() >= 40, "32 random bytes: {token}");
    assert!(reset.mail.text_body.contains("/reset-password?token="));
    assert!(
        reset
            .mail
            .html_body
            .as_deref()
            .is_some_and(|html| html.contains(&token)),
        "the HTML has the link too"
    );

    // A password the rules refuse leaves the link usable.
    confirm(&app, &token, "short").await.problem(422);
    confirm(&app, &token, NEW_PASSWORD).await.expect(204);
    let problem = confirm(&app, &token, "third-customer-password-3")
        .await
        .problem(400);
    assert_eq!(problem["detail"], "the link is invalid or has expired");
    confirm(&app, "not-a-token-we-sent", NEW_PASSWORD)
        .await
        .problem(400);

    // Every session ended: the old refresh token and access token stop working.
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&session)}),
    )
    .await
    .problem(401);
    app.get("/api/auth/me", &access(&session))
        .await
        .problem(401);
    app.post(
        "/api/auth/login",
        None,
        json!({"email": CUSTOMER, "password": OLD_PASSWORD}),
    )
    .await
    .problem(401);
    let signed_in = app.login(CUSTOMER, NEW_PASSWORD).await;
    app.get("/api/auth/me", &access(&signed_in))
        .await
        .expect(200);
}

async fn every_address_gets_the_same_answer(kind: BackendKind) {
    let app = spawn_app(kind).await;
    desk(&app).await;
    let mail = mail_side(&app).await;
    let known = ask(&app, CUSTOMER).await.expect(202);
    let unknown = ask(&app, "nobody@example.com").await.expect(202);
    assert_eq!(known.body, unknown.body);
    let shape = |reply: &crate::helpers::Reply| {
        let mut names: Vec<String> = reply
            .headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .filter(|name| !matches!(name.as_str(), "date" | "x-request-id"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(shape(&known), shape(&unknown));
    let admin = app.admin_token().await;
    let users = app
        .get("/api/users?limit=100", &admin)
        .await
        .expect(200)
        .body;
    assert!(
        !users.to_string().contains("nobody@example.com"),
        "no account is made for an unknown address"
    );
    let outbox = mail.outbox().await;
    assert_eq!(outbox.len(), 1, "only the known address is mailed");
    assert_eq!(outbox[0].mail.recipient, CUSTOMER);

    // A deactivated account is answered alike and mailed nothing.
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["email"] == CUSTOMER)
        .unwrap()
        .clone();
    app.call(
        Method::DELETE,
        &format!("/api/users/{}", user["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    let inactive = ask(&app, CUSTOMER).await.expect(202);
    assert_eq!(inactive.body, known.body);
    assert_eq!(mail.outbox().await.len(), 1);
}

async fn expired_reset_links_are_refused(kind: BackendKind) {
    let app = spawn_app(kind).await;
    desk(&app).await;
    let mail = mail_side(&app).await;
    ask(&app, CUSTOMER).await.expect(202);
    let token = token_in(&mail.outbox().await[0].mail.text_body);
    let expired = growdesk_store::Stamp::now().saturating_sub(std::time::Duration::from_secs(60));
    let sql = "UPDATE password_resets SET expires_at = $1";
    match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            sqlx::query(sql)
                .bind(expired.into_inner())
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            sqlx::query(sql).bind(expired).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
    confirm(&app, &token, NEW_PASSWORD).await.problem(400);
    app.login(CUSTOMER, OLD_PASSWORD).await;
}

async fn reset_requests_are_rate_limited(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.login_attempts_per_account_per_minute = 2;
    })
    .await;
    desk(&app).await;
    let mail = mail_side(&app).await;
    ask(&app, CUSTOMER).await.expect(202);
    ask(&app, CUSTOMER).await.expect(202);
    let limited = ask(&app, CUSTOMER).await;
    assert!(limited.headers.contains_key("retry-after"));
    let problem = limited.problem(429);
    assert_eq!(problem["type"], "urn:growdesk:problem:rate-limited");
    // The limit is the address's: another address is answered as before.
    ask(&app, "someone-else@example.com").await.expect(202);
    let sent = mail.outbox().await.len();
    assert!(
        (1..=2).contains(&sent),
        "{sent} mails for 2 accepted requests"
    );
}

async fn reset_confirmations_are_rate_limited_per_client_address(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 3;
    })
    .await;
    // Guessing tokens from one client: each wrong one is a 400, until the client's share runs
    // out, whatever the token.
    for guess in ["guess-1", "guess-2", "guess-3"] {
        confirm(&app, guess, NEW_PASSWORD).await.problem(400);
    }
    let limited = confirm(&app, "guess-4", NEW_PASSWORD).await;
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let problem = limited.problem(429);
    assert_eq!(problem["type"], "urn:growdesk:problem:rate-limited");
}
