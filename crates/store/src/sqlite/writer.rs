//! SQLite's single writer: every write transaction of this process runs on one connection,
//! taken in turn, and writes that queue up for it are committed together.
//!
//! SQLite lets one connection write at a time. When each write began `BEGIN IMMEDIATE` on a
//! pooled connection, the others waited in SQLite's busy handler, which sleeps with a growing
//! back-off: at 32 concurrent writers the slowest waited about a second though the file was
//! free most of that time. Here the writers wait instead for a turn on one dedicated connection
//! (a fair, first-come first-served `tokio` mutex): none sleeps, and each starts the moment the
//! one before it ends. Reads keep the pool, and in WAL mode never wait for the writer.
//!
//! **Group commit.** A turn does not begin a transaction of its own: the first turn of a batch
//! begins one (`BEGIN IMMEDIATE`), and each turn runs inside a `SAVEPOINT` of it. A turn that
//! fails rolls back to its savepoint only (its error is its own, and nothing of it stays), one
//! that succeeds releases it; either way the turn then hands the connection to the next writer
//! in line and waits for its batch to be settled. A settler — a task started by the batch's
//! first finished turn, queued for the connection behind the writers already waiting — commits
//! the batch once and tells every turn in it the outcome. So a burst costs one commit, and no
//! caller is answered before the commit that made its write durable (nor, for a turn that wrote
//! nothing, before the commit of what it read from the batch's other writes). A batch holds the
//! turns that were waiting when its first turn finished, and at most `MOST_TURNS`: a writer
//! that finds it full waits for its commit, and begins the next.
//!
//! A turn abandoned half-way (its statement failed and `?` returned, or its caller's deadline
//! dropped it) leaves its savepoint open; whoever takes the connection next rolls it back
//! before anything else, and a settler is started so that the batch does not stay open. If
//! SQLite itself rolled the whole transaction back (a full disk, an I/O error), every turn of
//! the batch is told its write failed. Only a settler (a task no caller's deadline cancels)
//! commits; a `BEGIN` cut short while it waited for another process's lock is rolled back
//! by the next writer, or by a task started for it.
//!
//! Other processes (`growdesk-sync run` beside the server) have writers of their own; the
//! connection's busy timeout still covers waiting for them, when one holds the file's write
//! lock as a batch begins.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions as _, Connection as _, Sqlite};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, watch};

use crate::dialect::Dialect as _;

/// The most turns one batch commits together.
const MOST_TURNS: usize = 64;

/// The writer's connection and the batch open on it, one turn at a time.
#[derive(Debug)]
pub(crate) struct Writer {
    options: Arc<SqliteConnectOptions>,
    line: Arc<Mutex<Line>>,
}

#[derive(Debug)]
enum Line {
    /// No write yet: the connection opens at the first.
    Unopened,
    Open(Open),
    /// The store was closed.
    Closed,
}

impl Line {
    fn open_mut(&mut self) -> Option<&mut Open> {
        match self {
            Self::Open(open) => Some(open),
            Self::Unopened | Self::Closed => None,
        }
    }
}

#[derive(Debug)]
struct Open {
    connection: SqliteConnection,
    /// The transaction begun by the batch's first turn, until it is settled.
    batch: Option<Batch>,
    /// A turn's savepoint is open: the turn now running, or one abandoned half-way.
    savepoint: bool,
    /// No batch is open, but a `BEGIN` or `ROLLBACK` was cut short (its caller's deadline
    /// dropped it) and may still take effect, so whether a transaction is open is unknown:
    /// a `ROLLBACK` settles it, queued behind the statement on the connection.
    unsure: bool,
}

/// An open transaction and the turns waiting for it to end.
#[derive(Debug)]
struct Batch {
    /// Turns that finished in it (written or rolled back to their savepoint).
    turns: usize,
    /// Whether a settler is on its way.
    settler: bool,
    outcome: watch::Sender<Option<Outcome>>,
}

/// How a batch ended: committed, or why not.
type Outcome = Result<(), String>;

impl Writer {
    /// A writer for the database `options` open; it connects at the first write.
    pub(crate) fn new(options: Arc<SqliteConnectOptions>) -> Self {
        Self {
            options,
            line: Arc::new(Mutex::new(Line::Unopened)),
        }
    }

    /// Waits for this process's turn to write, and opens it: a savepoint in the current batch,
    /// or a new batch begun for it. A full batch is not joined: its settler commits it first.
    ///
    /// # Errors
    /// The store was closed, the connection failed, or another process kept the file locked
    /// past the busy timeout.
    pub(crate) async fn begin(&self) -> Result<Turn, sqlx::Error> {
        let open = loop {
            let mut line = Arc::clone(&self.line).lock_owned().await;
            if matches!(*line, Line::Unopened) {
                *line = Line::Open(Open {
                    connection: self.options.connect().await?,
                    batch: None,
                    savepoint: false,
                    unsure: false,
                });
            }
            let mut open = OwnedMutexGuard::try_map(line, Line::open_mut)
                .map_err(|_| sqlx::Error::PoolClosed)?;
            open.discard_abandoned().await;
            open.make_sure().await;
            match &open.batch {
                Some(batch) if batch.turns >= MOST_TURNS => {
                    let mut settled = batch.outcome.subscribe();
                    drop(open);
                    settled.wait_for(Option::is_some).await.ok();
                }
                Some(_) => break open,
                None => {
                    open.unsure = true;
                    let cut_short = Recovery(Some(Arc::clone(&self.line)));
                    sqlx::query(Sqlite::BEGIN_WRITE)
                        .execute(&mut open.connection)
                        .await?;
                    cut_short.disarm();
                    open.unsure = false;
                    open.batch = Some(Batch {
                        turns: 0,
                        settler: false,
                        outcome: watch::Sender::new(None),
                    });
                    break open;
                }
            }
        };
        // The turn exists before its savepoint does, so that a failure from here on still
        // leaves the batch to a settler (see `Drop for Turn`).
        let mut turn = Turn {
            open,
            line: Arc::clone(&self.line),
        };
        sqlx::query("SAVEPOINT turn")
            .execute(&mut turn.open.connection)
            .await?;
        turn.open.savepoint = true;
        Ok(turn)
    }

    /// Commits what is pending and closes the connection; later writes fail as closed.
    pub(crate) async fn close(&self) {
        let mut line = self.line.lock().await;
        if let Line::Open(open) = &mut *line {
            open.settle().await;
            open.make_sure().await;
        }
        if let Line::Open(open) = std::mem::replace(&mut *line, Line::Closed) {
            open.connection.close().await.ok();
        }
    }
}

impl Open {
    /// Rolls back the savepoint of a turn abandoned half-way; when SQLite already rolled back
    /// the whole transaction, the batch is over and its turns are told so.
    async fn discard_abandoned(&mut self) {
        if !self.savepoint {
            return;
        }
        self.savepoint = false;
        if let Err(error) = sqlx::raw_sql("ROLLBACK TO turn; RELEASE turn")
            .execute(&mut self.connection)
            .await
        {
            self.end_batch(Err(format!("the transaction was lost: {error}")))
                .await;
        }
    }

    /// Ends the uncertainty `unsure` names with a `ROLLBACK`, which fails harmlessly when no
    /// transaction is open.
    async fn make_sure(&mut self) {
        if self.unsure {
            sqlx::query("ROLLBACK")
                .execute(&mut self.connection)
                .await
                .ok();
            self.unsure = false;
        }
    }

    /// Ends the batch: commits it (after discarding an abandoned turn) and tells its turns.
    /// Only a settler's task and `close` run it, so no caller's deadline cuts a commit short.
    async fn settle(&mut self) {
        self.discard_abandoned().await;
        if self.batch.is_none() {
            return;
        }
        let committed = sqlx::query("COMMIT")
            .execute(&mut self.connection)
            .await
            .map(drop)
            .map_err(|error| format!("the commit failed: {error}"));
        self.end_batch(committed).await;
    }

    /// Tells the batch's turns `outcome`; a batch that did not commit is then rolled back
    /// (which fails harmlessly when SQLite already did).
    async fn end_batch(&mut self, outcome: Outcome) {
        let failed = outcome.is_err();
        if let Some(batch) = self.batch.take() {
            batch.outcome.send_replace(Some(outcome));
        }
        if failed {
            self.unsure = true;
            self.make_sure().await;
        }
    }
}

/// Settles whatever batch is open once the writers queued before it have had their turns.
async fn settle(line: Arc<Mutex<Line>>) {
    if let Line::Open(open) = &mut *line.lock().await {
        open.settle().await;
    }
}

/// Started when a `BEGIN` is cut short, unless disarmed: it takes the connection once the
/// writers already queued have had it and rolls back whatever that `BEGIN` began, so that the
/// file's write lock is not held with no writer left to end the transaction.
struct Recovery(Option<Arc<Mutex<Line>>>);

impl Recovery {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Recovery {
    fn drop(&mut self) {
        let Some(line) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Line::Open(open) = &mut *line.lock().await {
                    open.make_sure().await;
                }
            });
        }
    }
}

/// One write's turn on the writer: its statements run on the connection it derefs to, inside
/// the batch's transaction, until `commit` or `rollback`.
#[derive(Debug)]
pub(crate) struct Turn {
    open: OwnedMappedMutexGuard<Line, Open>,
    line: Arc<Mutex<Line>>,
}

impl Turn {
    /// Keeps this turn's writes, and returns once the batch holding them is committed.
    ///
    /// # Errors
    /// The batch could not be committed: nothing of this turn was written.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.finish("RELEASE turn").await
    }

    /// Undoes this turn's writes, and returns once the batch it read from is settled.
    ///
    /// # Errors
    /// The batch could not be committed, so what this turn read of it may not stand.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.finish("ROLLBACK TO turn; RELEASE turn").await
    }

    async fn finish(mut self, end: &'static str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(end)
            .execute(&mut self.open.connection)
            .await?;
        self.open.savepoint = false;
        let Some(batch) = self.open.batch.as_mut() else {
            return Err(lost());
        };
        batch.turns += 1;
        let mut outcome = batch.outcome.subscribe();
        // Dropping the turn hands the connection on, and starts the batch's settler.
        drop(self);
        let settled = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| lost())?;
        match &*settled {
            Some(Err(reason)) => Err(sqlx::Error::Io(std::io::Error::other(format!(
                "this write was not committed: {reason}"
            )))),
            _ => Ok(()),
        }
    }
}

/// The batch ended without saying how: the store was dropped while it was open.
fn lost() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(
        "the write's transaction ended before it was committed",
    ))
}

impl Deref for Turn {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.open.connection
    }
}

impl DerefMut for Turn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.open.connection
    }
}

impl Drop for Turn {
    /// A turn ends here, finished or not: when it leaves a batch open (its own savepoint
    /// abandoned, or turns that wait for a commit) and no settler is on its way, one is
    /// started. It queues behind the writers already waiting, so they join the batch first.
    fn drop(&mut self) {
        let Some(batch) = self.open.batch.as_mut() else {
            return;
        };
        if batch.settler {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            batch.settler = true;
            runtime.spawn(settle(Arc::clone(&self.line)));
        }
    }
}
