//! `load`: the HTTP scenarios — sign-in, ticket creation, lists (first page, a deep page by
//! cursor, every filter), search, reads, messages, the widget and stats — each at several
//! concurrency levels against the server, and the floor's endpoints at the same levels.
//! Every client task keeps its own keep-alive connection; latency is measured to the last byte.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, RequestBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::corpus::{self, Exchange};
use crate::database::{Database, on_pool};
use crate::measure::{Figures, Latencies, resident_kib};
use crate::seed::{agent_email, first_chars, order_reference};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A name for this run in the report, such as `sqlite-10k`.
    #[arg(long)]
    label: String,
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
    #[serde(flatten)]
    pub(crate) figures: Figures,
}

/// Everything the scenarios need to build their requests.
struct Context {
    target: String,
    floor: String,
    agent_token: String,
    widget_key: String,
    password: String,
    agents: usize,
    ticket_ids: Vec<Uuid>,
    /// Tickets that take replies (not closed).
    open_ticket_ids: Vec<Uuid>,
    category_id: Uuid,
    requester_id: Uuid,
    tag: String,
    /// What new tickets and replies say: the seed's corpus, so that the tickets a run adds
    /// contain its words as the seeded ones do (a run that added thousands of tickets without
    /// them made every later search walk past them).
    exchanges: Vec<Exchange>,
    /// Every word of four letters or more in the corpus: from a few thousand matching
    /// messages to millions at a million tickets.
    search_words: Vec<String>,
    /// Seeded tickets are numbered from 1 to this, each quoting its `order_reference`.
    seeded_tickets: i64,
    /// The cursor of the deep page, and how many tickets come before it.
    deep_cursor: Option<String>,
    deep_position: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    SignIn,
    CreateTicket,
    ListFirstPage,
    ListDeepPage,
    FilterStatus,
    FilterPriority,
    FilterCategory,
    FilterAssignee,
    FilterUnassigned,
    FilterRequester,
    FilterTag,
    SearchWord,
    SearchOrder,
    GetTicket,
    ListMessages,
    PostMessage,
    WidgetTicket,
    Stats,
    FloorConstant,
    FloorSelect,
    FloorPage,
    FloorInsert,
}

impl Scenario {
    pub(crate) const ALL: [Self; 22] = [
        Self::FloorConstant,
        Self::FloorSelect,
        Self::FloorPage,
        Self::FloorInsert,
        Self::GetTicket,
        Self::ListFirstPage,
        Self::ListDeepPage,
        Self::ListMessages,
        Self::FilterStatus,
        Self::FilterPriority,
        Self::FilterCategory,
        Self::FilterAssignee,
        Self::FilterUnassigned,
        Self::FilterRequester,
        Self::FilterTag,
        Self::SearchWord,
        Self::SearchOrder,
        Self::Stats,
        Self::CreateTicket,
        Self::PostMessage,
        Self::WidgetTicket,
        Self::SignIn,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::CreateTicket => "create_ticket",
            Self::ListFirstPage => "list_first_page",
            Self::ListDeepPage => "list_page_1000",
            Self::FilterStatus => "filter_status",
            Self::FilterPriority => "filter_priority",
            Self::FilterCategory => "filter_category",
            Self::FilterAssignee => "filter_assignee_me",
            Self::FilterUnassigned => "filter_unassigned",
            Self::FilterRequester => "filter_requester",
            Self::FilterTag => "filter_tag",
            Self::SearchWord => "search_word",
            Self::SearchOrder => "search_order",
            Self::GetTicket => "get_ticket",
            Self::ListMessages => "list_messages",
            Self::PostMessage => "post_message",
            Self::WidgetTicket => "widget_ticket",
            Self::Stats => "stats",
            Self::FloorConstant => "floor_constant",
            Self::FloorSelect => "floor_select",
            Self::FloorPage => "floor_page",
            Self::FloorInsert => "floor_insert",
        }
    }

    /// The floor a scenario is compared with: writes with one INSERT, pages of 25 (tickets or
    /// messages) with one SELECT of a page, the rest with one SELECT of a row.
    pub(crate) fn floor(name: &str) -> &'static str {
        match name {
            "create_ticket" | "post_message" | "widget_ticket" => "floor_insert",
            "get_ticket" | "stats" | "sign_in" => "floor_select",
            _ => "floor_page",
        }
    }

    fn request(self, client: &Client, context: &Context, rng: &mut StdRng) -> RequestBuilder {
        let api = |method: Method, path: &str| {
            client
                .request(method, format!("{}{path}", context.target))
                .bearer_auth(&context.agent_token)
        };
        let list = |filter: &[(&str, String)]| {
            api(Method::GET, "/api/tickets")
                .query(&[("limit", "25")])
                .query(filter)
        };
        let ticket = context.ticket_ids[rng.random_range(0..context.ticket_ids.len())];
        let exchange = &context.exchanges[rng.random_range(0..context.exchanges.len())];
        match self {
            Self::SignIn => client
                .post(format!("{}/api/auth/login", context.target))
                .json(&json!({
                    "email": agent_email(rng.random_range(0..context.agents)),
                    "password": context.password,
                })),
            Self::CreateTicket => api(Method::POST, "/api/tickets").json(&json!({
                "subject": first_chars(&exchange.request, 200),
                "description": exchange.request,
                "tags": [exchange.tag()],
            })),
            Self::ListFirstPage => list(&[]),
            Self::ListDeepPage => match &context.deep_cursor {
                Some(cursor) => list(&[("cursor", cursor.clone())]),
                None => list(&[]),
            },
            Self::FilterStatus => list(&[("status", "open".to_owned())]),
            Self::FilterPriority => list(&[("priority", "urgent".to_owned())]),
            Self::FilterCategory => list(&[("category_id", context.category_id.to_string())]),
            Self::FilterAssignee => list(&[("assignee_id", "me".to_owned())]),
            Self::FilterUnassigned => list(&[("assignee_id", "none".to_owned())]),
            Self::FilterRequester => list(&[("requester_id", context.requester_id.to_string())]),
            Self::FilterTag => list(&[("tag", context.tag.clone())]),
            Self::SearchWord => {
                let word = &context.search_words[rng.random_range(0..context.search_words.len())];
                list(&[("q", word.clone())])
            }
            Self::SearchOrder => list(&[(
                "q",
                order_reference(rng.random_range(1..=context.seeded_tickets)),
            )]),
            Self::GetTicket => api(Method::GET, &format!("/api/tickets/{ticket}")),
            Self::ListMessages => api(
                Method::GET,
                &format!("/api/tickets/{ticket}/messages?limit=25"),
            ),
            Self::PostMessage => {
                let ticket =
                    context.open_ticket_ids[rng.random_range(0..context.open_ticket_ids.len())];
                api(Method::POST, &format!("/api/tickets/{ticket}/messages"))
                    .json(&json!({"body": exchange.response}))
            }
            Self::WidgetTicket => client
                .post(format!("{}/widget/tickets", context.target))
                .header("x-widget-key", &context.widget_key)
                .header("origin", "https://bench.example")
                .json(&json!({
                    "name": "Vera Visitor",
                    "email": format!("visitor{}@bench.example", rng.random_range(0..1_000_000)),
                    "message": exchange.request,
                })),
            Self::Stats => api(Method::GET, "/api/tickets/stats"),
            Self::FloorConstant => client.get(format!("{}/floor/constant", context.floor)),
            Self::FloorSelect => client.get(format!("{}/floor/select/{ticket}", context.floor)),
            Self::FloorPage => client.get(format!("{}/floor/page", context.floor)),
            Self::FloorInsert => client.post(format!("{}/floor/insert", context.floor)),
        }
    }
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
    let context = Arc::new(prepare(&client, &database, &args).await?);
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
        "{:<20} {:>5} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8}",
        "scenario", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "RSS MiB"
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
            let figures = measure(
                &client,
                &context,
                scenario,
                concurrency,
                Duration::from_secs_f64(args.seconds),
            )
            .await;
            if let Some((stop, peak)) = sampler {
                stop.store(1, Ordering::Relaxed);
                loaded_rss_kib = loaded_rss_kib.max(peak.await?);
            }
            let rss_kib = resident_kib(args.server_pid)?;
            println!(
                "{:<20} {:>5} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>8.1}",
                scenario.name(),
                concurrency,
                figures.rps,
                figures.p50_ms,
                figures.p90_ms,
                figures.p99_ms,
                figures.errors,
                rss_kib as f64 / 1024.0
            );
            runs.push(Run {
                scenario: scenario.name().to_owned(),
                concurrency,
                rss_kib,
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
        backend: database.name().to_owned(),
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

/// An access token for `email`, signed in through the API like any client.
pub(crate) async fn sign_in(
    client: &Client,
    target: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let reply: Value = client
        .post(format!("{target}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    reply["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token in the sign-in answer")
}

/// Signs in, registers a widget, samples ids, and walks to page 1,000 of 25 (position 25,000,
/// or the last page of a smaller desk) to get its cursor.
async fn prepare(client: &Client, database: &Database, args: &Args) -> anyhow::Result<Context> {
    let agent_token = sign_in(client, &args.target, &agent_email(0), &args.password).await?;
    let admin_token = sign_in(client, &args.target, &args.admin_email, &args.password).await?;
    let widget: Value = client
        .post(format!("{}/api/widgets", args.target))
        .bearer_auth(&admin_token)
        .json(&json!({"name": "Bench", "allowed_origins": ["https://bench.example"]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let widget_key = widget["key"].as_str().context("no widget key")?.to_owned();

    let highest: i64 = on_pool!(database, pool => sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) FROM tickets").fetch_one(pool).await?);
    anyhow::ensure!(
        highest > 0,
        "the database holds no tickets; run `growdesk-bench seed` first"
    );
    let mut rng = StdRng::seed_from_u64(7);
    let numbers: Vec<i64> = (0..1_000).map(|_| rng.random_range(1..=highest)).collect();
    let ticket_ids: Vec<Uuid> = on_pool!(database, pool => {
        let mut query = QueryBuilder::new("SELECT id FROM tickets WHERE number IN (");
        let mut separated = query.separated(", ");
        for number in &numbers {
            separated.push_bind(*number);
        }
        query.push(")");
        query.build_query_scalar().fetch_all(pool).await?
    });
    let open_ticket_ids: Vec<Uuid> = on_pool!(database, pool => {
        sqlx::query_scalar("SELECT id FROM tickets WHERE status <> 'closed' ORDER BY number DESC LIMIT 1000")
            .fetch_all(pool)
            .await?
    });
    let (category_id, requester_id): (Uuid, Uuid) = on_pool!(database, pool => {
        sqlx::query_as("SELECT category_id, requester_id FROM tickets WHERE number = 1 AND category_id IS NOT NULL")
            .fetch_one(pool)
            .await?
    });
    let tag: String = on_pool!(database, pool => sqlx::query_scalar("SELECT tag FROM ticket_tags LIMIT 1").fetch_one(pool).await?);

    let agents: i64 = on_pool!(database, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'agent' AND email LIKE '%@bench.growdesk.test'")
            .fetch_one(pool)
            .await?
    });

    let mut cursor: Option<String> = None;
    let mut position = 0_usize;
    while position < 25_000 {
        let mut request = client
            .get(format!("{}/api/tickets", args.target))
            .query(&[("limit", "100")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request
            .bearer_auth(&agent_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        // Stop one page short of the end, so the deep page is a full one.
        let items = page["items"].as_array().map_or(0, Vec::len);
        if position + items + 100 > usize::try_from(highest).unwrap_or(usize::MAX) {
            break;
        }
        position += items;
        cursor = Some(next.to_owned());
    }
    let exchanges = corpus::load()?;
    Ok(Context {
        target: args.target.clone(),
        floor: args.floor.clone(),
        agent_token,
        widget_key,
        password: args.password.clone(),
        agents: usize::try_from(agents)?.max(1),
        ticket_ids,
        open_ticket_ids,
        category_id,
        requester_id,
        tag,
        search_words: search_words(&exchanges),
        exchanges,
        seeded_tickets: highest,
        deep_cursor: cursor,
        deep_position: position,
    })
}

/// `concurrency` clients sending `scenario` back to back: one second of warm-up, then
/// `duration` measured.
async fn measure(
    client: &Client,
    context: &Arc<Context>,
    scenario: Scenario,
    concurrency: usize,
    duration: Duration,
) -> Figures {
    let warm_until = Instant::now() + Duration::from_secs(1);
    let until = warm_until + duration;
    let errors = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..concurrency)
        .map(|index| {
            let (client, context, errors) =
                (client.clone(), Arc::clone(context), Arc::clone(&errors));
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(index as u64);
                let mut latencies = Latencies::new();
                loop {
                    let sent = Instant::now();
                    if sent >= until {
                        break;
                    }
                    let request = scenario.request(&client, &context, &mut rng);
                    let outcome = match request.send().await {
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
    all.figures(duration, errors.load(Ordering::Relaxed))
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

/// The distinct words of four letters or more of the corpus, sorted.
fn search_words(exchanges: &[Exchange]) -> Vec<String> {
    let mut words = std::collections::BTreeSet::new();
    for exchange in exchanges {
        for text in [&exchange.request, &exchange.response] {
            for word in text.split(|c: char| !c.is_ascii_alphabetic()) {
                if word.len() >= 4 {
                    words.insert(word.to_ascii_lowercase());
                }
            }
        }
    }
    words.into_iter().collect()
}
