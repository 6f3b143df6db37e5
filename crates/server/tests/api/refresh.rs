//! Refresh tokens exchanged by several requests at once (tabs of one browser): one exchange
//! wins, the duplicates get 409 and the session lives on; a replay after the grace window still
//! revokes the session.

use std::time::Duration;

use futures_util::future::join_all;
use growdesk_store::BackendKind;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, access, refresh, spawn_app_with};

on_both_backends!(
    parallel_refreshes_of_one_token_keep_the_session,
    a_replay_after_the_grace_window_revokes_the_session,
);

/// Exchanges of one refresh token sent at once.
const PARALLEL: usize = 10;

async fn parallel_refreshes_of_one_token_keep_the_session(kind: BackendKind) {
    // A window far longer than ten requests take on the slowest machine: every duplicate is in it.
    let app = spawn_app_with(kind, |settings| {
        settings.refresh_reuse_grace_secs = 120;
        settings.auth_attempts_per_ip_per_minute = 1_000;
    })
    .await;
    let signed_in = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let shared = json!({"refresh_token": refresh(&signed_in)});
    let replies =
        join_all((0..PARALLEL).map(|_| app.post("/api/auth/refresh", None, shared.clone()))).await;
    let (winners, duplicates): (Vec<_>, Vec<_>) =
        replies.into_iter().partition(|reply| reply.status == 200);
    assert_eq!(winners.len(), 1, "exactly one exchange wins");
    for duplicate in duplicates {
        let problem = duplicate.problem(409);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("use the tokens"),
            "{problem}"
        );
    }

    let winner = &winners[0].body;
    app.get("/api/auth/me", &access(winner)).await.expect(200);
    app.get("/api/auth/me", &access(&signed_in))
        .await
        .expect(200);
    let next = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refresh(winner)}),
        )
        .await
        .expect(200)
        .body;
    app.get("/api/auth/me", &access(&next)).await.expect(200);

    // Once the session is signed out, a spent token is refused even inside the window.
    app.call(
        reqwest::Method::POST,
        "/api/auth/logout",
        Some(&access(&next)),
        None,
    )
    .await
    .expect(204);
    app.post("/api/auth/refresh", None, shared)
        .await
        .problem(401);
}

async fn a_replay_after_the_grace_window_revokes_the_session(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.refresh_reuse_grace_secs = 1).await;
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
    // Past the one-second window whatever the clock's resolution.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
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
}
