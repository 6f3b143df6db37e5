//! Files an import or export meets that are not what they seem: a directory named like a
//! file, a link planted where the export goes, lines and fields of any length, and a source
//! that never stops answering 429.

use std::fs::File;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use serde_json::{Value, json};

use crate::support::{growdesk_sync, mode, serve_on_loopback, text};

/// A Zendesk import from the source at `base`.
fn import_zendesk_from(database: &TestDatabase, dir: &Path, base: &str) -> Output {
    let args = [
        "import",
        "zendesk",
        "--url",
        base,
        "--email",
        "a@example.com",
        "--token",
        "t",
    ];
    sync(database, dir, &args)
}

/// Far longer than any of these runs takes; a run still going then is stuck in a loop.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs the binary with its output in files under `dir` (a pipe left unread could stall
/// it); a run that outlasts `PATIENCE` is killed and fails the test.
fn sync(database: &TestDatabase, dir: &Path, args: &[&str]) -> Output {
    let stdout = dir.join("stdout");
    let stderr = dir.join("stderr");
    let mut child = growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(database.url())
        .args(args)
        .stdout(Stdio::from(File::create(&stdout).unwrap()))
        .stderr(Stdio::from(File::create(&stderr).unwrap()))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PATIENCE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} still running after {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(stdout).unwrap(),
        stderr: std::fs::read(stderr).unwrap(),
    }
}

async fn migrated(kind: BackendKind, dir: &Path) -> TestDatabase {
    let database = TestDatabase::create(kind).await;
    let migrate = sync(&database, dir, &["migrate"]);
    assert!(migrate.status.success());
    database
}

async fn directories_named_like_files_end_the_import(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let database = migrated(kind, dir.path()).await;
    let export = dir.path().join("export.jsonl");
    let spreadsheet = dir.path().join("tickets.csv");
    let zendesk = dir.path().join("zendesk");
    let freshdesk = dir.path().join("freshdesk");
    for directory in [
        export.clone(),
        spreadsheet.clone(),
        zendesk.join("users1.json"),
        freshdesk.join("contacts1.json"),
    ] {
        std::fs::create_dir_all(directory).unwrap();
    }
    for args in [
        vec!["import", "json", text(&export)],
        vec![
            "import",
            "csv",
            text(&spreadsheet),
            "--default-email",
            "a@example.com",
        ],
        vec!["import", "zendesk", text(&zendesk)],
        vec!["import", "freshdesk", text(&freshdesk)],
    ] {
        let run = sync(&database, dir.path(), &args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Is a directory"), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn directories_named_like_files_end_the_import_on_sqlite() {
    directories_named_like_files_end_the_import(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn directories_named_like_files_end_the_import_on_postgres() {
    directories_named_like_files_end_the_import(BackendKind::Postgres).await;
}

async fn written_files_replace_links_and_are_owner_only(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let database = migrated(kind, dir.path()).await;
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let linked = dir.path().join("linked.jsonl");
    symlink(&victim, &linked).unwrap();
    let export = sync(&database, dir.path(), &["export", text(&linked)]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!std::fs::symlink_metadata(&linked).unwrap().is_symlink());
    assert_eq!(mode(&linked), 0o600);
    assert!(
        std::fs::read_to_string(&linked)
            .unwrap()
            .contains("growdesk-export")
    );

    let open = dir.path().join("open.jsonl");
    std::fs::write(&open, "old").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let export = sync(&database, dir.path(), &["export", text(&open)]);
    assert!(export.status.success());
    assert_eq!(mode(&open), 0o600, "a world-readable file is not reused");

    let report = dir.path().join("report.json");
    symlink(&victim, &report).unwrap();
    let import = sync(
        &database,
        dir.path(),
        &["import", "json", text(&open), "--report", text(&report)],
    );
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(mode(&report), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn written_files_replace_links_and_are_owner_only_on_sqlite() {
    written_files_replace_links_and_are_owner_only(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn written_files_replace_links_and_are_owner_only_on_postgres() {
    written_files_replace_links_and_are_owner_only(BackendKind::Postgres).await;
}

#[test]
fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data").join("growdesk.db");
    let migrate = growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(format!("sqlite://{}", file.display()))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path),
            0o600,
            "{} holds password hashes",
            path.display()
        );
    }
}

/// The refusals in the report at `file`, as `(position, reason)`.
fn refusals(file: &Path) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|refused| {
            (
                refused["position"].as_str().unwrap().to_owned(),
                refused["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn overlong_records_are_refused_by_position(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let database = migrated(kind, dir.path()).await;
    // Past both limits: 32 MiB for a line of GrowDesk's export, 8 MiB for a CSV row.
    let huge = "x".repeat(33 * 1024 * 1024);
    let header = json!({"kind": "header", "format": "growdesk-export", "version": 1, "exported_at": "2024-01-02T03:04:05Z"});
    let user = |email: &str, name: &str| json!({"kind": "user", "id": uuid::Uuid::now_v7(), "email": email, "name": name, "role": "customer", "active": true, "password_hash": null, "created_at": "2024-01-02T03:04:05Z"});
    let export = dir.path().join("huge.jsonl");
    std::fs::write(
        &export,
        [
            header.to_string(),
            user("long@example.com", &huge).to_string(),
            user("fine@example.com", "Fine").to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    let spreadsheet = dir.path().join("huge.csv");
    std::fs::write(
        &spreadsheet,
        format!("subject,body,email\nLong,\"{huge}\",a@example.com\nFine,Hello,b@example.com\n"),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    for args in [
        vec!["import", "json", text(&export)],
        vec!["import", "csv", text(&spreadsheet)],
    ] {
        let mut args = args;
        args.extend(["--report", text(&report)]);
        let run = sync(&database, dir.path(), &args);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let refused = refusals(&report);
        assert_eq!(refused.len(), 1, "{args:?}: {refused:?}");
        assert_eq!(refused[0].0, "line 2", "{args:?}");
        assert!(refused[0].1.contains("MiB"), "{args:?}: {refused:?}");
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert!(
            report["created"].as_u64().unwrap() >= 1,
            "the next record goes in"
        );
    }
}

#[tokio::test]
async fn overlong_records_are_refused_by_position_on_sqlite() {
    overlong_records_are_refused_by_position(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn overlong_records_are_refused_by_position_on_postgres() {
    overlong_records_are_refused_by_position(BackendKind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_always_answers_429_ends_the_import() {
    let always_busy = || async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "0")]) };
    let base = serve_on_loopback(axum::Router::new().fallback(always_busy)).await;
    let dir = tempfile::tempdir().unwrap();
    let database = migrated(BackendKind::Sqlite, dir.path()).await;
    let run = import_zendesk_from(&database, dir.path(), &base);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("429"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_page_on_another_host_gets_no_request_and_no_credentials() {
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reached.clone();
    let count = move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { axum::Json(json!({"users": []})) }
    };
    let elsewhere_url = serve_on_loopback(axum::Router::new().fallback(count)).await;
    let next = format!("{elsewhere_url}/latest/meta-data");
    let first_page = move || {
        let next = next.clone();
        async move { axum::Json(json!({"users": [], "next_page": next})) }
    };
    let base = serve_on_loopback(axum::Router::new().fallback(first_page)).await;
    let dir = tempfile::tempdir().unwrap();
    let database = migrated(BackendKind::Sqlite, dir.path()).await;
    let run = import_zendesk_from(&database, dir.path(), &base);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not on"), "{stderr}");
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
}
