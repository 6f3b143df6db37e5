//! What the scenarios share: the binary and a run of it, a store on its database, a loopback
//! source, the fixtures, and the tickets an import left.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use growdesk_domain::{
    Message, MessageBody, MessageChannel, Priority, Subject, Tags, Ticket, TicketSource,
};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    PoolSettings, Store,
    tickets::{NewTicket, TicketFilter, TicketSort},
};
use uuid::Uuid;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_growdesk-sync");

/// The binary, started in a scratch directory this test process keeps: what a run writes beside
/// itself (`run` keeps its signing key in `./data` when no data directory is set) stays out of
/// the source tree.
pub(crate) fn growdesk_sync() -> Command {
    static SCRATCH: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let mut command = Command::new(BINARY);
    command.current_dir(
        SCRATCH
            .get_or_init(|| tempfile::tempdir().expect("a scratch directory"))
            .path(),
    );
    command
}

/// Runs the binary on `database` with `args`, to its end.
pub(crate) fn sync(database: &TestDatabase, args: &[&str]) -> Output {
    growdesk_sync()
        .env_clear()
        .arg("--database-url")
        .arg(database.url())
        .args(args)
        .output()
        .unwrap()
}

/// The standard output of a run that must have succeeded (its standard error if not).
pub(crate) fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A store on `database`, its schema in place.
pub(crate) async fn store_of(database: &TestDatabase) -> Store {
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    store.migrate().await.unwrap();
    store
}

/// Serves `app` on a free loopback port for the rest of the test; its base URL.
pub(crate) async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A file or directory under `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `path` as an argument of the binary.
pub(crate) fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The permission bits of the file at `path` itself: a link left in its place shows as one.
pub(crate) fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// A new ticket from the web, as `requester` opens it; its id.
pub(crate) async fn open_ticket(
    store: &Store,
    requester: Uuid,
    subject: &str,
    priority: Priority,
) -> Uuid {
    let id = Uuid::now_v7();
    store
        .tickets()
        .create(
            NewTicket {
                id,
                subject: Subject::parse(subject).unwrap(),
                priority,
                category_id: None,
                requester_id: requester,
                source: TicketSource::Web,
                tags: Tags::default(),
                actor_id: requester,
                description: MessageBody::parse("help").unwrap(),
                extra_events: Vec::new(),
                visitor_id: None,
                context: None,
                channel: MessageChannel::Web,
                mailbox_id: None,
                attachments: Vec::new(),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            },
            None,
        )
        .await
        .unwrap();
    id
}

/// Every ticket in `database` (oldest first, at most 100) and every message of theirs.
pub(crate) async fn tickets_and_messages(database: &TestDatabase) -> (Vec<Ticket>, Vec<Message>) {
    let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let tickets = store
        .tickets()
        .list(&filter, TicketSort::CreatedAt, false, None, 100)
        .await
        .unwrap();
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let messages = store.messages().of_tickets(&ids).await.unwrap();
    store.close().await;
    (tickets, messages)
}
