//! `StoreError`: what can go wrong in the storage layer, in terms the service layer can act on.

/// A storage failure. Driver details stay inside; the variants say what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (an email already taken, a name in use, …).
    #[error("a record with the same unique value already exists")]
    Conflict,
    /// A referenced row (category, user, ticket) does not exist.
    #[error("a referenced record does not exist")]
    MissingReference,
    /// The database cannot be reached or no connection freed up in time; worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored value the domain does not accept (a hand-edited row, say).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else the driver reported: a bug or an unexpected database state.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Applying migrations failed at start-up.
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::MissingReference,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            // SQLITE_BUSY and its extended codes (BUSY_RECOVERY 261, BUSY_SNAPSHOT 517,
            // BUSY_TIMEOUT 773): the file is locked by another writer, or another writer
            // committed while this statement's snapshot was open. Either way, retry later.
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_sqlite_busy) => {
                Self::Unavailable(error)
            }
            // PostgreSQL refusing or losing the connection: class 08 (connection exception),
            // 28 (authorization), 53 (out of resources, too many connections), 57P (shutting
            // down or cancelled by the administrator), 3D000 (the database is gone); or giving
            // up on a statement: 57014 (past the statement deadline), 40001 and 40P01
            // (serialization failure, deadlock), which a retry may pass.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|code| {
                    ["08", "28", "53", "57P", "3D000", "57014", "40001", "40P01"]
                        .iter()
                        .any(|class| code.starts_with(class))
                }) =>
            {
                Self::Unavailable(error)
            }
            _ => Self::Database(error),
        }
    }
}

/// Whether a SQLite result code is `SQLITE_BUSY` or one of its extended codes, whose low byte
/// is the primary code 5. PostgreSQL's codes are not numbers, so they never match.
fn is_sqlite_busy(code: &str) -> bool {
    code.parse::<u32>().is_ok_and(|code| code & 0xff == 5)
}

/// SQLite's `SQLITE_BUSY_SNAPSHOT`: another connection wrote since this one's read snapshot
/// began, so the write cannot go ahead on it. SQLite answers it at once, without waiting, and
/// the remedy is to run the statement again on a fresh snapshot.
pub(crate) trait StaleSnapshot {
    fn is_stale_snapshot(&self) -> bool;
}

impl StaleSnapshot for sqlx::Error {
    fn is_stale_snapshot(&self) -> bool {
        matches!(self, Self::Database(db) if db.code().as_deref() == Some("517"))
    }
}

impl StaleSnapshot for StoreError {
    fn is_stale_snapshot(&self) -> bool {
        matches!(self, Self::Unavailable(error) if error.is_stale_snapshot())
    }
}

/// A database operation outlived the store's deadline.
#[derive(Debug)]
pub(crate) struct DeadlinePassed;

impl From<DeadlinePassed> for sqlx::Error {
    fn from(_: DeadlinePassed) -> Self {
        Self::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the database did not answer in time",
        ))
    }
}

impl From<DeadlinePassed> for StoreError {
    fn from(passed: DeadlinePassed) -> Self {
        Self::Unavailable(passed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_busy_code_of_sqlite_is_busy() {
        for code in ["5", "261", "517", "773"] {
            assert!(is_sqlite_busy(code), "{code}");
        }
        for code in ["6", "19", "2067", "08006", "40001"] {
            assert!(!is_sqlite_busy(code), "{code}");
        }
    }
}
