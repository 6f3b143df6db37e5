//! A pool held empty: requests that need the database answer 503 quickly while health stays
//! up.

use std::time::{Duration, Instant};

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_with;

on_both_backends!(an_exhausted_pool_answers_503_quickly_and_health_stays_up);

/// A lock held from outside blocks every ticket write, so the two pooled connections are soon
/// all waiting: further requests get 503 problem+json once the deadline passes — not a hang —
/// liveness answers without waiting for the pool, and the first request after the lock goes
/// succeeds. The bounds are the deadline and twice it: wide for a loaded machine, and still
/// what a hang (the lock is held until every request has answered) or a wait for the pool
/// could not meet.
async fn an_exhausted_pool_answers_503_quickly_and_health_stays_up(kind: BackendKind) {
    let deadline = Duration::from_secs(5);
    let app = spawn_app_with(kind, |settings| {
        settings.db_max_connections = 2;
        settings.db_timeout_secs = deadline.as_secs();
    })
    .await;
    let token = app.admin_token().await;
    let ticket = json!({"subject": "pool", "description": "one more"});
    app.post("/api/tickets", Some(&token), ticket.clone())
        .await
        .expect(201);

    let lock = hold_write_lock(kind, app.database_url()).await;
    let started = Instant::now();
    let requests = (0..12).map(|_| {
        let (client, url, token, ticket) = (
            app.client.clone(),
            app.url("/api/tickets"),
            token.clone(),
            ticket.clone(),
        );
        tokio::spawn(async move {
            let sent = Instant::now();
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&ticket)
                .send()
                .await
                .unwrap();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (response.status().as_u16(), content_type, sent.elapsed())
        })
    });
    let requests: Vec<_> = requests.collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probe_started = Instant::now();
    app.call(Method::GET, "/api/health", None, None)
        .await
        .expect(200);
    let probe_took = probe_started.elapsed();

    let mut slowest = Duration::ZERO;
    for request in requests {
        let (status, content_type, took) = request.await.unwrap();
        assert_eq!(status, 503, "a blocked request answered {status}");
        assert_eq!(content_type, "application/problem+json");
        slowest = slowest.max(took);
    }
    assert!(slowest < deadline * 2, "a blocked request took {slowest:?}");
    assert!(probe_took < deadline, "liveness took {probe_took:?}");
    drop(lock);
    app.post("/api/tickets", Some(&token), ticket)
        .await
        .expect(201);
    eprintln!(
        "{kind:?}: pool of 2 held by a lock; 12 writers all got 503 problem+json, slowest {slowest:?} \
         (deadline {deadline:?}, started {:?} ago); liveness answered in {probe_took:?}",
        started.elapsed()
    );
}

/// A connection outside the server holding the lock every ticket write needs, until dropped.
async fn hold_write_lock(kind: BackendKind, url: &str) -> Box<dyn std::any::Any> {
    use sqlx::Connection;
    match kind {
        BackendKind::Postgres => {
            let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
            sqlx::query("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
                .execute(&mut connection)
                .await
                .unwrap();
            Box::new(connection)
        }
        BackendKind::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut connection)
                .await
                .unwrap();
            Box::new(connection)
        }
    }
}
