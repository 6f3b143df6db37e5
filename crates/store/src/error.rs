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
            // SQLITE_BUSY after the busy timeout: the file is locked by another writer.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("5") => {
                Self::Unavailable(error)
            }
            // PostgreSQL refusing or losing the connection: class 08 (connection exception),
            // 28 (authorization), 53 (out of resources, too many connections), 57P (shutting
            // down or cancelled by the administrator), 3D000 (the database is gone).
            sqlx::Error::Database(db)
                if db.code().is_some_and(|code| {
                    ["08", "28", "53", "57P", "3D000"]
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
