//! Liveness, readiness and metrics.

use growdesk_store::BackendKind;
use reqwest::Method;

use crate::helpers::{spawn_app, spawn_app_with};

on_both_backends!(
    health_readiness_and_metrics_answer,
    graceful_stop_finishes_cleanly
);

async fn health_readiness_and_metrics_answer(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let health = app
        .call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);
    assert_eq!(health.body["status"], "ok");
    let ready = app
        .call(Method::GET, "/api/ready", None, None)
        .await
        .expect(200);
    assert_eq!(ready.body["database"], kind.as_str());

    app.call(Method::GET, "/api/nope", None, None)
        .await
        .expect(404);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            "growdesk_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\""),
        "{text}"
    );
    assert!(
        text.contains("growdesk_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("growdesk_db_pool_connections{state=\"open\"}"),
        "{text}"
    );
}

async fn graceful_stop_finishes_cleanly(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let base = app.base.clone();
    app.stop().await;
    assert!(
        reqwest::get(format!("{base}/api/health")).await.is_err(),
        "no longer accepting"
    );
}

/// PostgreSQL going away: readiness turns 503 (problem+json) while liveness stays 200.
#[tokio::test]
async fn postgres_outage_makes_readiness_fail_and_health_stay_up() {
    // The server's own deadline: a request that needs the dropped database gives up after it.
    let app = spawn_app_with(BackendKind::Postgres, |settings| {
        settings.db_timeout_secs = 3
    })
    .await;
    app.call(Method::GET, "/api/ready", None, None)
        .await
        .expect(200);
    let admin_url = std::env::var(growdesk_store::testkit::POSTGRES_URL_VAR).unwrap();
    let database = app.database_url().rsplit('/').next().unwrap().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{database}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();

    // Readiness gives up after its own 2 s; the bound is wide for a loaded machine and still
    // tells that deadline from a wait on a database that will never answer.
    let started = std::time::Instant::now();
    let ready = app.call(Method::GET, "/api/ready", None, None).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answered within 10 s"
    );
    ready.problem(503);
    app.call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);
    let login = app
        .post(
            "/api/auth/login",
            None,
            serde_json::json!({"email": "a@example.com", "password": "password-1"}),
        )
        .await;
    login.problem(503);
}
