//! `growdesk-sync run` beside a process that writes, as it runs beside the server: two
//! processes, each with its own writer, write one SQLite file at once, and neither loses a
//! write (one waits for the other's transaction in SQLite's busy handler).

use std::process::Stdio;

use growdesk_domain::{Priority, Role, TicketStatus};
use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use time::format_description::well_known::Rfc3339;

use super::fixtures::{ticket, user};
use crate::support::{growdesk_sync, open_ticket, store_of, succeeded};

/// The least this process writes, however quickly the jobs end.
const WRITES: usize = 32;

#[tokio::test]
async fn sqlite_jobs_and_another_writer_share_the_file() {
    let database = TestDatabase::create(BackendKind::Sqlite).await;
    let data_dir = tempfile::tempdir().unwrap();
    let store = store_of(&database).await;
    let agent = user(&store, "agent@example.com", Role::Agent).await;
    let customer = user(&store, "cy@example.com", Role::Customer).await;
    let mut resolved = Vec::new();
    for _ in 0..20 {
        resolved.push(
            ticket(
                &store,
                customer,
                Priority::Medium,
                Some(agent),
                TicketStatus::Resolved,
            )
            .await,
        );
    }

    // Eight days on, the jobs close the resolved tickets, while this process opens new ones
    // until the jobs are over.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(8);
    let mut jobs = growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(database.url())
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["run", "--once", "--holder", "beside", "--now"])
        .arg(later.format(&Rfc3339).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut opened = Vec::new();
    while opened.len() < WRITES || jobs.try_wait().unwrap().is_none() {
        opened.push(open_ticket(&store, customer, "Opened beside the jobs", Priority::Low).await);
    }
    let out = succeeded(&jobs.wait_with_output().unwrap());
    assert!(out.contains("auto_close: {\"closed\":20}"), "{out}");

    for id in resolved {
        let closed = store.tickets().get(id).await.unwrap().unwrap();
        assert_eq!(closed.status, TicketStatus::Closed);
    }
    for id in opened {
        let open = store.tickets().get(id).await.unwrap().unwrap();
        assert_eq!(open.status, TicketStatus::Open);
    }
}
