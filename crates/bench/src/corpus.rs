//! The words seeded tickets are written in: customer requests and agent answers from the
//! Bitext customer-support sample (see `corpus/README.md` for its source and licence).

use serde::Deserialize;

/// One request and its answer, with the queue and intent they were labelled with.
#[derive(Debug, Deserialize)]
pub(crate) struct Exchange {
    pub(crate) category: String,
    pub(crate) intent: String,
    pub(crate) request: String,
    pub(crate) response: String,
}

impl Exchange {
    /// The tag a ticket of this exchange carries: its intent, as agents write tags.
    pub(crate) fn tag(&self) -> String {
        self.intent.to_lowercase().replace('_', "-")
    }
}

/// The whole corpus, built into the binary so the tool runs from anywhere.
pub(crate) fn load() -> anyhow::Result<Vec<Exchange>> {
    include_str!("../corpus/bitext.jsonl")
        .lines()
        .map(|line| Ok(serde_json::from_str(line)?))
        .collect()
}
