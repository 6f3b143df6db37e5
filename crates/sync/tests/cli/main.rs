//! The `growdesk-sync` binary: its help and its `migrate` command on both backends, then each
//! command's scenarios, one module per importer and job (one test binary for the crate, so the
//! suite links once).

mod backup;
mod credentials;
mod csv_import;
mod email;
mod freshdesk;
mod hostile_files;
mod progress;
mod scheduler;
mod support;
mod transfer;
mod webhook_delivery;
mod zendesk;

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;

use support::growdesk_sync;

#[test]
fn help_lists_the_commands() {
    let output = growdesk_sync().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("migrate"), "{help}");
    assert!(help.contains("--database-url"), "{help}");
}

async fn migrate_creates_the_schema(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        growdesk_sync()
            .current_dir(dir.path())
            .env_clear()
            .env("GROWDESK_DATABASE_URL", database.url())
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = run();
    assert!(again.status.success(), "migrating twice is harmless");

    let count: i64 = match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
            let count = sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            count
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(database.url()).await.unwrap();
            sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count, 0, "the schema exists and migrate creates no users");
}

#[tokio::test]
async fn migrate_on_sqlite() {
    migrate_creates_the_schema(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn migrate_on_postgres() {
    migrate_creates_the_schema(BackendKind::Postgres).await;
}

#[test]
fn an_unknown_scheme_is_a_clear_error() {
    let output = growdesk_sync()
        .env_clear()
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported database URL scheme"),
        "{stderr}"
    );
}
