//! `growdesk-sync run`: scheduled maintenance. Each job runs when due, under a lease in the
//! database, so several `run` processes on one database never run the same job at once.
//!
//! - `auto_close`: tickets resolved longer ago than `auto_close_after_days` are closed, with a
//!   message from the system account and a `status_changed` event.
//! - `sla_breaches`: open work past its first-response or resolution target (per priority) is
//!   told, once, to its assignee — or to every admin when nobody holds it.
//! - `purge_expired`: spent and expired refresh tokens, old sessions and idempotency keys go.
//! - `clean_temp`: files in the data directory's `tmp/` older than a day go.
//! - `deliver_webhooks`: due webhook deliveries are sent (see `crate::webhooks`).
//! - `merge_search_indexes`: SQLite's full-text indexes are merged, a bounded step at a time,
//!   so a search probes one segment instead of many (PostgreSQL's are autovacuum's work).
//! - `send_mail`: due mails of the outbox are sent (see `crate::mail`).
//! - `fetch_mail`: not a leased job but a step of every process's pass (each mailbox has a
//!   lease of its own): fetchers are started and stopped as mailboxes come and go.
//! - `import:<name>`: the scheduled imports of the configuration.

use std::path::PathBuf;
use std::time::Duration;

use growdesk_service::system::{SlaTargets, System};
use growdesk_store::{Stamp, Store};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::importers::Source;
use crate::mail::MailJobs;

/// Tickets or records one pass of a job handles (the next pass takes the rest).
const BATCH: u32 = 500;
/// How long finished webhook deliveries stay in the log.
const DELIVERY_LOG_KEPT: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How long a lease lasts: a crashed holder's job is free again after it.
const LEASE: Duration = Duration::from_secs(10 * 60);

/// What the jobs are configured with.
#[derive(Debug, Clone)]
pub(crate) struct JobSettings {
    pub(crate) auto_close_after: Duration,
    pub(crate) sla: SlaTargets,
    pub(crate) temp_dir: PathBuf,
    /// Where imported attachments' bytes go.
    pub(crate) files: growdesk_store::FileStore,
    pub(crate) allow_private_webhook_targets: bool,
    pub(crate) imports: Vec<ScheduledImport>,
}

/// An import run on a schedule.
#[derive(Debug, Clone)]
pub(crate) struct ScheduledImport {
    /// `import:<name>`.
    job_name: String,
    every: Duration,
    source: Source,
}

/// The arguments of a scheduled import, parsed as `growdesk-sync import` would.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct ImportArgs {
    #[command(subcommand)]
    source: Source,
}

impl JobSettings {
    /// The jobs' settings from the shared configuration.
    ///
    /// # Errors
    /// A service-level target or a scheduled import does not parse.
    pub(crate) fn from_settings(settings: &growdesk_app::config::Settings) -> Result<Self, String> {
        Ok(Self {
            auto_close_after: Duration::from_secs(
                settings.auto_close_after_days.saturating_mul(86_400),
            ),
            sla: SlaTargets::parse(
                &settings.sla_first_response_hours,
                &settings.sla_resolution_hours,
            )?,
            temp_dir: settings.data_dir.join("tmp"),
            files: growdesk_app::attachment_files(settings),
            allow_private_webhook_targets: settings.webhook_allow_private_targets,
            imports: settings
                .scheduled_imports
                .iter()
                .map(|import| {
                    let parsed = <ImportArgs as clap::Parser>::try_parse_from(&import.args)
                        .map_err(|error| format!("scheduled import {:?}: {error}", import.name))?;
                    if import.every_minutes == 0 {
                        return Err(format!(
                            "scheduled import {:?}: every_minutes must be at least 1",
                            import.name
                        ));
                    }
                    Ok(ScheduledImport {
                        job_name: format!("import:{}", import.name),
                        every: Duration::from_secs(import.every_minutes.saturating_mul(60)),
                        source: parsed.source,
                    })
                })
                .collect::<Result<_, String>>()?,
        })
    }
}

/// The jobs `run` runs, each with how often and what for; listed in its `--help`, made from
/// the jobs themselves so the list cannot drift.
pub(crate) fn described_jobs() -> String {
    let mut text = String::from("Jobs:\n");
    for job in Job::ALL {
        let every = match job.every().as_secs() {
            0 => "every pass".to_owned(),
            secs if secs % 3600 == 0 => format!("every {} h", secs / 3600),
            secs => format!("every {} min", secs / 60),
        };
        text.push_str(&format!("  {:<22}{every}: {}\n", job.name(), job.purpose()));
    }
    text.push_str(
        "  fetch_mail            every min, in each process: one fetcher per active mailbox with \
         IMAP settings, under the mailbox's lease (IDLE or polling)\n",
    );
    text.push_str(
        "  import:<name>         each [[scheduled_imports]] entry of the configuration file, \
         every `every_minutes`\n",
    );
    text
}

/// The maintenance jobs.
/// Bounds one run's index merging (a step is a few milliseconds); the next run goes on.
const SEARCH_MERGE_STEPS_PER_RUN: u64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    AutoClose,
    SlaBreaches,
    PurgeExpired,
    CleanTemp,
    DeliverWebhooks,
    MergeSearchIndexes,
    SendMail,
}

impl Job {
    pub(crate) const ALL: [Job; 7] = [
        Job::AutoClose,
        Job::SlaBreaches,
        Job::PurgeExpired,
        Job::CleanTemp,
        Job::DeliverWebhooks,
        Job::MergeSearchIndexes,
        Job::SendMail,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Job::AutoClose => "auto_close",
            Job::SlaBreaches => "sla_breaches",
            Job::PurgeExpired => "purge_expired",
            Job::CleanTemp => "clean_temp",
            Job::DeliverWebhooks => "deliver_webhooks",
            Job::MergeSearchIndexes => "merge_search_indexes",
            Job::SendMail => "send_mail",
        }
    }

    /// What the job does, for `growdesk-sync run --help`.
    fn purpose(self) -> &'static str {
        match self {
            Job::AutoClose => {
                "closes tickets resolved longer ago than GROWDESK_AUTO_CLOSE_AFTER_DAYS"
            }
            Job::SlaBreaches => {
                "notifies staff of tickets past their first-response or resolution target"
            }
            Job::PurgeExpired => {
                "deletes expired sessions, refresh tokens and idempotency keys, and webhook \
                 delivery records older than a week"
            }
            Job::CleanTemp => "removes files older than a day from the data directory's tmp/",
            Job::DeliverWebhooks => "sends the webhook deliveries that are due, with retries",
            Job::MergeSearchIndexes => "merges the full-text search index's pending changes",
            Job::SendMail => "sends the outbox's due mails by SMTP, with retries",
        }
    }

    /// How often the job is due.
    fn every(self) -> Duration {
        match self {
            Job::AutoClose | Job::SlaBreaches => Duration::from_secs(5 * 60),
            Job::PurgeExpired | Job::CleanTemp | Job::MergeSearchIndexes => {
                Duration::from_secs(60 * 60)
            }
            // Every pass: deliveries wait for nothing but the tick.
            Job::DeliverWebhooks | Job::SendMail => Duration::ZERO,
        }
    }

    async fn run(
        self,
        store: &Store,
        settings: &JobSettings,
        mail: &MailJobs,
        now: Stamp,
    ) -> anyhow::Result<Value> {
        match self {
            Job::AutoClose => {
                let closed = System::new(store.clone())
                    .auto_close(settings.auto_close_after, now, BATCH)
                    .await?;
                Ok(json!({"closed": closed}))
            }
            Job::SlaBreaches => {
                let told = System::new(store.clone())
                    .notify_breaches(&settings.sla, now, BATCH)
                    .await?;
                Ok(json!({"breaches": told}))
            }
            Job::PurgeExpired => {
                let (tokens, sessions, keys) = store.jobs().purge_expired(now).await?;
                let deliveries = store
                    .webhooks()
                    .prune_deliveries(now.saturating_sub(DELIVERY_LOG_KEPT))
                    .await?;
                Ok(json!({
                    "refresh_tokens": tokens,
                    "sessions": sessions,
                    "idempotency_keys": keys,
                    "webhook_deliveries": deliveries,
                }))
            }
            Job::CleanTemp => Ok(json!({"files": clean_temp(&settings.temp_dir, now)?})),
            Job::DeliverWebhooks => {
                crate::webhooks::deliver_due(store, settings.allow_private_webhook_targets, now)
                    .await
            }
            Job::MergeSearchIndexes => Ok(json!({
                "steps": store.jobs().merge_search_indexes(SEARCH_MERGE_STEPS_PER_RUN).await?
            })),
            Job::SendMail => mail.send(now).await,
        }
    }
}

fn clean_temp(dir: &std::path::Path, now: Stamp) -> anyhow::Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let cutoff = std::time::SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            u64::try_from(
                now.saturating_sub(Duration::from_secs(86_400))
                    .into_inner()
                    .unix_timestamp(),
            )
            .unwrap_or(0),
        );
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| modified < cutoff);
        if stale && entry.path().is_file() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Runs `work` as job `name` if it is due and this holder wins its lease.
async fn run_leased<Work>(
    store: &Store,
    name: &str,
    every: Duration,
    holder: &str,
    now: Stamp,
    work: Work,
) -> anyhow::Result<Option<Value>>
where
    Work: Future<Output = anyhow::Result<Value>>,
{
    if !store
        .jobs()
        .acquire(name, holder, now, LEASE, every)
        .await?
    {
        return Ok(None);
    }
    // Renew the lease while the work lasts, so a long import is never run twice at once.
    let started = std::time::Instant::now();
    let mut renew = tokio::time::interval(LEASE / 3);
    renew.tick().await;
    let mut work = std::pin::pin!(work);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = renew.tick() => {
                let until = Stamp::from(now.into_inner() + time::Duration::try_from(LEASE + started.elapsed()).unwrap_or(time::Duration::ZERO));
                if !store.jobs().renew(name, holder, until).await? {
                    tracing::warn!(job = name, "lost the job's lease while running");
                }
            }
        }
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::warn!(job = name, error = %format!("{error:#}"), "job failed");
            json!({"error": format!("{error:#}")})
        }
    };
    store
        .jobs()
        .finish(name, holder, now, now, &outcome)
        .await?;
    tracing::info!(job = name, %outcome, "job ran");
    Ok(Some(outcome))
}

/// One pass: every due job whose lease this holder wins runs, at time `now`.
///
/// # Errors
/// The database failed.
pub(crate) async fn run_once(
    store: &Store,
    settings: &JobSettings,
    mail: &MailJobs,
    holder: &str,
    now: Stamp,
) -> anyhow::Result<Vec<(String, Value)>> {
    let mut ran = Vec::new();
    if let Some(outcome) = mail.fetch_if_due(now).await? {
        ran.push(("fetch_mail".to_owned(), outcome));
    }
    for job in Job::ALL {
        let work = job.run(store, settings, mail, now);
        if let Some(outcome) = run_leased(store, job.name(), job.every(), holder, now, work).await?
        {
            ran.push((job.name().to_owned(), outcome));
        }
    }
    for import in &settings.imports {
        let work = async {
            let report =
                crate::importers::run(store, &settings.files, import.source.clone(), false).await?;
            Ok(json!({
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "refused": report.refused.len(),
            }))
        };
        if let Some(outcome) =
            run_leased(store, &import.job_name, import.every, holder, now, work).await?
        {
            ran.push((import.job_name.clone(), outcome));
        }
    }
    Ok(ran)
}

/// Passes every `tick` until `shutdown`.
pub(crate) async fn run_forever(
    store: &Store,
    settings: &JobSettings,
    mail: &MailJobs,
    holder: &str,
    tick: Duration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = run_once(store, settings, mail, holder, Stamp::now()).await {
            tracing::warn!(error = %format!("{error:#}"), "scheduler pass failed; retrying next tick");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(tick) => {}
        }
    }
    // Fetchers release their mailboxes, so another process takes them over at once.
    mail.stop().await;
}
