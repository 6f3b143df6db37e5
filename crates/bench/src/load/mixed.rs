//! `mixed`: a desk at work. Requests arrive at a fixed rate whatever the answers (an open loop:
//! a slow answer does not slow the arrivals, and its latency counts from when it was due) — 80 %
//! reads (a ticket, the first page, now and then a search), 15 % replies, 5 % new tickets — while
//! agents' and widget visitors' sockets are connected and receive the events. The rate rises step
//! by step, then is bisected, to the highest whose p99 stays under the limit. The sockets count
//! the events they receive, so the rate is reported with what was delivered.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use super::sample_memory;
use super::scenario::Scenario;
use super::setup::{Context, prepare, sign_in};
use crate::database::{Database, on_pool};
use crate::measure::{Figures, Latencies, resident_kib};
use crate::seed::agent_email;
use crate::sockets::{Socket, open_each};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[arg(long)]
    label: String,
    /// The backend's configuration, as the report names it; the database's kind by default.
    #[arg(long)]
    backend: Option<String>,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// The seeded database, for sampling ids.
    #[arg(long, env = "GROWDESK_DATABASE_URL")]
    database_url: String,
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value = "admin@bench.growdesk.test")]
    admin_email: String,
    #[arg(long, default_value = "bench-password-1")]
    password: String,
    /// Agents' sockets (`/api/ws`), spread over the seeded agents: each receives every event.
    #[arg(long, default_value_t = 200)]
    agent_sockets: usize,
    /// Widget visitors, each with a conversation and a socket (`/widget/ws`): each receives
    /// the replies to its own conversation.
    #[arg(long, default_value_t = 2_000)]
    visitors: usize,
    /// Requests per second of the first step.
    #[arg(long, default_value_t = 100.0)]
    start_rate: f64,
    /// The rate of each step over the one before, while the p99 holds.
    #[arg(long, default_value_t = 1.5)]
    growth: f64,
    /// Steps between the last rate that held and the first that did not.
    #[arg(long, default_value_t = 3)]
    bisections: usize,
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// Steps in a row that must miss before a rate fails: on a shared machine a pause of the
    /// other processes fails a single step at any rate.
    #[arg(long, default_value_t = 2)]
    tries: usize,
    /// Measured seconds per step, after one second of warm-up.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Requests waiting for an answer at most; a request due beyond it is not sent, and fails
    /// its step.
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    #[arg(long)]
    out: std::path::PathBuf,
}

/// The mix, as parts of 100: what each request is.
const MIX: [(Scenario, u32); 5] = [
    (Scenario::GetTicket, 45),
    (Scenario::ListFirstPage, 30),
    (Scenario::SearchWord, 5),
    (Scenario::PostMessage, 15),
    (Scenario::CreateTicket, 5),
];

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MixedResults {
    pub(crate) label: String,
    pub(crate) backend: String,
    pub(crate) tickets: i64,
    pub(crate) agent_sockets: usize,
    pub(crate) visitors: usize,
    pub(crate) p99_limit_ms: f64,
    /// The server's resident memory before the sockets, and holding them before the load, KiB.
    pub(crate) idle_rss_kib: u64,
    pub(crate) sockets_rss_kib: u64,
    /// The highest rate whose step held the limit (0 when none did), and that step.
    pub(crate) rate: f64,
    pub(crate) held: Option<Step>,
    pub(crate) steps: Vec<Step>,
    pub(crate) deliveries: Deliveries,
}

/// One rate, held for a step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Step {
    /// Requests per second sent.
    pub(crate) rate: f64,
    /// Every request, latency from when it was due to its last byte.
    pub(crate) all: Figures,
    pub(crate) by_scenario: BTreeMap<String, Figures>,
    /// Requests due while `max_in_flight` were waiting, so not sent.
    pub(crate) not_sent: u64,
    /// The most the server held during the step, KiB.
    pub(crate) peak_rss_kib: u64,
    pub(crate) held: bool,
}

/// What the sockets should have received and did, over the whole run.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Deliveries {
    /// `created` and `message_created` events: two per new ticket and one per reply, at every
    /// agent's socket.
    pub(crate) agent_expected: u64,
    pub(crate) agent_received: u64,
    /// `message_created` events of replies to visitors' conversations, at their sockets.
    pub(crate) visitor_expected: u64,
    pub(crate) visitor_received: u64,
    /// Sockets the server closed during the run.
    pub(crate) closed: u64,
}

/// Counters the requests and the sockets update as they go.
#[derive(Default)]
struct Counters {
    tickets_created: AtomicU64,
    replies: AtomicU64,
    visitor_replies: AtomicU64,
    agent_events: AtomicU64,
    visitor_events: AtomicU64,
    closed: AtomicU64,
}

/// The part of a posted message the count needs.
#[derive(Deserialize)]
struct Posted {
    ticket_id: Uuid,
}

/// Latencies of one step, by scenario and together.
struct Tally {
    all: Latencies,
    by_scenario: Vec<Latencies>,
    errors: Vec<u64>,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(1_024)
        .timeout(Duration::from_secs(60))
        .build()?;
    let database = Database::connect(&args.database_url, 2).await?;
    let tickets: i64 = on_pool!(&database, pool => sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(pool).await?);
    let idle_rss_kib = resident_kib(args.server_pid)?;
    let mut context = prepare(
        &client,
        &database,
        &args.target,
        "",
        &args.admin_email,
        &args.password,
    )
    .await?;
    let counters = Arc::new(Counters::default());

    let (visitor_urls, visitor_tickets) = open_conversations(&client, &context, &args).await?;
    // The conversations' events reach the relay before the agents' sockets open, so that the
    // sockets count only the run's.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let agent_urls = agent_socket_urls(&client, &context, &args).await?;
    listen(
        open_each(&agent_urls).await?,
        &counters,
        |counters| &counters.agent_events,
        &["created", "message_created"],
    );
    listen(
        open_each(&visitor_urls).await?,
        &counters,
        |counters| &counters.visitor_events,
        &["message_created"],
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sockets_rss_kib = resident_kib(args.server_pid)?;
    println!(
        "{}: {tickets} tickets; {} agents' and {} visitors' sockets open; server {:.1} → {:.1} MiB",
        args.label,
        args.agent_sockets,
        args.visitors,
        idle_rss_kib as f64 / 1024.0,
        sockets_rss_kib as f64 / 1024.0
    );
    // Replies go to seeded tickets and visitors' conversations alike.
    context
        .open_ticket_ids
        .extend(visitor_tickets.iter().copied());
    let load = Load {
        client,
        context: Arc::new(context),
        visitor_tickets: Arc::new(visitor_tickets),
        counters: Arc::clone(&counters),
    };

    println!(
        "{:>8} {:>9} {:>8} {:>8} {:>8} {:>7} {:>8} {:>8}",
        "rate", "req/s", "p50 ms", "p99 ms", "errors", "unsent", "RSS MiB", "held"
    );
    let mut steps = Vec::new();
    let mut held: Option<Step> = None;
    let mut failed: Option<f64> = None;
    let mut rate = args.start_rate;
    // Rise until a step fails, then halve the gap between the last that held and it.
    let mut bisections = 0;
    while bisections <= args.bisections && rate <= 100_000.0 {
        let mut step = load.step(rate, &args).await;
        let tries = args.tries.max(1);
        for tried in 1..=tries {
            println!(
                "{:>8.0} {:>9.0} {:>8.2} {:>8.2} {:>8} {:>7} {:>8.1} {:>8}",
                step.rate,
                step.all.rps,
                step.all.p50_ms,
                step.all.p99_ms,
                step.all.errors,
                step.not_sent,
                step.peak_rss_kib as f64 / 1024.0,
                step.held
            );
            steps.push(step.clone());
            if step.held || tried == tries {
                break;
            }
            step = load.step(rate, &args).await;
        }
        if step.held {
            held = Some(step);
        } else {
            failed = Some(rate);
        }
        let low = held.as_ref().map_or(0.0, |step| step.rate);
        rate = match failed {
            None => rate * args.growth,
            Some(high) => {
                bisections += 1;
                f64::midpoint(low, high)
            }
        };
    }

    let deliveries = settle(&counters, &args).await;
    println!(
        "held {:.0} req/s with p99 under {} ms; agents' sockets received {} of {} events, visitors' {} of {}; {} sockets closed by the server",
        held.as_ref().map_or(0.0, |step| step.rate),
        args.p99_limit_ms,
        deliveries.agent_received,
        deliveries.agent_expected,
        deliveries.visitor_received,
        deliveries.visitor_expected,
        deliveries.closed
    );
    let results = MixedResults {
        label: args.label,
        backend: args.backend.unwrap_or_else(|| database.name().to_owned()),
        tickets,
        agent_sockets: args.agent_sockets,
        visitors: args.visitors,
        p99_limit_ms: args.p99_limit_ms,
        idle_rss_kib,
        sockets_rss_kib,
        rate: held.as_ref().map_or(0.0, |step| step.rate),
        held,
        steps,
        deliveries,
    };
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)?)?;
    Ok(())
}

/// Opens each visitor's conversation through the widget, 100 at a time: the socket URLs and the
/// conversations' tickets.
async fn open_conversations(
    client: &Client,
    context: &Context,
    args: &Args,
) -> anyhow::Result<(Vec<String>, HashSet<Uuid>)> {
    let socket_base = args.target.replacen("http", "ws", 1);
    let mut rng = StdRng::seed_from_u64(19);
    let (mut urls, mut tickets) = (Vec::new(), HashSet::new());
    while urls.len() < args.visitors {
        let batch = (args.visitors - urls.len()).min(100);
        let requests: Vec<_> = (0..batch)
            .map(|_| Scenario::WidgetTicket.request(client, context, &mut rng))
            .collect();
        let opened =
            futures_util::future::join_all(requests.into_iter().map(|request| async move {
                let opened: Value = request.send().await?.error_for_status()?.json().await?;
                let ticket: Uuid = opened["ticket"]["id"]
                    .as_str()
                    .context("no ticket id")?
                    .parse()?;
                let token = opened["visitor_token"]
                    .as_str()
                    .context("no visitor token")?
                    .to_owned();
                Ok::<_, anyhow::Error>((ticket, token))
            }))
            .await;
        for conversation in opened {
            let (ticket, token) = conversation?;
            tickets.insert(ticket);
            urls.push(format!(
                "{socket_base}/widget/ws?key={}&visitor_token={token}",
                context.widget_key
            ));
        }
    }
    Ok((urls, tickets))
}

/// The agents' socket URLs, each agent signed in once and holding several sockets when there
/// are more sockets than agents.
async fn agent_socket_urls(
    client: &Client,
    context: &Context,
    args: &Args,
) -> anyhow::Result<Vec<String>> {
    let socket_base = args.target.replacen("http", "ws", 1);
    let mut tokens = Vec::new();
    for agent in 0..context.agents.min(args.agent_sockets) {
        tokens.push(sign_in(client, &args.target, &agent_email(agent), &args.password).await?);
    }
    Ok((0..args.agent_sockets)
        .map(|index| {
            format!(
                "{socket_base}/api/ws?access_token={}",
                tokens[index % tokens.len()]
            )
        })
        .collect())
}

/// Reads every socket until it closes, counting into `received` the event frames of `kinds`.
fn listen(
    sockets: Vec<Socket>,
    counters: &Arc<Counters>,
    received: fn(&Counters) -> &AtomicU64,
    kinds: &'static [&'static str],
) {
    for mut socket in sockets {
        let counters = Arc::clone(counters);
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Text(text) = frame
                    && event_kind(&text).is_some_and(|kind| kinds.contains(&kind))
                {
                    received(&counters).fetch_add(1, Ordering::Relaxed);
                }
            }
            counters.closed.fetch_add(1, Ordering::Relaxed);
        });
    }
}

/// The kind of an event frame, read without parsing the whole frame (thousands arrive each
/// second): the first `kind` of the text is the event's, as the event comes before the message
/// or notification it carries.
fn event_kind(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(r#"{"type":"event""#)?;
    let (_, kind) = rest.split_once(r#""kind":""#)?;
    kind.split_once('"').map(|(kind, _)| kind)
}

/// Waits until the sockets have received what the requests wrote (they trail the answers by
/// the relay's delay), for at most 30 s; what arrived by then.
async fn settle(counters: &Counters, args: &Args) -> Deliveries {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let created = counters.tickets_created.load(Ordering::Relaxed);
        let replies = counters.replies.load(Ordering::Relaxed);
        let deliveries = Deliveries {
            agent_expected: args.agent_sockets as u64 * (2 * created + replies),
            agent_received: counters.agent_events.load(Ordering::Relaxed),
            visitor_expected: counters.visitor_replies.load(Ordering::Relaxed),
            visitor_received: counters.visitor_events.load(Ordering::Relaxed),
            closed: counters.closed.load(Ordering::Relaxed),
        };
        let complete = deliveries.agent_received >= deliveries.agent_expected
            && deliveries.visitor_received >= deliveries.visitor_expected;
        if complete || Instant::now() >= deadline {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the steps send with.
struct Load {
    client: Client,
    context: Arc<Context>,
    visitor_tickets: Arc<HashSet<Uuid>>,
    counters: Arc<Counters>,
}

impl Load {
    /// Sends the mix at `rate` for one second of warm-up and `args.seconds` measured, then waits
    /// for every answer.
    async fn step(&self, rate: f64, args: &Args) -> Step {
        let started = Instant::now();
        let measured_from = started + Duration::from_secs(1);
        let duration = Duration::from_secs_f64(args.seconds);
        let total = ((1.0 + args.seconds) * rate) as u64;
        let tally = Arc::new(Mutex::new(Tally {
            all: Latencies::new(),
            by_scenario: MIX.iter().map(|_| Latencies::new()).collect(),
            errors: vec![0; MIX.len()],
        }));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (stop, peak) = sample_memory(args.server_pid);
        let mut rng = StdRng::seed_from_u64(rate.to_bits());
        let mut not_sent = 0;
        let mut answers = tokio::task::JoinSet::new();
        for index in 0..total {
            let due = started + Duration::from_secs_f64(index as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let measured = due >= measured_from;
            if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
                not_sent += u64::from(measured);
                continue;
            }
            let which = pick(&mut rng);
            let request = MIX[which].0.request(&self.client, &self.context, &mut rng);
            in_flight.fetch_add(1, Ordering::Relaxed);
            let (tally, in_flight, counters, visitor_tickets) = (
                Arc::clone(&tally),
                Arc::clone(&in_flight),
                Arc::clone(&self.counters),
                Arc::clone(&self.visitor_tickets),
            );
            answers.spawn(async move {
                let answer = match request.send().await {
                    Ok(response) if response.status().is_success() => response.bytes().await.ok(),
                    _ => None,
                };
                let latency = due.elapsed();
                in_flight.fetch_sub(1, Ordering::Relaxed);
                if let Some(body) = &answer {
                    counters.count_write(MIX[which].0, body, &visitor_tickets);
                }
                if measured {
                    let mut tally = tally
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if answer.is_some() {
                        tally.all.record(latency);
                        tally.by_scenario[which].record(latency);
                    } else {
                        tally.errors[which] += 1;
                    }
                }
            });
        }
        while answers.join_next().await.is_some() {}
        stop.store(1, Ordering::Relaxed);
        let peak_rss_kib = peak.await.unwrap_or_default();
        let tally = tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let errors: u64 = tally.errors.iter().sum();
        let all = tally.all.figures(duration, errors);
        let by_scenario = MIX
            .iter()
            .zip(&tally.by_scenario)
            .zip(&tally.errors)
            .map(|(((scenario, _), latencies), errors)| {
                (
                    scenario.name().to_owned(),
                    latencies.figures(duration, *errors),
                )
            })
            .collect();
        Step {
            rate,
            held: all.p99_ms < args.p99_limit_ms && errors == 0 && not_sent == 0,
            all,
            by_scenario,
            not_sent,
            peak_rss_kib,
        }
    }
}

impl Counters {
    /// Counts a write that succeeded, for the events the sockets should receive.
    fn count_write(&self, scenario: Scenario, body: &[u8], visitor_tickets: &HashSet<Uuid>) {
        match scenario {
            Scenario::CreateTicket => {
                self.tickets_created.fetch_add(1, Ordering::Relaxed);
            }
            Scenario::PostMessage => {
                self.replies.fetch_add(1, Ordering::Relaxed);
                if serde_json::from_slice::<Posted>(body)
                    .is_ok_and(|posted| visitor_tickets.contains(&posted.ticket_id))
                {
                    self.visitor_replies.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
}

/// The index in `MIX` of a request drawn by its share.
fn pick(rng: &mut StdRng) -> usize {
    let mut draw = rng.random_range(0..100);
    MIX.iter()
        .position(|(_, share)| {
            if draw < *share {
                true
            } else {
                draw -= share;
                false
            }
        })
        .unwrap_or(0)
}
