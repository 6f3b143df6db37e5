//! The email channel's jobs in `growdesk-sync run`: `fetch_mail` keeps one fetcher per active
//! mailbox with IMAP settings (each under its own lease, `mail:<mailbox id>`, so one process
//! across instances reads a mailbox), and `send_mail` sends the outbox over SMTP.

mod fetch;
mod send;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use growdesk_mail::MailError;
use growdesk_mail::outbound::DkimKey;
use growdesk_service::Service;
use growdesk_store::{FileStore, Stamp, Store};
use serde_json::Value;

/// How often a process looks at which mailboxes to fetch (at most: see `fetch_if_due`).
const SUPERVISE_EVERY: Duration = Duration::from_secs(60);

/// How the mail jobs fetch and send.
#[derive(Debug, Clone)]
pub(crate) struct MailSettings {
    /// Mails one IMAP FETCH brings: what a fetcher holds in memory at once.
    pub(crate) fetch_batch: usize,
    /// Between looks at a mailbox whose server does not offer IDLE.
    pub(crate) poll: Duration,
    /// The longest IDLE before the fetcher looks again on its own.
    pub(crate) idle: Duration,
    /// A mailbox's lease: a fetcher that died leaves its mailbox to another process after it.
    pub(crate) lease: Duration,
    /// How long an IMAP or SMTP server has to answer.
    pub(crate) timeout: Duration,
    /// The key outgoing mail is signed with, if any.
    pub(crate) dkim: Option<Dkim>,
}

/// A DKIM key for outgoing mail: each mailbox signs as its own domain, with one selector.
#[derive(Clone)]
pub(crate) struct Dkim {
    selector: String,
    pem: Arc<str>,
}

/// Never prints the key.
impl std::fmt::Debug for Dkim {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Dkim")
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl Dkim {
    /// The key in the PEM file `file`, published under `selector`.
    ///
    /// # Errors
    /// The file cannot be read or holds no usable key: refused at start, not at the first mail.
    pub(crate) fn load(file: &std::path::Path, selector: &str) -> Result<Self, String> {
        let pem = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read the DKIM key {}: {error}", file.display()))?;
        DkimKey::from_pem(selector, "example.com", &pem).map_err(|error| error.to_string())?;
        Ok(Self {
            selector: selector.to_owned(),
            pem: pem.into(),
        })
    }

    /// The key for mail from `domain`.
    fn key_for(&self, domain: &str) -> Result<DkimKey, MailError> {
        DkimKey::from_pem(&self.selector, domain, &self.pem)
    }
}

impl MailSettings {
    /// The defaults, with the operator's poll interval, lease and DKIM key.
    pub(crate) fn new(poll: Duration, lease: Duration, dkim: Option<Dkim>) -> Self {
        Self {
            fetch_batch: 50,
            poll,
            // RFC 9051 asks clients to renew IDLE within 29 minutes; 5 keeps a fetcher that
            // missed a wake-up (a NAT dropping the quiet connection) from sleeping long.
            idle: Duration::from_secs(5 * 60).min(lease / 3),
            lease,
            timeout: Duration::from_secs(30),
            dkim,
        }
    }
}

/// What the mail jobs work with: the service (whose use cases take in every mail), the
/// attachments' bytes, the settings, and this process's running fetchers.
#[derive(Clone)]
pub(crate) struct MailJobs {
    service: Service,
    files: FileStore,
    settings: MailSettings,
    holder: String,
    /// Under `run` (not `--once`): fetchers live between passes.
    resident: bool,
    fetchers: Arc<fetch::Fetchers>,
    /// When this process last looked at which mailboxes to fetch.
    supervised: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for MailJobs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MailJobs")
            .field("settings", &self.settings)
            .field("holder", &self.holder)
            .field("resident", &self.resident)
            .finish_non_exhaustive()
    }
}

impl MailJobs {
    /// The mail jobs of a `run` process (`resident`) or of `run --once`.
    pub(crate) fn new(
        service: Service,
        files: FileStore,
        settings: MailSettings,
        holder: &str,
        resident: bool,
    ) -> Self {
        Self {
            service,
            files,
            settings,
            holder: holder.to_owned(),
            resident,
            fetchers: Arc::default(),
            supervised: Arc::default(),
        }
    }

    fn store(&self) -> &Store {
        self.service.store()
    }

    /// `fetch_mail`'s pass, when due; its outcome, recorded in `job_runs` when it changed
    /// something. It is no leased job: every process takes part, and each mailbox's own lease
    /// keeps it to one fetcher. Under `run`, fetchers are started for the mailboxes whose lease
    /// is free and stopped for those gone, changed or inactive, and keep going between passes
    /// (IDLE lasts minutes, and must not hold the other jobs up); the look is taken every
    /// minute, or every lease when that is shorter, so a dead process's mailboxes are taken
    /// over within about a lease. With `run --once`, each mailbox whose lease this process wins
    /// is fetched until nothing new is left.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn fetch_if_due(&self, now: Stamp) -> anyhow::Result<Option<Value>> {
        let outcome = if self.resident {
            let every = SUPERVISE_EVERY.min(self.settings.lease);
            {
                let mut last = self
                    .supervised
                    .lock()
                    .map_err(|_| anyhow::anyhow!("a fetch_mail pass panicked"))?;
                if last.is_some_and(|at| at.elapsed() < every) {
                    return Ok(None);
                }
                *last = Some(Instant::now());
            }
            fetch::supervise(self).await?
        } else {
            fetch::fetch_each_once(self).await?
        };
        let changed = ["started", "stopped", "imported"]
            .iter()
            .any(|key| outcome[key].as_u64().is_some_and(|count| count > 0))
            || outcome["skipped"]
                .as_array()
                .is_some_and(|skipped| !skipped.is_empty())
            || outcome["errors"]
                .as_array()
                .is_some_and(|errors| !errors.is_empty());
        if changed {
            self.store()
                .jobs()
                .finish("fetch_mail", &self.holder, now, Stamp::now(), &outcome)
                .await?;
        }
        Ok(Some(outcome))
    }

    /// `send_mail`'s pass: the outbox's due mails are sent.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn send(&self, now: Stamp) -> anyhow::Result<Value> {
        send::send_due(self, now).await
    }

    /// Stops every fetcher of this process and waits for them to release their mailboxes.
    pub(crate) async fn stop(&self) {
        self.fetchers.stop_all().await;
    }
}
