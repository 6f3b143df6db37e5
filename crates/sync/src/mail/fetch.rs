//! `fetch_mail`: each active mailbox with IMAP settings is read by one fetcher across every
//! `run` process, which holds the mailbox's lease (`mail:<mailbox id>`) while it runs.
//!
//! Exactly once, whatever stops the fetcher: for each mail in UID order, the service takes it in
//! (the ticket or message and the mailbox's record of its `Message-ID` commit in one
//! transaction), then the mail is marked seen or moved, then the cursor (`UIDVALIDITY`, last
//! UID) moves past it. A crash between two steps repeats at most the later ones: taking a mail in
//! again is answered `Duplicate`, marking it again is harmless, and the cursor only moves
//! forward. A new `UIDVALIDITY` (the folder was recreated) starts over from the first UID, and
//! the `Message-ID` records keep that from importing anything twice.
//!
//! A mail whose import fails for a reason that may pass (the database, the attachments' disk)
//! holds the mailbox at its UID and is tried again with a backoff of up to 5 minutes; only once
//! it has failed for `POISONED_AFTER` (and at least `MIN_ATTEMPTS` times), or at once when the
//! service refuses it as it is (invalid, too large), is it skipped, so that one poisoned mail
//! never blocks a mailbox for good while an outage of hours loses nothing: a skipped mail is
//! left unread in the folder, logged, and listed under `skipped` in the `fetch_mail` job's next
//! run record (`job_runs`), with its mailbox, `UIDVALIDITY`, UID and the reason. The count
//! lives in the fetcher: a restarted process gives the mail its full time again.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use growdesk_domain::mail::{AfterImport, ImapSettings, Mailbox};
use growdesk_mail::ImapError;
use growdesk_mail::imap::{FetchedMail, FolderState, ImapSession};
use growdesk_service::ServiceError;
use growdesk_store::Stamp;
use growdesk_store::mailboxes::MailboxCursor;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::MailJobs;
use crate::backoff::Backoff;

/// How long a mail's import may keep failing before it is skipped…
const POISONED_AFTER: Duration = Duration::from_secs(2 * 60 * 60);
/// …and how many attempts it gets at least.
const MIN_ATTEMPTS: i32 = 5;
/// Between attempts to reach a mailbox's server again, or at a mail whose import failed.
const RECONNECT: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(5 * 60),
};

/// This process's fetchers, by mailbox, and the mails they skipped since the last report.
#[derive(Default)]
pub(super) struct Fetchers {
    running: tokio::sync::Mutex<HashMap<Uuid, Running>>,
    skipped: Mutex<Vec<Value>>,
}

/// A fetcher task and what it was started with.
struct Running {
    /// The mailbox's `updated_at` it read: a changed mailbox gets a new fetcher.
    version: time::OffsetDateTime,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Fetchers {
    /// Stops every fetcher and waits until each has released its mailbox.
    pub(super) async fn stop_all(&self) {
        let running: Vec<Running> = self
            .running
            .lock()
            .await
            .drain()
            .map(|(_, fetcher)| fetcher)
            .collect();
        for fetcher in &running {
            fetcher.stop.cancel();
        }
        for fetcher in running {
            let _ended = fetcher.task.await;
        }
    }

    fn record_skipped(&self, entry: Value) {
        if let Ok(mut skipped) = self.skipped.lock() {
            skipped.push(entry);
        }
    }

    fn take_skipped(&self) -> Vec<Value> {
        self.skipped
            .lock()
            .map(|mut skipped| std::mem::take(&mut *skipped))
            .unwrap_or_default()
    }
}

/// The lease of `mailbox`'s fetcher.
fn lease_name(mailbox: Uuid) -> String {
    format!("mail:{mailbox}")
}

/// The mailboxes there should be a fetcher for, with their IMAP settings.
async fn fetched_mailboxes(jobs: &MailJobs) -> anyhow::Result<Vec<(Mailbox, ImapSettings)>> {
    Ok(jobs
        .store()
        .mailboxes()
        .list()
        .await?
        .into_iter()
        .filter(|mailbox| mailbox.active)
        .filter_map(|mailbox| {
            let imap = mailbox.imap.clone()?;
            Some((mailbox, imap))
        })
        .collect())
}

/// Takes `mailbox`'s lease for this process, if no one holds it.
async fn acquire(jobs: &MailJobs, mailbox: Uuid, now: Stamp) -> anyhow::Result<bool> {
    Ok(jobs
        .store()
        .jobs()
        .acquire(
            &lease_name(mailbox),
            &jobs.holder,
            now,
            jobs.settings.lease,
            Duration::ZERO,
        )
        .await?)
}

/// Runs `work` while renewing this process's lease on `mailbox`; `None` when the lease was lost
/// (another process took the mailbox after this one failed to renew in time), and `work` with
/// it.
async fn renewing<T>(jobs: &MailJobs, mailbox: Uuid, work: impl Future<Output = T>) -> Option<T> {
    let name = lease_name(mailbox);
    let mut renew = tokio::time::interval(jobs.settings.lease / 3);
    renew.tick().await;
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Some(done),
            _ = renew.tick() => {
                let until = Stamp::now().saturating_add(jobs.settings.lease);
                match jobs.store().jobs().renew(&name, &jobs.holder, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%mailbox, "lost the mailbox's lease; its fetcher stops");
                        return None;
                    }
                    // The fetch fails on the same database soon; the lease lasts until then.
                    Err(error) => tracing::warn!(%mailbox, %error, "could not renew the mailbox's lease"),
                }
            }
        }
    }
}

/// Releases `mailbox`'s lease, recording the fetcher's run.
async fn release(jobs: &MailJobs, mailbox: Uuid, started: Stamp, outcome: &Value) {
    if let Err(error) = jobs
        .store()
        .jobs()
        .finish(
            &lease_name(mailbox),
            &jobs.holder,
            started,
            Stamp::now(),
            outcome,
        )
        .await
    {
        tracing::warn!(%mailbox, %error, "could not release the mailbox's lease; it expires");
    }
}

/// Under `run`: starts a fetcher for each mailbox to fetch that this process wins the lease of
/// and that has none here, and stops those whose mailbox is gone, inactive or changed.
pub(super) async fn supervise(jobs: &MailJobs) -> anyhow::Result<Value> {
    let wanted = fetched_mailboxes(jobs).await?;
    let versions: HashMap<Uuid, time::OffsetDateTime> = wanted
        .iter()
        .map(|(mailbox, _)| (mailbox.id, mailbox.updated_at))
        .collect();
    let mut running = jobs.fetchers.running.lock().await;
    // A fetcher that ended (its lease lost) is started again below if its lease is free.
    running.retain(|_, fetcher| !fetcher.task.is_finished());
    let outdated: Vec<Uuid> = running
        .iter()
        .filter(|(id, fetcher)| versions.get(id) != Some(&fetcher.version))
        .map(|(id, _)| *id)
        .collect();
    for id in &outdated {
        if let Some(fetcher) = running.remove(id) {
            fetcher.stop.cancel();
            let _ended = fetcher.task.await;
        }
    }
    let mut started = 0;
    for (mailbox, imap) in wanted {
        if running.contains_key(&mailbox.id) || !acquire(jobs, mailbox.id, Stamp::now()).await? {
            continue;
        }
        let stop = CancellationToken::new();
        let version = mailbox.updated_at;
        let id = mailbox.id;
        let task = tokio::spawn(fetch_until_stopped(
            jobs.clone(),
            mailbox,
            imap,
            stop.clone(),
        ));
        running.insert(
            id,
            Running {
                version,
                stop,
                task,
            },
        );
        started += 1;
    }
    Ok(json!({
        "fetchers": running.len(),
        "started": started,
        "stopped": outdated.len(),
        "skipped": jobs.fetchers.take_skipped(),
    }))
}

/// A fetcher task: holds the mailbox (whose lease the supervisor took) until `stop` or until
/// the lease is lost, then releases it.
async fn fetch_until_stopped(
    jobs: MailJobs,
    mailbox: Mailbox,
    imap: ImapSettings,
    stop: CancellationToken,
) {
    let started = Stamp::now();
    let id = mailbox.id;
    tracing::info!(mailbox = %id, "fetching mail");
    let mut fetcher = Fetcher::new(&jobs, mailbox, imap);
    let ended = tokio::select! {
        () = stop.cancelled() => "stopped",
        lost = renewing(&jobs, id, fetcher.keep_fetching()) => match lost {
            None => "lease lost",
        },
    };
    let outcome = json!({"imported": fetcher.imported, "ended": ended});
    release(&jobs, id, started, &outcome).await;
}

/// Under `run --once`: each mailbox whose lease this process wins is fetched until nothing new
/// is left (or a failure), then released.
pub(super) async fn fetch_each_once(jobs: &MailJobs) -> anyhow::Result<Value> {
    let mut imported = 0;
    let mut errors = Vec::new();
    for (mailbox, imap) in fetched_mailboxes(jobs).await? {
        let started = Stamp::now();
        let id = mailbox.id;
        if !acquire(jobs, id, started).await? {
            continue;
        }
        let mut fetcher = Fetcher::new(jobs, mailbox, imap);
        let result = renewing(jobs, id, fetcher.fetch_once()).await;
        let error = match result {
            Some(Ok(())) => None,
            Some(Err(error)) => Some(format!("{error:#}")),
            None => Some("lost the mailbox's lease".to_owned()),
        };
        let outcome = json!({"imported": fetcher.imported, "error": error});
        release(jobs, id, started, &outcome).await;
        imported += fetcher.imported;
        if let Some(error) = error {
            errors.push(json!({"mailbox": id, "error": error}));
        }
    }
    Ok(json!({
        "imported": imported,
        "errors": errors,
        "skipped": jobs.fetchers.take_skipped(),
    }))
}

/// Where a pass over the new mail stopped.
enum Drained {
    /// Every mail was taken in (or skipped): wait for more.
    Done,
    /// A mail's import failed for a reason that may pass: try again after the delay.
    RetryAfter(Duration),
}

/// What became of one mail.
enum Import {
    /// Taken in (or known already): mark it and move past it.
    Done,
    /// Refused for good or failed too often: leave it unread and move past it.
    Skip(String),
    /// Failed for a reason that may pass: stay at its UID.
    Retry(String),
}

/// One mailbox's fetcher.
struct Fetcher<'a> {
    jobs: &'a MailJobs,
    mailbox: Mailbox,
    imap: ImapSettings,
    /// Failed imports, by `(UIDVALIDITY, UID)`: how many, since when.
    attempts: HashMap<(u32, u32), (i32, Instant)>,
    /// Connections or rounds that failed in a row.
    failures: i32,
    /// Mails taken in.
    imported: u64,
}

impl<'a> Fetcher<'a> {
    fn new(jobs: &'a MailJobs, mailbox: Mailbox, imap: ImapSettings) -> Self {
        Self {
            jobs,
            mailbox,
            imap,
            attempts: HashMap::new(),
            failures: 0,
            imported: 0,
        }
    }

    /// Connects, fetches, waits for new mail and fetches again, for ever; a dropped
    /// connection or an unreachable server is tried again with a backoff.
    async fn keep_fetching(&mut self) -> Infallible {
        loop {
            let Err(error) = self.session().await;
            self.failures = self.failures.saturating_add(1);
            let delay = RECONNECT.delay(self.failures);
            tracing::warn!(
                mailbox = %self.mailbox.id,
                error = %format!("{error:#}"),
                retry_in_ms = delay.as_millis(),
                "fetching mail failed"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One connection: fetch what is new, then wait (IDLE where offered, else the poll
    /// interval), until the connection fails.
    async fn session(&mut self) -> anyhow::Result<Infallible> {
        let mut session = self.connect().await?;
        loop {
            let state = session.select().await?;
            self.failures = 0;
            match self.drain(&mut session, &state).await? {
                Drained::Done if state.idle => {
                    session.idle(self.jobs.settings.idle).await?;
                }
                Drained::Done => tokio::time::sleep(self.jobs.settings.poll).await,
                Drained::RetryAfter(delay) => tokio::time::sleep(delay).await,
            }
        }
    }

    /// One connection that fetches what is new, then logs out.
    async fn fetch_once(&mut self) -> anyhow::Result<()> {
        let mut session = self.connect().await?;
        let state = session.select().await?;
        let drained = self.drain(&mut session, &state).await?;
        session.logout().await?;
        match drained {
            Drained::Done => Ok(()),
            Drained::RetryAfter(_) => anyhow::bail!("a mail could not be imported yet"),
        }
    }

    async fn connect(&self) -> anyhow::Result<ImapSession> {
        let secrets = self
            .jobs
            .store()
            .mailboxes()
            .secrets(self.mailbox.id)
            .await?
            .context("the mailbox was deleted")?;
        Ok(ImapSession::connect(
            &self.imap,
            secrets.imap_password.as_deref().unwrap_or_default(),
            self.jobs.settings.timeout,
        )
        .await?)
    }

    /// Takes in every mail after the cursor, a bounded batch at a time, in UID order.
    async fn drain(
        &mut self,
        session: &mut ImapSession,
        state: &FolderState,
    ) -> anyhow::Result<Drained> {
        let store = self.jobs.store();
        let mut last_uid = match store.mailboxes().cursor(self.mailbox.id).await? {
            Some(cursor) if cursor.uid_validity == state.uid_validity => cursor.last_uid,
            // The folder was recreated: its UIDs are new, start over (Message-IDs keep it once).
            Some(_) => 0,
            // Never read: from the first unseen mail, so that a mailbox given to GrowDesk with
            // years of read mail in it opens (and acknowledges) only what nobody has read yet.
            None => match session.first_unseen().await? {
                Some(uid) => uid.saturating_sub(1),
                None => state.uid_next.saturating_sub(1),
            },
        };
        loop {
            let batch = session
                .fetch_after(last_uid, self.jobs.settings.fetch_batch)
                .await?;
            if batch.is_empty() {
                return Ok(Drained::Done);
            }
            for mail in batch {
                let uid = mail.uid;
                match self.import(state.uid_validity, mail).await? {
                    Import::Done => match self.after_import(session, uid).await {
                        Ok(()) => {}
                        // Refused (a move to a folder that is gone): the mail is in, so the
                        // mailbox goes on past it rather than stopping at it for ever.
                        Err(error @ ImapError::Protocol { .. }) => {
                            let reason = format!("imported, but not marked or moved: {error}");
                            tracing::warn!(mailbox = %self.mailbox.id, uid, %reason, "mail left in place");
                            self.jobs.fetchers.record_skipped(json!({
                                "mailbox": self.mailbox.id,
                                "uid_validity": state.uid_validity,
                                "uid": uid,
                                "reason": reason,
                            }));
                        }
                        Err(error) => return Err(error.into()),
                    },
                    Import::Skip(reason) => {
                        tracing::warn!(mailbox = %self.mailbox.id, uid, %reason, "mail skipped");
                        self.jobs.fetchers.record_skipped(json!({
                            "mailbox": self.mailbox.id,
                            "uid_validity": state.uid_validity,
                            "uid": uid,
                            "reason": reason,
                        }));
                    }
                    Import::Retry(reason) => {
                        let attempt = self
                            .attempts
                            .get(&(state.uid_validity, uid))
                            .map_or(1, |(count, _)| *count);
                        let delay = RECONNECT.delay(attempt);
                        tracing::warn!(
                            mailbox = %self.mailbox.id, uid, attempt, %reason,
                            retry_in_ms = delay.as_millis(),
                            "mail not imported; trying again"
                        );
                        return Ok(Drained::RetryAfter(delay));
                    }
                }
                store
                    .mailboxes()
                    .set_cursor(
                        self.mailbox.id,
                        MailboxCursor {
                            uid_validity: state.uid_validity,
                            last_uid: uid,
                        },
                    )
                    .await?;
                last_uid = uid;
            }
        }
    }

    /// Hands one mail to the service. A database that cannot be reached is the fetcher's
    /// failure (`Err`: reconnect later), not the mail's.
    async fn import(&mut self, uid_validity: u32, mail: FetchedMail) -> anyhow::Result<Import> {
        let received = self
            .jobs
            .service
            .email()
            .receive(self.mailbox.id, mail.raw)
            .await;
        match received {
            Ok(_) => {
                self.imported += 1;
                self.attempts.remove(&(uid_validity, mail.uid));
                Ok(Import::Done)
            }
            Err(error @ ServiceError::Unavailable(_)) => Err(error.into()),
            Err(
                error @ (ServiceError::Internal(_)
                | ServiceError::Conflict(_)
                | ServiceError::RateLimited { .. }),
            ) => {
                let reason = format!("{:#}", anyhow::Error::from(error));
                let (count, since) = self
                    .attempts
                    .entry((uid_validity, mail.uid))
                    .or_insert((0, Instant::now()));
                *count += 1;
                if *count >= MIN_ATTEMPTS && since.elapsed() >= POISONED_AFTER {
                    let count = *count;
                    self.attempts.remove(&(uid_validity, mail.uid));
                    Ok(Import::Skip(format!(
                        "failed {count} times over {} minutes, last: {reason}",
                        POISONED_AFTER.as_secs() / 60
                    )))
                } else {
                    Ok(Import::Retry(reason))
                }
            }
            // Refused as it is (invalid, too large): trying again cannot help.
            Err(error) => Ok(Import::Skip(error.to_string())),
        }
    }

    /// Marks the mail seen or moves it, as the mailbox says.
    async fn after_import(&self, session: &mut ImapSession, uid: u32) -> Result<(), ImapError> {
        match &self.imap.after_import {
            AfterImport::MarkSeen => session.mark_seen(uid).await,
            AfterImport::Move(folder) => session.move_to(uid, folder).await,
        }
    }
}
