//! `load`: the HTTP scenarios — sign-in, ticket creation, lists (first page, a deep page by
//! cursor, every filter), search, reads, messages, the widget and stats — each at several
//! concurrency levels against the server, and the floor's endpoints at the same levels.
//! Every client task keeps its own keep-alive connection; latency is measured to the last byte.
//! `mixed` and `scale` load the server in other shapes with the same requests.

pub(crate) mod mixed;
pub(crate) mod scale;
pub(crate) mod scenario;
pub(crate) mod setup;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::{Client, RequestBuilder};
use serde::{Deserialize, Serialize};

use crate::database::{Database, on_pool};
use crate::measure::{Figures, Latencies, cpu_time, resident_kib};
use scenario::Scenario;
use setup::prepare;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A name for this run in the report, such as `sqlite-10k`.
    #[arg(long)]
    label: String,
    /// The backend's configuration as the report groups runs, such as `postgres-defaults`; the
    /// database's kind by default.
    #[arg(long)]
    backend: Option<String>,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    #[arg(long, default_value = "http://127.0.0.1:8090")]
    floor: String,
    /// The seeded database, for sampling ids to read.
    #[arg(long, env = "GROWDESK_DATABASE_URL")]
    database_url: String,
    /// The server's process id, for its resident memory.
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value = "admin@bench.growdesk.test")]
    admin_email: String,
    #[arg(long, default_value = "bench-password-1")]
    password: String,
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    concurrency: Vec<usize>,
    /// Measured seconds per scenario and level, after one second of warm-up.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seconds to leave the server alone before reading its idle memory.
    #[arg(long, default_value_t = 15.0)]
    settle_seconds: f64,
    /// Only these scenarios (comma-separated names); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write the results as JSON.
    #[arg(long)]
    out: std::path::PathBuf,
}

/// What one run found, as `report` reads it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Results {
    pub(crate) label: String,
    pub(crate) backend: String,
    pub(crate) tickets: i64,
    pub(crate) messages: i64,
    /// The server's resident memory before the first request, once settled, in KiB.
    pub(crate) idle_rss_kib: u64,
    /// The most it held while serving the highest concurrency level, in KiB.
    pub(crate) loaded_rss_kib: u64,
    pub(crate) deep_page_position: usize,
    pub(crate) runs: Vec<Run>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) scenario: String,
    pub(crate) concurrency: usize,
    /// The server's resident memory right after this run, in KiB.
    pub(crate) rss_kib: u64,
    /// The server's CPU time (user and system, all its threads) per successful request while
    /// measured, in µs; none for the floor's scenarios, which the server does not serve. Unlike
    /// requests per second, it hardly moves when other processes take the cores, so it compares
    /// two builds measured on a busy machine.
    pub(crate) server_cpu_us: Option<f64>,
    #[serde(flatten)]
    pub(crate) figures: Figures,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(1_024)
        .timeout(Duration::from_secs(60))
        .build()?;
    let database = Database::connect(&args.database_url, 2).await?;
    // Idle means settled: the allocator hands freed memory back some seconds after start-up.
    tokio::time::sleep(Duration::from_secs_f64(args.settle_seconds)).await;
    let idle_rss_kib = resident_kib(args.server_pid)?;
    let context = Arc::new(
        prepare(
            &client,
            &database,
            &args.target,
            &args.floor,
            &args.admin_email,
            &args.password,
        )
        .await?,
    );
    let (tickets, messages): (i64, i64) = on_pool!(&database, pool => {
        let tickets = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(pool).await?;
        let messages = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(pool).await?;
        (tickets, messages)
    });
    println!(
        "{}: {} tickets, {} messages; server idle at {:.1} MiB",
        args.label,
        tickets,
        messages,
        idle_rss_kib as f64 / 1024.0
    );
    println!(
        "{:<20} {:>5} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8}",
        "scenario",
        "conc",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "errors",
        "RSS MiB",
        "CPU µs",
        "% floor"
    );

    let highest = args.concurrency.iter().copied().max().unwrap_or(1);
    let mut loaded_rss_kib = idle_rss_kib;
    let mut runs = Vec::new();
    for scenario in Scenario::ALL {
        if !args.only.is_empty() && !args.only.iter().any(|name| name == scenario.name()) {
            continue;
        }
        for &concurrency in &args.concurrency {
            let sampler = (concurrency == highest).then(|| sample_memory(args.server_pid));
            let request: Requests = {
                let (client, context) = (client.clone(), Arc::clone(&context));
                Arc::new(move |rng: &mut StdRng, _: usize| scenario.request(&client, &context, rng))
            };
            let (figures, server_cpu) = measure(
                &request,
                concurrency,
                Duration::from_secs_f64(args.seconds),
                Some(args.server_pid),
            )
            .await;
            let server_cpu_us = server_cpu
                .filter(|_| !scenario.on_floor() && figures.requests > 0)
                .map(|cpu| cpu.as_secs_f64() * 1e6 / figures.requests as f64);
            if let Some((stop, peak)) = sampler {
                stop.store(1, Ordering::Relaxed);
                loaded_rss_kib = loaded_rss_kib.max(peak.await?);
            }
            let rss_kib = resident_kib(args.server_pid)?;
            // The floors run first, so each scenario's floor at this level is already known.
            let of_floor = runs
                .iter()
                .find(|run: &&Run| {
                    !scenario.on_floor()
                        && run.scenario == Scenario::floor(scenario.name())
                        && run.concurrency == concurrency
                })
                .map_or_else(
                    || "-".to_owned(),
                    |floor| format!("{:.0}", 100.0 * figures.rps / floor.figures.rps),
                );
            println!(
                "{:<20} {:>5} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>8.1} {:>8} {:>8}",
                scenario.name(),
                concurrency,
                figures.rps,
                figures.p50_ms,
                figures.p90_ms,
                figures.p99_ms,
                figures.errors,
                rss_kib as f64 / 1024.0,
                server_cpu_us.map_or_else(|| "-".to_owned(), |cpu| format!("{cpu:.0}")),
                of_floor,
            );
            runs.push(Run {
                scenario: scenario.name().to_owned(),
                concurrency,
                rss_kib,
                server_cpu_us,
                figures,
            });
        }
    }
    println!(
        "server memory: {:.1} MiB idle, {:.1} MiB at most under {highest} connections",
        idle_rss_kib as f64 / 1024.0,
        loaded_rss_kib as f64 / 1024.0
    );
    let results = Results {
        label: args.label,
        backend: args.backend.unwrap_or_else(|| database.name().to_owned()),
        tickets,
        messages,
        idle_rss_kib,
        loaded_rss_kib,
        deep_page_position: context.deep_position,
        runs,
    };
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)?)?;
    Ok(())
}

/// What a client sends next, given its random source and its index among the clients.
pub(crate) type Requests = Arc<dyn Fn(&mut StdRng, usize) -> RequestBuilder + Send + Sync>;

/// `concurrency` clients sending `request`s back to back: one second of warm-up, then
/// `duration` measured; with the CPU time process `server_pid` spent in the measured part.
async fn measure(
    request: &Requests,
    concurrency: usize,
    duration: Duration,
    server_pid: Option<u32>,
) -> (Figures, Option<Duration>) {
    let warm_until = Instant::now() + Duration::from_secs(1);
    let until = warm_until + duration;
    let server_cpu = tokio::spawn(async move {
        let server_pid = server_pid?;
        tokio::time::sleep_until(warm_until.into()).await;
        let start = cpu_time(server_pid).ok()?;
        tokio::time::sleep_until(until.into()).await;
        Some(cpu_time(server_pid).ok()?.saturating_sub(start))
    });
    let errors = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..concurrency)
        .map(|index| {
            let (request, errors) = (Arc::clone(request), Arc::clone(&errors));
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(index as u64);
                let mut latencies = Latencies::new();
                loop {
                    let sent = Instant::now();
                    if sent >= until {
                        break;
                    }
                    let outcome = match request(&mut rng, index).send().await {
                        Ok(response) => {
                            let success = response.status().is_success();
                            response.bytes().await.is_ok() && success
                        }
                        Err(_) => false,
                    };
                    if sent >= warm_until {
                        if outcome {
                            latencies.record(sent.elapsed());
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all = Latencies::new();
    for client in clients {
        if let Ok(latencies) = client.await {
            all.merge(&latencies);
        }
    }
    let figures = all.figures(duration, errors.load(Ordering::Relaxed));
    (figures, server_cpu.await.ok().flatten())
}

/// Samples the server's resident memory every 100 ms until the flag is set; the peak seen.
fn sample_memory(pid: u32) -> (Arc<AtomicU64>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicU64::new(0));
    let flag = Arc::clone(&stop);
    let peak = tokio::spawn(async move {
        let mut peak = 0;
        while flag.load(Ordering::Relaxed) == 0 {
            peak = peak.max(resident_kib(pid).unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    (stop, peak)
}

/// Groups runs by scenario, in the order of `Scenario::ALL`.
pub(crate) fn by_scenario(runs: &[Run]) -> BTreeMap<usize, (String, Vec<Run>)> {
    let mut grouped: BTreeMap<usize, (String, Vec<Run>)> = BTreeMap::new();
    for run in runs {
        let order = Scenario::ALL
            .iter()
            .position(|scenario| scenario.name() == run.scenario)
            .unwrap_or(usize::MAX);
        grouped
            .entry(order)
            .or_insert_with(|| (run.scenario.clone(), Vec::new()))
            .1
            .push(run.clone());
    }
    grouped
}
