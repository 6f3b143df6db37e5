//! `growdesk-sync`: the sync server. Migrations, moving data in and out (GrowDesk's own export
//! and import, CSV, Zendesk, Freshdesk) and scheduled maintenance.

mod backoff;
mod export;
mod format;
mod importers;
mod jobs;
mod mail;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use growdesk_app::config::CommonArgs;
use growdesk_app::{
    attachment_files, build_service, cancel_on_shutdown_signal, open_store, run_binary,
};

/// GrowDesk sync server: imports, exports and maintenance, against the same database as
/// growdesk-server.
#[derive(Debug, Parser)]
#[command(name = "growdesk-sync", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Write a backup of everything (users with password hashes, categories, FAQs, widgets with
    /// their keys and secrets, visitors, webhooks with their secrets, tickets with their
    /// messages and attachments) to PATH: a `.jsonl` file, or a directory that gets
    /// `growdesk-export.jsonl`; attachments' files go to `attachments/` beside it.
    Export {
        /// A `.jsonl` file, or a directory.
        path: PathBuf,
    },
    /// Import records. Exit code 0: all imported; 1: some records refused (see the report);
    /// 2: failure.
    Import {
        #[command(subcommand)]
        source: importers::Source,
        /// Write nothing; report what the run would (the same created, updated, unchanged and
        /// refused counts).
        #[arg(long, global = true)]
        dry_run: bool,
        /// Also write the report, as JSON, to FILE.
        #[arg(long, global = true, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Run the maintenance jobs (auto-close, SLA breaches, purging expired sessions, cleaning
    /// temporary files, fetching and sending mail) when due, until SIGTERM or Ctrl-C. Any number of `run` processes may
    /// share a database: each job runs in one of them at a time.
    #[command(after_help = jobs::described_jobs())]
    Run {
        /// One pass of the due jobs, then exit.
        #[arg(long)]
        once: bool,
        /// Act as if it were this time (RFC 3339), for trying out the jobs; needs --once.
        #[arg(long, requires = "once", value_parser = parse_time)]
        now: Option<time::OffsetDateTime>,
        /// The name this process holds job leases under (default: host and process id).
        #[arg(long)]
        holder: Option<String>,
        /// Seconds between looks for due jobs.
        #[arg(long, default_value_t = 2)]
        tick_secs: u64,
        /// Seconds between looks at a mailbox whose IMAP server does not offer IDLE.
        #[arg(long, default_value_t = 60)]
        mail_poll_secs: u64,
        /// Seconds a mailbox's fetcher holds its lease between renewals: after a crash, another
        /// process takes the mailbox over within about this long.
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(3..))]
        mail_lease_secs: u64,
        /// A DKIM private key (PEM: Ed25519 PKCS#8 or RSA PKCS#1) that outgoing mail is signed
        /// with, as its mailbox's domain; needs --dkim-selector.
        #[arg(long, value_name = "FILE", requires = "dkim_selector")]
        dkim_key: Option<PathBuf>,
        /// The DNS selector the key's public half is published under
        /// (`<selector>._domainkey.<domain>`).
        #[arg(long, requires = "dkim_key")]
        dkim_selector: Option<String>,
    },
}

fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|error| format!("not an RFC 3339 time: {error}"))
}

/// Exit code for an import that refused some records.
const SOME_REFUSED: u8 = 1;
/// Exit code for a failure (of the database, of reading a file, of the configuration).
const FAILED: u8 = 2;

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let no_extra_flags = std::collections::BTreeMap::<String, String>::new();
    let mut refused = false;
    let code = run_binary("growdesk-sync", &cli.common, no_extra_flags, |settings| {
        let refused = &mut refused;
        async move {
            // `run` works through the service (which takes mail in) and its store, so that the
            // process has one pool and, on SQLite, one writer. The service shares the server's
            // signing key: the unsubscribe links of acknowledgements are signed with it.
            let (store, service) = if matches!(cli.command, Command::Run { .. }) {
                let (service, _) = build_service(&settings)
                    .await
                    .map_err(|error| error.to_string())?;
                (service.store().clone(), Some(service))
            } else {
                let store = open_store(&settings)
                    .await
                    .map_err(|error| error.to_string())?;
                (store, None)
            };
            match cli.command {
                Command::Migrate => {
                    tracing::info!(database = ?settings.database_url, "migrations applied")
                }
                Command::Export { path } => {
                    let files = attachment_files(&settings);
                    let counts = export::export(&store, &files, &path)
                        .await
                        .map_err(|error| format!("export failed: {error:#}"))?;
                    println!(
                        "exported {} users, {} categories, {} FAQs, {} widgets, {} visitors, {} webhooks, \
                         {} tickets, {} messages, {} attachments, {} events, {} notifications, {} views, \
                         {} canned replies, {} read marks, {} mailboxes, {} mails taken in, {} mails sent or \
                         queued, {} email templates, {} suppressed addresses to {}",
                        counts.users,
                        counts.categories,
                        counts.faqs,
                        counts.widgets,
                        counts.visitors,
                        counts.webhooks,
                        counts.tickets,
                        counts.messages,
                        counts.attachments,
                        counts.events,
                        counts.notifications,
                        counts.views,
                        counts.canned_replies,
                        counts.read_marks,
                        counts.mailboxes,
                        counts.inbound_mails,
                        counts.outbound_mails,
                        counts.email_templates,
                        counts.email_suppressions,
                        export::target(&path).display()
                    );
                }
                Command::Import {
                    source,
                    dry_run,
                    report,
                } => {
                    let files = attachment_files(&settings);
                    let outcome = importers::run(&store, &files, source, dry_run).await;
                    let outcome = outcome.map_err(|error| format!("import failed: {error:#}"))?;
                    println!("{}", outcome.summary());
                    for line in outcome.refusal_lines(20, report.as_deref()) {
                        eprintln!("{line}");
                    }
                    if let Some(file) = report {
                        let json = serde_json::to_vec_pretty(&outcome)
                            .map_err(|error| error.to_string())?;
                        growdesk_app::private_file::replace(&file, &json)
                            .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
                    }
                    *refused = !outcome.refused.is_empty();
                }
                Command::Run {
                    once,
                    now,
                    holder,
                    tick_secs,
                    mail_poll_secs,
                    mail_lease_secs,
                    dkim_key,
                    dkim_selector,
                } => {
                    let job_settings = jobs::JobSettings::from_settings(&settings)?;
                    let holder = holder.unwrap_or_else(|| {
                        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
                        format!("{host}:{}", std::process::id())
                    });
                    let service = service.ok_or("the service was not built for run")?;
                    let dkim = match (dkim_key, dkim_selector) {
                        (Some(file), Some(selector)) => Some(mail::Dkim::load(&file, &selector)?),
                        _ => None,
                    };
                    let mail = mail::MailJobs::new(
                        service,
                        attachment_files(&settings),
                        mail::MailSettings::new(
                            std::time::Duration::from_secs(mail_poll_secs.max(1)),
                            std::time::Duration::from_secs(mail_lease_secs),
                            dkim,
                        ),
                        &holder,
                        !once,
                    );
                    if once {
                        let now = now.map_or_else(growdesk_store::Stamp::now, Into::into);
                        let ran = jobs::run_once(&store, &job_settings, &mail, &holder, now)
                            .await
                            .map_err(|error| format!("jobs failed: {error:#}"))?;
                        for (job, outcome) in ran {
                            println!("{job}: {outcome}");
                        }
                    } else {
                        let shutdown =
                            cancel_on_shutdown_signal().map_err(|error| error.to_string())?;
                        tracing::info!(%holder, "running the maintenance jobs until SIGTERM or Ctrl-C");
                        jobs::run_forever(
                            &store,
                            &job_settings,
                            &mail,
                            &holder,
                            std::time::Duration::from_secs(tick_secs.max(1)),
                            shutdown,
                        )
                        .await;
                    }
                }
            }
            store.close().await;
            Ok(())
        }
    });
    if code != ExitCode::SUCCESS {
        ExitCode::from(FAILED)
    } else if refused {
        ExitCode::from(SOME_REFUSED)
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;
    use growdesk_app::command_line::{arguments_of, arguments_without_help};

    use super::*;

    #[test]
    fn every_argument_of_every_command_is_explained() {
        assert_eq!(
            arguments_without_help(&Cli::command()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn import_flags_are_offered_by_import_alone() {
        let command = Cli::command();
        for import_source in ["json", "csv", "zendesk", "freshdesk"] {
            let offered = arguments_of(&command, &["import", import_source]);
            assert!(offered.iter().any(|id| id == "dry_run"), "{offered:?}");
        }
        for other in ["migrate", "export", "run"] {
            let offered = arguments_of(&command, &[other]);
            assert!(offered.iter().any(|id| id == "database_url"), "{offered:?}");
            assert!(
                !offered.iter().any(|id| id == "dry_run" || id == "report"),
                "{offered:?}"
            );
        }
    }

    #[test]
    fn run_help_lists_every_job() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("run")
            .unwrap()
            .render_long_help()
            .to_string();
        for job in jobs::Job::ALL {
            assert!(help.contains(job.name()), "{help}");
        }
        assert!(help.contains("import:<name>"), "{help}");
    }
}
