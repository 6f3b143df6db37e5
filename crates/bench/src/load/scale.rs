//! `scale`: whether a second server process on the same database adds write throughput. The
//! same clients create tickets through one process, then spread over all of them, alternated
//! round by round so that a machine growing busier favours neither; the figure is the ratio of
//! the medians.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use rand::rngs::StdRng;
use reqwest::Client;
use serde::{Deserialize, Serialize};

use super::scenario::new_ticket;
use super::setup::sign_in;
use super::{Requests, measure};
use crate::corpus;
use crate::measure::Figures;
use crate::seed::agent_email;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[arg(long)]
    label: String,
    /// The backend's configuration, as the report names it.
    #[arg(long, default_value = "postgres")]
    backend: String,
    /// The server processes, all on one database (comma-separated); the first serves alone.
    #[arg(long, value_delimiter = ',', required = true)]
    targets: Vec<String>,
    #[arg(long, default_value = "bench-password-1")]
    password: String,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per measurement, after one second of warm-up.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Measurements of each arrangement.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[arg(long)]
    out: std::path::PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ScaleResults {
    pub(crate) label: String,
    pub(crate) backend: String,
    pub(crate) clients: usize,
    pub(crate) runs: Vec<ScaleRun>,
    /// Median tickets per second through every process over the median through one.
    pub(crate) ratio: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ScaleRun {
    pub(crate) processes: usize,
    #[serde(flatten)]
    pub(crate) figures: Figures,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(1_024)
        .timeout(Duration::from_secs(60))
        .build()?;
    // The processes share the signing key and the sessions, so one token serves on all.
    let token: Arc<str> = sign_in(&client, &args.targets[0], &agent_email(0), &args.password)
        .await?
        .into();
    let exchanges = Arc::new(corpus::load()?);
    let all = args.targets.len();
    let mut runs = Vec::new();
    for round in 0..args.rounds {
        let order = if round % 2 == 0 { [1, all] } else { [all, 1] };
        for processes in order {
            let request: Requests = {
                let (client, token, exchanges) =
                    (client.clone(), Arc::clone(&token), Arc::clone(&exchanges));
                let targets: Arc<[String]> = args.targets[..processes].into();
                Arc::new(move |rng: &mut StdRng, index: usize| {
                    let exchange = &exchanges[rng.random_range(0..exchanges.len())];
                    client
                        .post(format!("{}/api/tickets", targets[index % targets.len()]))
                        .bearer_auth(&token)
                        .json(&new_ticket(exchange))
                })
            };
            let (figures, _) = measure(
                &request,
                args.clients,
                Duration::from_secs_f64(args.seconds),
                None,
            )
            .await;
            println!(
                "create_ticket through {processes} process(es), {} clients: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                args.clients, figures.rps, figures.p50_ms, figures.p99_ms, figures.errors
            );
            runs.push(ScaleRun { processes, figures });
        }
    }
    let median_of = |processes: usize| {
        median(
            runs.iter()
                .filter(|run| run.processes == processes)
                .map(|run| run.figures.rps),
        )
    };
    let ratio = median_of(all) / median_of(1);
    println!("{all} processes create {ratio:.2}× the tickets of one");
    let results = ScaleResults {
        label: args.label,
        backend: args.backend,
        clients: args.clients,
        runs,
        ratio,
    };
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)?)?;
    Ok(())
}

/// The median of some figures (the mean of the middle two of an even count); 0 for none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        count if count % 2 == 1 => values[count / 2],
        count => f64::midpoint(values[count / 2 - 1], values[count / 2]),
    }
}
