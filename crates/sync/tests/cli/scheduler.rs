//! `growdesk-sync run`: resolved tickets close on time, SLA breaches are told once, expired
//! sessions and stale temporary files go, and two processes never run one job twice.

mod beside_a_writer;
mod fixtures;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use growdesk_domain::{Priority, Role, TicketStatus};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, PoolSettings, Stamp, Store, sessions::NewSession};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::support::{BINARY, fixture, growdesk_sync, store_of, succeeded};
use fixtures::{breach_kinds, first_ticket_priority, ticket, user};

fn run_once(
    database: &TestDatabase,
    data_dir: &std::path::Path,
    now: time::OffsetDateTime,
    holder: &str,
) -> Output {
    growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(database.url())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["run", "--once", "--holder", holder, "--now"])
        .arg(now.format(&Rfc3339).unwrap())
        .output()
        .unwrap()
}

async fn maintenance(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let data_dir = tempfile::tempdir().unwrap();
    let store = store_of(&database).await;
    let admin = user(&store, "admin@example.com", Role::Admin).await;
    let agent = user(&store, "agent@example.com", Role::Agent).await;
    let customer = user(&store, "cy@example.com", Role::Customer).await;
    let resolved = ticket(
        &store,
        customer,
        Priority::Medium,
        Some(agent),
        TicketStatus::Resolved,
    )
    .await;
    let urgent = ticket(
        &store,
        customer,
        Priority::Urgent,
        Some(agent),
        TicketStatus::Open,
    )
    .await;
    let unassigned = ticket(&store, customer, Priority::Low, None, TicketStatus::Open).await;
    let second_unassigned = ticket(&store, customer, Priority::Low, None, TicketStatus::Open).await;
    let start = time::OffsetDateTime::now_utc();
    store
        .sessions()
        .create(NewSession {
            id: Uuid::now_v7(),
            user_id: customer,
            expires_at: Stamp::from(start + time::Duration::days(30)),
            token_hash: vec![7; 32],
            token_expires_at: Stamp::from(start + time::Duration::days(30)),
        })
        .await
        .unwrap();
    let temp = data_dir.path().join("tmp");
    std::fs::create_dir_all(&temp).unwrap();
    std::fs::write(temp.join("upload.part"), b"half an upload").unwrap();

    // An hour and a half on: only the urgent ticket is late, for its first response (1 h).
    let early = succeeded(&run_once(
        &database,
        data_dir.path(),
        start + time::Duration::minutes(90),
        "a",
    ));
    assert!(early.contains("sla_breaches: {\"breaches\":1}"), "{early}");
    assert!(early.contains("auto_close: {\"closed\":0}"), "{early}");
    assert_eq!(
        breach_kinds(&store, agent).await,
        vec![(urgent, "first_response".to_owned())]
    );
    assert!(
        breach_kinds(&store, admin).await.is_empty(),
        "the assignee is told, not the admins"
    );
    assert!(
        std::fs::exists(temp.join("upload.part")).unwrap(),
        "a fresh temporary file stays"
    );

    // Eight days on.
    let later = start + time::Duration::days(8);
    let out = succeeded(&run_once(&database, data_dir.path(), later, "a"));
    assert!(out.contains("auto_close: {\"closed\":1}"), "{out}");
    assert!(out.contains("purge_expired:"), "{out}");
    assert!(out.contains("clean_temp: {\"files\":1}"), "{out}");
    let closed = store.tickets().get(resolved).await.unwrap().unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    let messages = store
        .messages()
        .list(resolved, false, None, 10)
        .await
        .unwrap();
    let last = messages.last().unwrap();
    assert!(last.body.contains("closed automatically"), "{}", last.body);
    assert_eq!(
        store.tickets().get(urgent).await.unwrap().unwrap().status,
        TicketStatus::Open,
        "open work is not closed"
    );
    assert_eq!(
        breach_kinds(&store, agent).await,
        {
            let mut expected = vec![
                (urgent, "first_response".to_owned()),
                (urgent, "resolution".to_owned()),
            ];
            expected.sort();
            expected
        },
        "each breach is told once"
    );
    let mut for_admins = vec![
        (unassigned, "first_response".to_owned()),
        (unassigned, "resolution".to_owned()),
        (second_unassigned, "first_response".to_owned()),
        (second_unassigned, "resolution".to_owned()),
    ];
    for_admins.sort();
    assert_eq!(
        breach_kinds(&store, admin).await,
        for_admins,
        "unassigned work is told to the admins"
    );
    assert!(
        !std::fs::exists(temp.join("upload.part")).unwrap(),
        "a day-old temporary file goes"
    );

    // Run again at once: nothing but what is due on every pass runs (fetching mail, in each
    // process, and sending webhooks and mail).
    let again = succeeded(&run_once(&database, data_dir.path(), later, "a"));
    let ran: Vec<&str> = again
        .lines()
        .filter_map(|line| line.split(':').next())
        .collect();
    assert_eq!(
        ran,
        ["fetch_mail", "deliver_webhooks", "send_mail"],
        "no other job is due yet"
    );
    // Later still, by two processes at once: each job runs exactly once, and re-runs tell nothing new.
    let forty_days = start + time::Duration::days(40);
    let spawn = |holder: &str| {
        growdesk_sync()
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["run", "--once", "--holder", holder, "--now"])
            .arg(forty_days.format(&Rfc3339).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn("b"), spawn("c"));
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let printed: String = outputs.iter().map(succeeded).collect();
    for job in [
        "auto_close",
        "sla_breaches",
        "purge_expired",
        "clean_temp",
        "merge_search_indexes",
    ] {
        let runs = store.jobs().runs(job).await.unwrap();
        assert_eq!(runs.len(), 3, "{job} ran once per due pass: {runs:?}");
        assert_eq!(printed.matches(&format!("{job}:")).count(), 1, "{printed}");
    }
    assert!(
        printed.contains("sla_breaches: {\"breaches\":0}"),
        "{printed}"
    );
    assert!(
        printed.contains("\"sessions\":1"),
        "the session that ended ten days ago goes: {printed}"
    );
    assert_eq!(breach_kinds(&store, agent).await.len(), 2);
    store.close().await;
}

#[tokio::test]
async fn maintenance_on_sqlite() {
    maintenance(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn maintenance_on_postgres() {
    maintenance(BackendKind::Postgres).await;
}

async fn scheduled_imports(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("growdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[scheduled_imports]]\nname = \"complaints\"\nevery_minutes = 60\nargs = [\"csv\", {:?}, \"--mapping\", {:?}]\n",
            fixture("cfpb_complaints.csv").display().to_string(),
            fixture("cfpb.toml").display().to_string()
        ),
    )
    .unwrap();
    let start = time::OffsetDateTime::now_utc();
    let run_at = |offset: time::Duration| {
        let output = growdesk_sync()
            .env_clear()
            .arg("--config")
            .arg(&config)
            .arg("--database-url")
            .arg(database.url())
            .arg("--data-dir")
            .arg(dir.path())
            .args(["run", "--once", "--now"])
            .arg((start + offset).format(&Rfc3339).unwrap())
            .output()
            .unwrap();
        succeeded(&output)
    };
    let first = run_at(time::Duration::ZERO);
    assert!(
        first.contains(
            "import:complaints: {\"created\":40,\"refused\":0,\"unchanged\":0,\"updated\":0}"
        ),
        "{first}"
    );
    assert!(
        !run_at(time::Duration::minutes(10)).contains("import:"),
        "not due for an hour"
    );
    // Work done here since the import survives the next one (the source did not change).
    first_ticket_priority(kind, database.url(), Some(4)).await;
    let again = run_at(time::Duration::minutes(61));
    assert!(
        again.contains("\"created\":0") && again.contains("\"unchanged\":40"),
        "{again}"
    );
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    assert_eq!(
        store.jobs().runs("import:complaints").await.unwrap().len(),
        2
    );
    assert_eq!(
        first_ticket_priority(kind, database.url(), None).await,
        4,
        "the re-import kept the local change"
    );
    store.close().await;

    std::fs::write(
        &config,
        "[[scheduled_imports]]\nname = \"broken\"\nevery_minutes = 5\nargs = [\"ftp\"]\n",
    )
    .unwrap();
    let refused = growdesk_sync()
        .env_clear()
        .arg("--config")
        .arg(&config)
        .arg("--database-url")
        .arg(database.url())
        .args(["run", "--once"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("scheduled import \"broken\""), "{stderr}");
}

#[tokio::test]
async fn scheduled_imports_on_sqlite() {
    scheduled_imports(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn scheduled_imports_on_postgres() {
    scheduled_imports(BackendKind::Postgres).await;
}

#[tokio::test]
async fn run_stops_cleanly_on_sigterm() {
    let database = TestDatabase::create(BackendKind::Sqlite).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(database.url())
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["run", "--tick-secs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    let mut waited = Duration::ZERO;
    while store
        .jobs()
        .runs("clean_temp")
        .await
        .map_or(true, |runs| runs.is_empty())
    {
        assert!(
            waited < Duration::from_secs(30),
            "the first pass never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut stopped = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            stopped = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = stopped.unwrap_or_else(|| {
        child.kill().unwrap();
        panic!("run did not stop within 10 s of SIGTERM");
    });
    assert!(status.success(), "{status:?}");
    store.close().await;
}

/// SIGTERM the moment `run` logs that it runs is a clean stop: the handlers are in place
/// before that line. Several fresh starts, as a late handler loses the race only at times.
#[tokio::test]
async fn sigterm_as_soon_as_run_says_it_runs_stops_cleanly() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/sigterm-when-ready.sh");
    for start in 1..=5 {
        let database = TestDatabase::create(BackendKind::Sqlite).await;
        let data_dir = tempfile::tempdir().unwrap();
        let output = Command::new("bash")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg(&script)
            .args(["--stderr", "running the maintenance jobs", BINARY])
            .arg("--database-url")
            .arg(database.url())
            .arg("--data-dir")
            .arg(data_dir.path())
            .arg("run")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "start {start}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn bad_targets_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = growdesk_sync()
        .env_clear()
        .env("GROWDESK_SLA_FIRST_RESPONSE_HOURS", "low=24,medium=soon")
        .arg("--database-url")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("db.sqlite").display()
        ))
        .args(["run", "--once"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sla_first_response_hours"), "{stderr}");
}
