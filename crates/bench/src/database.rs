//! A connection pool on either backend, opened the way the server opens its own, and the
//! `on_pool!` macro that runs the same code on whichever it is.

use std::str::FromStr;
use std::time::Duration;

use growdesk_store::{PoolSettings, pool_options};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

pub(crate) enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

macro_rules! on_pool {
    ($database:expr, $pool:ident => $body:expr) => {
        match $database {
            $crate::database::Database::Postgres($pool) => $body,
            $crate::database::Database::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The benchmarks' pool limits: `connections`, and sqlx's default wait for one, since a loaded
/// benchmark queues for connections and must not fail.
pub(crate) fn pool_settings(connections: u32) -> PoolSettings {
    PoolSettings {
        max_connections: connections,
        timeout: Duration::from_secs(30),
    }
}

impl Database {
    /// A pool of `connections` on `url`, with the server's pool options, and SQLite with the
    /// server's settings (WAL, normal synchronous, a 5 s busy timeout), so that the floor and
    /// the server pay the same costs.
    pub(crate) async fn connect(url: &str, connections: u32) -> anyhow::Result<Self> {
        let settings = pool_settings(connections);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = pool_options(settings).connect_with(options).await?;
            Ok(Self::Sqlite(pool))
        } else {
            let pool = pool_options(settings).connect(url).await?;
            Ok(Self::Postgres(pool))
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}
