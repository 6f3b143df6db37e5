//! The storage layer: one `Store` API over PostgreSQL and SQLite.
//!
//! The backend is picked by the database URL's scheme. Each query is written once: the
//! `on_backend!` macro expands the same code for both pools, so the compiler checks it against
//! both drivers. Where the SQL dialects differ, the statements live in `postgres/` and `sqlite/`
//! beside each other; migrations live in `migrations/postgres` and `migrations/sqlite` with the
//! same numbers.

mod backup;
mod categories;
mod dialect;
mod error;
mod events;
mod faqs;
mod files;
mod idempotency;
mod import_preview;
mod imports;
mod jobs;
mod messages;
mod notifications;
mod postgres;
mod principals;
pub mod private_dir;
pub mod redact;
mod sessions;
mod sqlite;
mod stamp;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text_keys;
mod ticket_changes;
mod tickets;
mod users;
mod webhooks;
mod widgets;
mod write_tx;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::Notify;

pub use backup::{
    ImportedVisitor, ImportedWebhook, ImportedWidget, NotificationRecord, RestoredEvent,
    TimedTable, VisitorRecord,
};
pub use categories::{CategoryDeletion, CategoryFields};
use error::DeadlinePassed;
pub use error::StoreError;
pub use events::{FeedEvent, NewEvent, Revocation};
pub use faqs::{FaqCursor, FaqFields, FaqFilter};
pub use files::FileStore;
pub use idempotency::{Created, IdempotencyClaim};
pub use import_preview::ImportPreview;
pub use imports::{
    Imported, ImportedCategory, ImportedFaq, ImportedMessage, ImportedTicket, ImportedUser,
};
pub use jobs::{Overdue, SYSTEM_EMAIL};
pub use messages::{NewAttachment, NewMessage, StoredAttachment};
use principals::PrincipalCache;
pub use sessions::{NewSession, RotateOutcome, SessionPrincipal};
pub use stamp::Stamp;
pub use ticket_changes::{Changed, MessageRecord, TicketChange};
pub use tickets::{
    AssigneeFilter, NewTicket, SortKey, TicketCursor, TicketFilter, TicketSort, TicketState,
    TicketStats, VisitorScope,
};
pub use users::{NewUser, UserChanges, UserCredentials, UserFilter};
pub use webhooks::{DeliveryAttempt, DueDelivery, WebhookFields};
pub use widgets::{Visitor, WidgetFields};

/// Runs `$body` with `$pool` bound to whichever pool the store holds (and, when named, `$db` to
/// its database type, whose `Dialect` spells what differs). The body is compiled once per
/// backend, so one piece of code serves both and neither can drift.
///
/// The operation runs within the store's deadline: past it, it is abandoned as `Unavailable`,
/// so a database that stops answering (frozen, or behind a dead link) costs a caller seconds,
/// not a hung request. A body that fails on SQLite's stale snapshot runs again, up to three
/// times. `on_backend!(once …)` runs the body exactly once, without a deadline: for work that
/// does not wait on the database, bounds its own wait, or must not repeat.
macro_rules! on_backend {
    (once $store:expr, $pool:ident $(, $db:ident)? => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Postgres($pool) => {
                $(type $db = sqlx::Postgres;)?
                $body
            }
            $crate::Backend::Sqlite($pool) => {
                $(type $db = sqlx::Sqlite;)?
                $body
            }
        }
    };
    ($store:expr, $pool:ident $(, $db:ident)? => $body:expr) => {
        $store
            .within_deadline(async {
                let mut retries = 0;
                loop {
                    match $crate::on_backend!(once $store, $pool $(, $db)? => $body) {
                        Err(error) if retries < 3 && $crate::error::StaleSnapshot::is_stale_snapshot(&error) => {
                            retries += 1;
                        }
                        outcome => break outcome,
                    }
                }
            })
            .await
    };
}
pub(crate) use on_backend;

/// The PostgreSQL channel notified by every commit that appends events or revocations.
pub(crate) const CHANGES_CHANNEL: &str = "growdesk_changes";

/// The two databases GrowDesk runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl BackendKind {
    /// Which backend a URL names, by scheme: `postgres://`/`postgresql://` or `sqlite:`.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Connection-pool limits.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections held at once.
    pub max_connections: u32,
    /// The longest one operation may take, waiting for a free connection included, before it
    /// is abandoned as `Unavailable` (a 503); short, so an outage is reported quickly instead
    /// of piling up requests.
    pub timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            timeout: Duration::from_secs(3),
        }
    }
}

/// Why `Store::connect` refused a URL.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL scheme (expected postgres:// or sqlite:)")]
    UnsupportedScheme,
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("cannot create the directory for the SQLite file {path}: {source}")]
    CreateDirectory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the SQLite file {path}: {source}")]
    CreateFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The repository every upper layer talks to. Cheap to clone: it holds a pool.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Woken after every commit that appended events or revocations, so this process's relay
    /// delivers them at once (other processes learn through NOTIFY or polling).
    changed: Arc<Notify>,
    /// How long one operation may take before it is abandoned as `Unavailable`.
    timeout: Duration,
    /// The sessions this process checked lately, shared by its clones.
    principals: Arc<PrincipalCache>,
    /// Past this many matches, a ticket search walks the sort order (`None`: the backend's
    /// own limit).
    search_collect_limit: Option<i64>,
}

impl Store {
    /// Opens a pool for `url`. The pool connects lazily, so a server can start (and answer its
    /// readiness probe with 503) while the database is still down.
    ///
    /// # Errors
    /// An unknown scheme, an unparsable URL, or an SQLite directory that cannot be created.
    pub fn connect(url: &str, pool: PoolSettings) -> Result<Self, ConnectError> {
        let kind = BackendKind::of_url(url).ok_or(ConnectError::UnsupportedScheme)?;
        let backend = match kind {
            BackendKind::Postgres => {
                // The server ends a statement two deadlines after it began: one abandoned at the
                // deadline would otherwise run on and slow every query after it. Not at one
                // deadline: the connection would come free while its request's successors still
                // queue for it, and they would then run their next step past their own deadline.
                let statement_timeout = pool.timeout * 2;
                let options = PgConnectOptions::from_str(url)
                    .map_err(ConnectError::InvalidUrl)?
                    .options([
                        (
                            "statement_timeout",
                            format!("{}ms", statement_timeout.as_millis()),
                        ),
                        // JIT compiling cost more than it saved on these short queries
                        // (13 ms of a 250 ms search at a million tickets).
                        ("jit", "off".to_owned()),
                    ]);
                Backend::Postgres(
                    PgPoolOptions::new()
                        .max_connections(pool.max_connections)
                        .acquire_timeout(pool.timeout)
                        .connect_lazy_with(options),
                )
            }
            BackendKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(ConnectError::InvalidUrl)?
                    .create_if_missing(true)
                    // WAL lets readers and one writer (the server and the sync binary) share the file.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                prepare_sqlite_file(url, options.get_filename())?;
                Backend::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(pool.max_connections)
                        .acquire_timeout(pool.timeout)
                        .connect_lazy_with(options),
                )
            }
        };
        Ok(Self {
            backend,
            changed: Arc::new(Notify::new()),
            timeout: pool.timeout,
            principals: Arc::default(),
            search_collect_limit: None,
        })
    }

    /// Sets how many matches a ticket search collects before it walks the sort order instead
    /// (see `list_tickets`; each backend has its own default); for tests and tuning.
    #[must_use]
    pub fn with_search_collect_limit(mut self, matches: i64) -> Self {
        self.search_collect_limit = Some(matches);
        self
    }

    /// Applies this backend's pending migrations.
    ///
    /// # Errors
    /// The database is unreachable or a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                // Migrations may rewrite large tables: no statement deadline for them, on a
                // connection that is closed afterwards rather than returned to the pool.
                let mut connection = pool.acquire().await?;
                connection.close_on_drop();
                sqlx::query("SET statement_timeout = 0")
                    .execute(&mut *connection)
                    .await?;
                sqlx::migrate!("./migrations/postgres")
                    .run(&mut *connection)
                    .await?;
            }
            Backend::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        }
        self.refold_text_keys().await
    }

    /// Which database this store talks to.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Postgres(_) => BackendKind::Postgres,
            Backend::Sqlite(_) => BackendKind::Sqlite,
        }
    }

    /// Round-trips a trivial query within `within`: the readiness probe.
    ///
    /// # Errors
    /// `Unavailable` when the database does not answer in time or at all.
    pub async fn ping(&self, within: Duration) -> Result<(), StoreError> {
        let query = async {
            on_backend!(once self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
        };
        match tokio::time::timeout(within, query).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// `operation`'s outcome, or `Unavailable` when it has not finished within the deadline.
    async fn within_deadline<T, E: From<DeadlinePassed>>(
        &self,
        operation: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tokio::time::timeout(self.timeout, operation)
            .await
            .unwrap_or_else(|_| Err(DeadlinePassed.into()))
    }

    /// Open and idle connections, for metrics.
    pub fn pool_usage(&self) -> (u32, usize) {
        on_backend!(once self, pool => (pool.size(), pool.num_idle()))
    }

    /// Notified after this store committed new events or revocations.
    pub fn changes(&self) -> Arc<Notify> {
        Arc::clone(&self.changed)
    }

    /// Tells this process's relay that the log grew.
    pub(crate) fn announce_change(&self) {
        self.changed.notify_one();
    }

    /// A listener for other processes' changes on PostgreSQL (`None` on SQLite, which has no
    /// notifications: the relay polls it instead).
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn change_listener(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANGES_CHANNEL).await?;
                Ok(Some(listener))
            }
            Backend::Sqlite(_) => Ok(None),
        }
    }

    /// Closes every connection; later calls fail with `Unavailable`.
    pub async fn close(&self) {
        on_backend!(once self, pool => pool.close().await);
    }
}

/// Creates the SQLite file's directory and, when the file is new, the file itself, readable by
/// its owner only: it holds password hashes, and SQLite gives its WAL and shared-memory files
/// the database file's permissions. An existing file keeps the permissions its owner chose, but
/// one readable by other users is warned about.
fn prepare_sqlite_file(url: &str, file: &Path) -> Result<(), ConnectError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(());
    }
    create_parent_dir(file)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_others_can_read(file);
            Ok(())
        }
        Err(error) => Err(ConnectError::CreateFile {
            path: file.display().to_string(),
            source: error,
        }),
        Ok(_) => Ok(()),
    }
}

/// A database made by an older version, which created it 0644, stays readable by every user of
/// the host until its owner tightens it: say so, with the fix, at each start.
fn warn_if_others_can_read(file: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(metadata) = std::fs::metadata(file) else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %file.display(),
            mode = %format!("{mode:o}"),
            "the database file holds password hashes and other users may read it: \
             chmod 600 it and its -wal and -shm files"
        );
    }
}

fn create_parent_dir(file: &Path) -> Result<(), ConnectError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && file != Path::new(":memory:") => {
            private_dir::create_private_dir_all(dir).map_err(|source| {
                ConnectError::CreateDirectory {
                    path: file.display().to_string(),
                    source,
                }
            })
        }
        _ => Ok(()),
    }
}
