//! Importers: each reads one source format and hands records to the store's import
//! primitives, which remember `(source, external_id)` so re-runs are idempotent. Bad records
//! are reported with their position and reason while good ones go in.

pub(crate) mod csv;
pub(crate) mod freshdesk;
pub(crate) mod growdesk;
pub(crate) mod http;
pub(crate) mod zendesk;

use std::time::Duration;

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
    /// Records that would be written (dry runs only).
    pub(crate) checked: usize,
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

    /// Counts one record a dry run would import.
    pub(crate) fn check(&mut self) {
        self.checked += 1;
        self.advance();
    }

    /// Counts what the store did with one record.
    pub(crate) fn record(&mut self, outcome: growdesk_store::Imported) {
        self.advance();
        match outcome {
            growdesk_store::Imported::Created(_) => self.created += 1,
            growdesk_store::Imported::Updated(_) => self.updated += 1,
            growdesk_store::Imported::Unchanged(_) => self.unchanged += 1,
        }
    }

    pub(crate) fn refuse(&mut self, position: String, reason: impl Into<String>) {
        self.refused.push(Refused {
            position,
            reason: reason.into(),
        });
        self.advance();
    }

    /// One line for the terminal (the progress spinner goes).
    pub(crate) fn summary(&self) -> String {
        self.progress.0.finish_and_clear();
        if self.dry_run {
            format!(
                "{}: dry run, {} records would be imported, {} refused",
                self.source,
                self.checked,
                self.refused.len()
            )
        } else {
            format!(
                "{}: {} created, {} updated, {} unchanged, {} refused",
                self.source,
                self.created,
                self.updated,
                self.unchanged,
                self.refused.len()
            )
        }
    }
}
