//! Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL database per test;
//! and a PostgreSQL write transaction held open, to make transactions commit out of id order.
//!
//! PostgreSQL tests need `GROWDESK_TEST_DATABASE_URL`, a URL to a server where the user may
//! create databases. `scripts/test.sh` starts such a server itself; without it the PostgreSQL
//! tests fail with a message saying so, rather than being skipped.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::events::NewEvent;
use crate::write_tx::WriteTx as _;
use crate::{Backend, BackendKind, Stamp, Store};

/// The variable naming the PostgreSQL server the tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "GROWDESK_TEST_DATABASE_URL";

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(
        #[allow(dead_code, reason = "dropping the last handle deletes the file")]
        Arc<tempfile::TempDir>,
    ),
    Postgres {
        server_url: String,
        name: String,
    },
    /// A second handle on a PostgreSQL database the first handle removes.
    Shared,
}

impl TestDatabase {
    /// A fresh database on `kind`.
    ///
    /// # Panics
    /// When PostgreSQL is asked for and `GROWDESK_TEST_DATABASE_URL` is unset or unusable.
    pub async fn create(kind: BackendKind) -> Self {
        match kind {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("growdesk.db").display());
                Self {
                    url,
                    cleanup: Cleanup::Sqlite(Arc::new(dir)),
                }
            }
            BackendKind::Postgres => {
                let server_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_URL_VAR} is not set. Run the tests with `make test` \
                         (scripts/test.sh), which starts a throwaway PostgreSQL, or point \
                         {POSTGRES_URL_VAR} at a server where this user may create databases."
                    )
                });
                Self::create_on_postgres(server_url).await
            }
        }
    }

    /// A fresh database on the PostgreSQL server at `server_url` (a test's own cluster, say).
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create the database.
    pub async fn create_on_postgres(server_url: String) -> Self {
        let name = format!("growdesk_test_{}", Uuid::now_v7().simple());
        let mut admin = connect_admin(&server_url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let url = with_database(&server_url, &name);
        Self {
            url,
            cleanup: Cleanup::Postgres { server_url, name },
        }
    }

    /// Another handle on the same database (for a second server instance); the database is
    /// removed only when the first handle is dropped, which must outlive this one.
    pub fn share(&self) -> Self {
        let cleanup = match &self.cleanup {
            Cleanup::Sqlite(dir) => Cleanup::Sqlite(Arc::clone(dir)),
            _ => Cleanup::Shared,
        };
        Self {
            url: self.url.clone(),
            cleanup,
        }
    }

    /// The URL to hand to `Store::connect` or to the server's configuration.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A write transaction on PostgreSQL that appends events through the store's own append and
/// commits when the test says: transactions can then draw ids in one order and commit in
/// another, as concurrent requests do.
#[derive(Debug)]
pub struct OpenWrite {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

impl OpenWrite {
    /// Begins one on `store`.
    ///
    /// # Panics
    /// On SQLite, which writes one transaction at a time, or when the database fails.
    pub async fn begin(store: &Store) -> Self {
        let Backend::Postgres(pool) = &store.backend else {
            panic!("only PostgreSQL runs write transactions side by side");
        };
        Self {
            tx: pool.begin().await.expect("begin a transaction"),
        }
    }

    /// Appends `events`, drawing their ids now.
    ///
    /// # Panics
    /// When the database fails.
    pub async fn append(&mut self, events: &[NewEvent]) {
        self.tx
            .append_events(events, Stamp::now())
            .await
            .expect("append events");
    }

    /// Commits.
    ///
    /// # Panics
    /// When the database fails.
    pub async fn commit(self) {
        self.tx.commit().await.expect("commit");
    }
}

async fn connect_admin(server_url: &str) -> sqlx::PgConnection {
    PgConnectOptions::from_str(server_url)
        .unwrap_or_else(|error| panic!("{POSTGRES_URL_VAR} is not a PostgreSQL URL: {error}"))
        .connect()
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {POSTGRES_URL_VAR}: {error}"))
}

/// `server_url` with its database path replaced by `name`, keeping any query string.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { server_url, name } = &self.cleanup else {
            return;
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime removes the database. FORCE ends connections a pool left open.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = connect_admin(&server_url).await;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .map_err(std::io::Error::other)?;
                admin.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.url);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_replaces_the_path() {
        assert_eq!(
            with_database(
                "postgres://u:p@127.0.0.1:5433/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://u:p@127.0.0.1:5433/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1:5433", "t2"),
            "postgres://127.0.0.1:5433/t2"
        );
    }
}
