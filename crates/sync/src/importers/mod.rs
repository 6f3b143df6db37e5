//! Importers: each reads one source format, checks its records and hands them to the
//! service's import use case (`growdesk_service::imports`), which remembers
//! `(source, external_id)` so re-runs are idempotent. Bad records are reported with their
//! position and reason while good ones go in.

pub(crate) mod csv;
pub(crate) mod freshdesk;
pub(crate) mod growdesk;
pub(crate) mod http;
pub(crate) mod records;
pub(crate) mod text;
pub(crate) mod zendesk;

use std::path::PathBuf;
use std::time::Duration;

use growdesk_service::ServiceError;
use growdesk_store::{FileStore, Store};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// One record an import refused.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Refused {
    /// Where: `line 12`, `row 7`, `ticket 4411`.
    pub(crate) position: String,
    pub(crate) reason: String,
}

/// What an import did, for the summary and `--report`.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) source: String,
    pub(crate) dry_run: bool,
    pub(crate) created: usize,
    pub(crate) updated: usize,
    pub(crate) unchanged: usize,
    pub(crate) refused: Vec<Refused>,
    #[serde(skip)]
    progress: Progress,
}

/// A spinner with the running count on stderr — drawn only when stderr is a terminal.
#[derive(Debug, Clone)]
struct Progress(ProgressBar);

impl Default for Progress {
    fn default() -> Self {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {pos} records ({per_sec}, {elapsed}) {msg}")
        {
            bar.set_style(style);
        }
        bar.tick();
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(bar)
    }
}

impl Report {
    pub(crate) fn new(source: &str, dry_run: bool) -> Self {
        Self {
            source: source.to_owned(),
            dry_run,
            ..Self::default()
        }
    }

    fn advance(&self) {
        self.progress.0.inc(1);
        if !self.refused.is_empty() && self.progress.0.position().is_multiple_of(100) {
            self.progress
                .0
                .set_message(format!("{} refused", self.refused.len()));
        }
    }

    /// Counts what the store did with one record.
    pub(crate) fn record(&mut self, outcome: growdesk_store::imports::Imported) {
        self.advance();
        match outcome {
            growdesk_store::imports::Imported::Created(_) => self.created += 1,
            growdesk_store::imports::Imported::Updated(_) => self.updated += 1,
            growdesk_store::imports::Imported::Unchanged(_) => self.unchanged += 1,
        }
    }

    /// Counts what the import made of the record at `position`: imported, or refused because
    /// it names a missing or conflicting record. Other errors are the database's, and stop the
    /// import.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) fn settle(
        &mut self,
        position: String,
        stored: Result<growdesk_store::imports::Imported, ServiceError>,
    ) -> Result<(), ServiceError> {
        match stored {
            Ok(outcome) => self.record(outcome),
            Err(ServiceError::Conflict(reason)) => self.refuse(position, reason),
            Err(error) => return Err(error),
        }
        Ok(())
    }

    pub(crate) fn refuse(&mut self, position: String, reason: impl Into<String>) {
        self.refused.push(Refused {
            position,
            reason: reason.into(),
        });
        self.advance();
    }

    /// The refusals for the terminal: the first `shown`, then how many more there are and
    /// where to read them all.
    pub(crate) fn refusal_lines(
        &self,
        shown: usize,
        report: Option<&std::path::Path>,
    ) -> Vec<String> {
        let mut lines: Vec<String> = self
            .refused
            .iter()
            .take(shown)
            .map(|refusal| format!("  refused {}: {}", refusal.position, refusal.reason))
            .collect();
        let more = self.refused.len().saturating_sub(shown);
        if more > 0 {
            lines.push(match report {
                Some(file) => format!("  …and {more} more (see {})", file.display()),
                None => format!("  …and {more} more (see --report FILE)"),
            });
        }
        lines
    }

    /// One line for the terminal (the progress spinner goes). A dry run's counts are the
    /// ones the real run would report.
    pub(crate) fn summary(&self) -> String {
        self.progress.0.finish_and_clear();
        let counts = format!(
            "{} created, {} updated, {} unchanged, {} refused",
            self.created,
            self.updated,
            self.unchanged,
            self.refused.len()
        );
        if self.dry_run {
            format!("{}: dry run, nothing written: {counts}", self.source)
        } else {
            format!("{}: {counts}", self.source)
        }
    }
}

/// Where an import reads from: the `import` subcommands, also used by scheduled imports.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum Source {
    /// GrowDesk's own export (a `.jsonl` file or a directory holding one, with the
    /// attachments' files in `attachments/` beside it): restores a backup into an empty
    /// database. Ids, keys, secrets and ticket numbers are kept where free; re-running (or
    /// resuming a cut run) changes nothing.
    Json {
        /// The export: a `.jsonl` file, or the directory `export` wrote.
        path: PathBuf,
        /// Import even into a database that holds records of its own (an account, category,
        /// FAQ, ticket, widget or webhook this import did not write), merging the two.
        #[arg(long)]
        merge: bool,
    },
    /// A CSV file: one ticket per row, or — with a `ticket_id` column — one message per row,
    /// rows sharing a ticket id making one ticket. Columns map to fields by name:
    /// external_id, ticket_id, subject, body, email, name, status, priority, category, tags,
    /// created_at, author_email, author_name, internal.
    Csv {
        /// The CSV file, with a header row.
        path: PathBuf,
        /// `field=Column header`, repeatable (a column named like the field needs none).
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// A TOML mapping file: `source`, `default_email`, and a `[columns]` table.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// The requester's email for rows without one.
        #[arg(long, value_name = "EMAIL")]
        default_email: Option<String>,
        /// The name re-runs are matched under (default: `csv:<file name>`).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
    },
    /// Zendesk Support: a directory of API responses (`users*.json`, `tickets*.json`,
    /// `comments/<ticket id>.json`), or a Zendesk-compatible API (`--url`, `--email`, `--token`)
    /// read with its cursor-based incremental export, resumed where the last run stopped.
    Zendesk {
        /// The directory of API responses.
        #[arg(required_unless_present = "url")]
        path: Option<PathBuf>,
        /// The API's base URL, such as https://acme.zendesk.com.
        #[arg(long, requires_all = ["email", "token"])]
        url: Option<String>,
        /// The email of the Zendesk user the API token belongs to.
        #[arg(long)]
        email: Option<String>,
        /// An API token (or set GROWDESK_ZENDESK_TOKEN).
        #[arg(long, env = "GROWDESK_ZENDESK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The name re-runs are matched under (default: `zendesk`).
        #[arg(long, value_name = "NAME", default_value = "zendesk")]
        source: String,
    },
    /// Freshdesk API v2: a directory of API responses (`contacts*.json`, `agents*.json`,
    /// `tickets*.json`, `conversations*.json`), or the API itself (`--url`, `--api-key`), tickets
    /// read by `updated_since` from where the last run stopped.
    Freshdesk {
        /// The directory of API responses.
        #[arg(required_unless_present = "url")]
        path: Option<std::path::PathBuf>,
        /// The API's base URL, such as https://acme.freshdesk.com.
        #[arg(long, requires = "api_key")]
        url: Option<String>,
        /// An API key (or set GROWDESK_FRESHDESK_API_KEY).
        #[arg(long, env = "GROWDESK_FRESHDESK_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// The name re-runs are matched under (default: `freshdesk`).
        #[arg(long, value_name = "NAME", default_value = "freshdesk")]
        source: String,
    },
}

/// Runs one import from `source`.
///
/// # Errors
/// The source cannot be read or the database failed (refused records are in the report).
pub(crate) async fn run(
    store: &Store,
    files: &FileStore,
    source: Source,
    dry_run: bool,
) -> anyhow::Result<Report> {
    match source {
        Source::Json { path, merge } => growdesk::import(store, files, &path, merge, dry_run).await,
        Source::Csv {
            path,
            map,
            mapping,
            default_email,
            source,
        } => match csv::Mapping::load(mapping.as_deref(), &map, default_email, source) {
            Ok(mapping) => csv::import(store, &path, &mapping, dry_run).await,
            Err(error) => Err(error),
        },
        Source::Zendesk {
            path,
            url,
            email,
            token,
            source,
        } => {
            let origin = match (path, url, email, token) {
                (_, Some(url), Some(email), Some(token)) => zendesk::Origin::Api(
                    http::ApiClient::new(&url, format!("{email}/token"), token),
                ),
                (Some(path), ..) => zendesk::Origin::Files(path),
                _ => {
                    anyhow::bail!("give a directory, or --url, --email and --token");
                }
            };
            zendesk::import(store, &origin, &source, dry_run).await
        }
        Source::Freshdesk {
            path,
            url,
            api_key,
            source,
        } => {
            let origin = match (path, url, api_key) {
                (_, Some(url), Some(key)) => {
                    freshdesk::Origin::Api(http::ApiClient::new(&url, key, "X".to_owned()))
                }
                (Some(path), ..) => freshdesk::Origin::Files(path),
                _ => {
                    anyhow::bail!("give a directory, or --url and --api-key");
                }
            };
            freshdesk::import(store, &origin, &source, dry_run).await
        }
    }
}
