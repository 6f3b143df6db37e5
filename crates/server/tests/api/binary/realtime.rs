//! Two server processes on one database: a change made through one reaches the other's sockets.

use serde_json::json;

use super::{Server, next_text, root_token};

/// Two server processes on one database: a change made through one reaches a socket on the
/// other (PostgreSQL: NOTIFY; SQLite: the relay's poll of the shared file). Only the relay
/// carries it there, so its arrival is the property; how fast is the bench's to measure.
async fn two_processes_share_realtime(kind: growdesk_store::BackendKind) {
    let database = growdesk_store::testkit::TestDatabase::create(kind).await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let start = |dir: &tempfile::TempDir| {
        let data = dir.path().join("data").display().to_string();
        Server::start(
            dir.path(),
            &[
                ("GROWDESK_DATABASE_URL", database.url()),
                ("GROWDESK_DATA_DIR", &data),
                (
                    "GROWDESK_JWT_SECRET",
                    "a-secret-both-instances-share-0123456789",
                ),
                ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
                ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
                ("GROWDESK_REALTIME_POLL_MS", "200"),
            ],
        )
    };
    let first = start(&dirs[0]);
    let second = start(&dirs[1]);

    let client = reqwest::Client::new();
    let token = root_token(&client, &first.base).await;
    let url = format!(
        "{}/api/ws?access_token={token}",
        second.base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "ready");
    let created = client
        .post(format!("{}/api/tickets", first.base))
        .bearer_auth(&token)
        .json(&json!({"subject": "Across processes", "description": "d"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let frame = next_text(&mut socket).await;
    assert_eq!(frame["event"]["kind"], "created");
    drop(socket);
    for server in [first, second] {
        let (status, logs) = server.terminate();
        assert!(status.success(), "{logs}");
    }
}

#[tokio::test]
async fn two_processes_on_postgres_share_realtime() {
    two_processes_share_realtime(growdesk_store::BackendKind::Postgres).await;
}

#[tokio::test]
async fn two_processes_on_sqlite_share_realtime() {
    two_processes_share_realtime(growdesk_store::BackendKind::Sqlite).await;
}
