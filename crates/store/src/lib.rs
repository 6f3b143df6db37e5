//! The storage layer: one `Store` over PostgreSQL and SQLite, with a handle per resource
//! (`store.tickets()`, `store.users()`, …) whose methods are that resource's queries; each
//! resource's module holds its handle and the types its methods take and give.
//!
//! The backend is picked by the database URL's scheme. Each query is written once: the
//! `on_backend!` macro expands the same code for both pools, so the compiler checks it against
//! both drivers. Where the SQL dialects differ, the statements live in `postgres/` and `sqlite/`
//! beside each other, as the two implementations of `dialect::Dialect`; migrations live in
//! `migrations/postgres` and `migrations/sqlite` with the same numbers.

pub mod backup;
pub mod canned_replies;
pub mod categories;
mod dialect;
pub mod email_templates;
mod error;
pub mod events;
pub mod faqs;
mod files;
pub mod idempotency;
pub mod import_preview;
pub mod imports;
pub mod jobs;
pub mod mail;
pub mod mailboxes;
pub mod messages;
pub mod notifications;
pub mod password_resets;
mod postgres;
mod principals;
pub mod private_dir;
pub mod redact;
pub mod sessions;
mod sqlite;
mod stamp;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text_keys;
pub mod tickets;
pub mod users;
pub mod views;
pub mod webhooks;
pub mod widgets;
mod write_tx;

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use tokio::sync::Notify;

use backup::Backup;
use canned_replies::CannedReplies;
use categories::Categories;
use email_templates::EmailTemplates;
use error::DeadlinePassed;
pub use error::StoreError;
use events::Events;
use faqs::Faqs;
pub use files::FileStore;
use import_preview::Previews;
use imports::Imports;
use jobs::Jobs;
use mail::Mail;
use mailboxes::Mailboxes;
use messages::Messages;
use notifications::Notifications;
use password_resets::PasswordResets;
use principals::PrincipalCache;
use sessions::Sessions;
pub use stamp::Stamp;
use tickets::Tickets;
use users::Users;
use views::Views;
use webhooks::Webhooks;
use widgets::Widgets;

/// Runs `$body` with `$pool` bound to whichever pool the store holds (and, when named, `$db` to
/// its database type, whose `Dialect` spells what differs). The body is compiled once per
/// backend, so one piece of code serves both and neither can drift.
///
/// The operation runs within the store's deadline: past it, it is abandoned as `Unavailable`,
/// so a database that stops answering (frozen, or behind a dead link) costs a caller seconds,
/// not a hung request. A body that fails on SQLite's stale snapshot runs again, up to three
/// times. `on_backend!(once …)` runs the body exactly once, without a deadline: for work that
/// does not wait on the database, bounds its own wait, or must not repeat.
///
/// `on_backend!(write …)` is for a write of one statement outside a transaction: `$pool` is
/// the pool on PostgreSQL, and on SQLite a turn of the single writer (`sqlite::writer`), whose
/// batch is committed before the outcome is returned (an error rolls the turn back), so that
/// no write of this process waits for another in SQLite's busy handler. It runs once, within
/// the deadline.
macro_rules! on_backend {
    (write $store:expr, $pool:ident $(, $db:ident)? => $body:expr) => {
        $store
            .within_deadline(async {
                match &$store.backend {
                    $crate::Backend::Postgres($pool) => {
                        $(type $db = sqlx::Postgres;)?
                        $body
                    }
                    $crate::Backend::Sqlite(pool) => {
                        $(type $db = sqlx::Sqlite;)?
                        let mut turn = $store.sqlite_writer(pool).begin().await?;
                        let written = {
                            let $pool = &mut *turn;
                            $body
                        };
                        if written.is_ok() {
                            turn.commit().await?;
                        }
                        written
                    }
                }
            })
            .await
    };
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

/// The PostgreSQL channel notified after commits that append events or revocations.
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
    /// Sends those NOTIFYs on PostgreSQL, one per burst of commits.
    announcer: Arc<postgres::Announcer>,
    /// How far this process knows the logs to be settled (`events`).
    horizon: Arc<events::Horizon>,
    /// How long one operation may take before it is abandoned as `Unavailable`.
    timeout: Duration,
    /// The sessions this process checked lately, shared by its clones.
    principals: Arc<PrincipalCache>,
    /// SQLite's single writer, which every write transaction of this process takes turns on
    /// (`sqlite::writer`), made at the first write from the pool's options. PostgreSQL writes
    /// on pooled connections and leaves it empty.
    writer: Arc<OnceLock<sqlite::writer::Writer>>,
    /// Past this many matches, a ticket search walks the sort order (`None`: the backend's
    /// own limit).
    search_collect_limit: Option<i64>,
}

/// A connection idle this long is pinged before it is handed out. One used more recently was
/// pinged when it came back (sqlx pings every connection returned to its pool), so it can only
/// be dead if the database went away within this last second, when a request would have failed
/// anyway.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool's options for either backend. sqlx also pings a connection each time it is taken
/// from the pool, by default: a round trip to PostgreSQL, or to SQLite's connection thread, on
/// top of every statement's and every release's. Under load no connection idles for a second,
/// so none is pinged twice; after a quiet spell (a database restarted overnight) the first
/// requests still find only live connections. Public so the benchmarks' floor pools alike.
pub fn pool_options<DB: sqlx::Database>(settings: PoolSettings) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.timeout)
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
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
                Backend::Postgres(pool_options(pool).connect_lazy_with(options))
            }
            BackendKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(ConnectError::InvalidUrl)?
                    .create_if_missing(true)
                    // WAL lets readers and one writer (the server and the sync binary) share the file.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    // This process's writes take turns on its single writer without waiting
                    // here (`sqlite::writer`); another process's writer may hold the file's
                    // write lock, and is waited for this long.
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                sqlite::file::prepare(url, options.get_filename())?;
                Backend::Sqlite(pool_options(pool).connect_lazy_with(options))
            }
        };
        Ok(Self {
            backend,
            changed: Arc::new(Notify::new()),
            announcer: Arc::default(),
            horizon: Arc::default(),
            timeout: pool.timeout,
            principals: Arc::default(),
            writer: Arc::default(),
            search_collect_limit: None,
        })
    }

    /// Sets how many matches a ticket search collects before it walks the sort order instead
    /// (see `Tickets::list`; each backend has its own default); for tests and tuning.
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

    /// Tells this process's relay that the log grew, and on PostgreSQL the other processes'.
    pub(crate) fn announce_change(&self) {
        self.changed.notify_one();
        if let Backend::Postgres(pool) = &self.backend {
            self.announcer.announce(pool);
        }
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

    /// Closes every connection, once the writes under way are committed; later calls fail with
    /// `Unavailable`.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(pool) => pool.close().await,
            Backend::Sqlite(pool) => {
                self.sqlite_writer(pool).close().await;
                pool.close().await;
            }
        }
    }

    /// SQLite's single writer, made from `pool`'s options the first time it is needed.
    pub(crate) fn sqlite_writer(&self, pool: &SqlitePool) -> &sqlite::writer::Writer {
        self.writer
            .get_or_init(|| sqlite::writer::Writer::new(pool.connect_options()))
    }
}

/// Each resource's handle: its queries and changes, on this store.
impl Store {
    /// Tickets: open, read, list, change, delete, and the dashboard's counts.
    pub fn tickets(&self) -> Tickets<'_> {
        Tickets { store: self }
    }

    /// The messages of tickets and their attachments, as read back.
    pub fn messages(&self) -> Messages<'_> {
        Messages { store: self }
    }

    /// User accounts: create, look up, list, change, export.
    pub fn users(&self) -> Users<'_> {
        Users { store: self }
    }

    /// Sign-in sessions and their refresh tokens, and who a session is.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { store: self }
    }

    /// Chat widgets and their visitors.
    pub fn widgets(&self) -> Widgets<'_> {
        Widgets { store: self }
    }

    /// Webhooks and the deliveries of events to them.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { store: self }
    }

    /// The event log and the log of session revocations, as read back.
    pub fn events(&self) -> Events<'_> {
        Events { store: self }
    }

    /// Ticket categories.
    pub fn categories(&self) -> Categories<'_> {
        Categories { store: self }
    }

    /// Frequently asked questions.
    pub fn faqs(&self) -> Faqs<'_> {
        Faqs { store: self }
    }

    /// Agents' saved views of the queue, personal and shared.
    pub fn views(&self) -> Views<'_> {
        Views { store: self }
    }

    /// Agents' canned replies, personal and shared.
    pub fn canned_replies(&self) -> CannedReplies<'_> {
        CannedReplies { store: self }
    }

    /// Users' notifications.
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications { store: self }
    }

    /// Records from other systems, remembered by their ids there.
    pub fn imports(&self) -> Imports<'_> {
        Imports { store: self }
    }

    /// What an import would do with each record, without writing it.
    pub fn previews(&self) -> Previews<'_> {
        Previews { store: self }
    }

    /// What a backup reads and a restore writes beyond the imports.
    pub fn backup(&self) -> Backup<'_> {
        Backup { store: self }
    }

    /// Scheduled maintenance: job leases, run records, and the tickets the jobs work on.
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { store: self }
    }

    /// Mailboxes: the addresses customers write to, their servers and read cursors.
    pub fn mailboxes(&self) -> Mailboxes<'_> {
        Mailboxes { store: self }
    }

    /// The mail taken in and the outbox of mail to send.
    pub fn mail(&self) -> Mail<'_> {
        Mail { store: self }
    }

    /// Single-use password reset tokens.
    pub fn password_resets(&self) -> PasswordResets<'_> {
        PasswordResets { store: self }
    }

    /// Admins' overrides of the built-in email templates.
    pub fn email_templates(&self) -> EmailTemplates<'_> {
        EmailTemplates { store: self }
    }
}
