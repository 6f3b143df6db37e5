//! `seed`: fills an empty database with a help desk's worth of data, fast. Rows are generated
//! here from the corpus with a fixed random seed and written with large multi-row INSERTs, one
//! transaction per thousand tickets, into the product's own schema (its triggers and indexes
//! included, so search works on the result).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::bail;
use argon2::PasswordHasher;
use argon2::password_hash::SaltString;
use growdesk_store::{PoolSettings, Stamp, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::QueryBuilder;
use time::{Duration as Span, OffsetDateTime};
use uuid::Uuid;

use crate::corpus::{self, Exchange};
use crate::database::{Database, on_pool};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// `sqlite://FILE` or `postgres://…`; migrated here if it is new.
    #[arg(long, env = "GROWDESK_DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value_t = 10_000)]
    tickets: usize,
    #[arg(long, default_value_t = 5)]
    messages_per_ticket: usize,
    #[arg(long, default_value_t = 50)]
    agents: usize,
    #[arg(long, default_value_t = 100_000)]
    customers: usize,
    /// The password of every seeded account.
    #[arg(long, default_value = "bench-password-1")]
    password: String,
}

/// The email of seeded agent `index`; `load` signs in as agent 0.
pub(crate) fn agent_email(index: usize) -> String {
    format!("agent{index}@bench.growdesk.test")
}

/// The order number quoted in ticket `number`'s first message: one ticket's own search term.
pub(crate) fn order_reference(number: i64) -> String {
    format!("GD{:08}", number.wrapping_mul(7_919) % 100_000_000)
}

fn customer_email(index: usize) -> String {
    format!("customer{index}@bench.growdesk.test")
}

const TICKETS_PER_TRANSACTION: usize = 1_000;
const USERS_PER_STATEMENT: usize = 2_000;
/// Tags beside each ticket's intent, as agents add them.
const EXTRA_TAGS: [&str; 6] = ["vip", "follow-up", "mobile", "escalated", "bug", "feedback"];
/// Seeded tickets were opened over the year before the seed.
const HISTORY_DAYS: i64 = 365;

struct User {
    id: Uuid,
    email: String,
    name: String,
    role: &'static str,
}

struct Ticket {
    id: Uuid,
    number: i64,
    subject: String,
    status: &'static str,
    priority: i16,
    category_id: Uuid,
    requester_id: Uuid,
    assignee_id: Option<Uuid>,
    source: &'static str,
    created_at: Stamp,
    updated_at: Stamp,
    first_response_at: Option<Stamp>,
    resolved_at: Option<Stamp>,
    closed_at: Option<Stamp>,
}

struct Message {
    id: Uuid,
    ticket_id: Uuid,
    author_id: Uuid,
    body: String,
    internal: bool,
    created_at: Stamp,
}

/// A uuid v7 carrying `at`, so seeded ids sort by time as the server's own do.
fn id_at(at: OffsetDateTime) -> Uuid {
    let nanos = at.unix_timestamp_nanos();
    let seconds = u64::try_from(nanos / 1_000_000_000).unwrap_or_default();
    let subsec = u32::try_from(nanos % 1_000_000_000).unwrap_or_default();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, subsec))
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One of `choices` with probability proportional to its weight.
fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (choice, weight) in choices {
        if roll < *weight {
            return *choice;
        }
        roll -= weight;
    }
    choices[choices.len() - 1].0
}

/// The first `count` characters of `text`, trimmed: a subject from a request.
pub(crate) fn first_chars(text: &str, count: usize) -> String {
    text.trim().chars().take(count).collect()
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::connect(&args.database_url, PoolSettings::default())?;
    store.migrate().await?;
    store.close().await;
    let database = Database::connect(&args.database_url, 2).await?;
    let existing: i64 = on_pool!(&database, pool => sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(pool).await?);
    if existing > 0 {
        bail!("the database already holds {existing} tickets; seed an empty one");
    }
    let corpus = corpus::load()?;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let now = OffsetDateTime::now_utc();

    let password = args.password.clone();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await?
    .map_err(|error| anyhow::anyhow!("hashing the password: {error}"))?;

    let mut users = Vec::with_capacity(args.agents + args.customers);
    for index in 0..args.agents {
        users.push(User {
            id: id_at(now - Span::days(HISTORY_DAYS + 1)),
            email: agent_email(index),
            name: format!("Agent {index}"),
            role: "agent",
        });
    }
    for index in 0..args.customers {
        users.push(User {
            id: id_at(now - Span::days(HISTORY_DAYS + 1)),
            email: customer_email(index),
            name: format!("Customer {index}"),
            role: "customer",
        });
    }
    let joined = Stamp::from(now - Span::days(HISTORY_DAYS + 1));
    for chunk in users.chunks(USERS_PER_STATEMENT) {
        on_pool!(&database, pool => {
            let mut query = QueryBuilder::new(
                "INSERT INTO users (id, email, name, role, password_hash, active, token_version, created_at, updated_at, name_key) ",
            );
            query.push_values(chunk, |mut row, user| {
                row.push_bind(user.id)
                    .push_bind(&user.email)
                    .push_bind(&user.name)
                    .push_bind(user.role)
                    .push_bind(&hash)
                    .push_bind(true)
                    .push_bind(0_i64)
                    .push_bind(joined)
                    .push_bind(joined)
                    .push_bind(growdesk_domain::fold_case(&user.name));
            });
            query.build().execute(pool).await?;
        });
    }
    let agents: Vec<Uuid> = users[..args.agents].iter().map(|user| user.id).collect();
    let customers: Vec<Uuid> = users[args.agents..].iter().map(|user| user.id).collect();

    let mut categories: HashMap<&str, Uuid> = HashMap::new();
    for exchange in &corpus {
        categories
            .entry(exchange.category.as_str())
            .or_insert_with(|| id_at(now - Span::days(HISTORY_DAYS + 1)));
    }
    for (position, (name, id)) in categories.iter().enumerate() {
        let display_name = name.to_lowercase().replace('_', " ");
        on_pool!(&database, pool => {
            sqlx::query(
                "INSERT INTO categories (id, name, description, color, active, position, created_at, updated_at, name_key) \
                 VALUES ($1, $2, '', '#3b82f6', $3, $4, $5, $5, $6)",
            )
            .bind(id)
            .bind(&display_name)
            .bind(true)
            .bind(i64::try_from(position)?)
            .bind(joined)
            .bind(growdesk_domain::fold_case(&display_name))
            .execute(pool)
            .await?;
        });
    }

    let history = Span::days(HISTORY_DAYS);
    let mut written = 0_usize;
    let mut reported = 0_usize;
    while written < args.tickets {
        let batch = TICKETS_PER_TRANSACTION.min(args.tickets - written);
        let mut tickets = Vec::with_capacity(batch);
        let mut tags = Vec::new();
        let mut messages = Vec::with_capacity(batch * args.messages_per_ticket);
        for index in written..written + batch {
            let offset = history * (index as f64 / args.tickets.max(1) as f64);
            let created = now - history + offset + Span::milliseconds(rng.random_range(0..1_000));
            let exchange = pick(&mut rng, &corpus);
            let ticket = generate_ticket(
                &mut rng,
                index,
                created,
                exchange,
                &categories,
                &agents,
                &customers,
            );
            let intent = exchange.tag();
            if rng.random_bool(0.3) {
                let extra = *pick(&mut rng, &EXTRA_TAGS);
                if extra != intent {
                    tags.push((ticket.id, extra.to_owned()));
                }
            }
            tags.push((ticket.id, intent));
            for turn in 0..args.messages_per_ticket {
                let at = (created + Span::minutes(17 * turn as i64)).min(now);
                let staff_turn = turn % 2 == 1;
                let (author_id, body) = if staff_turn {
                    let agent = ticket
                        .assignee_id
                        .unwrap_or_else(|| *pick(&mut rng, &agents));
                    (agent, exchange.response.clone())
                } else if turn == 0 {
                    // Customers quote their order, so most tickets hold a word of their own.
                    let reference = order_reference(ticket.number);
                    (
                        ticket.requester_id,
                        format!("{}\n\nOrder {reference}", exchange.request),
                    )
                } else {
                    (ticket.requester_id, pick(&mut rng, &corpus).request.clone())
                };
                messages.push(Message {
                    id: id_at(at),
                    ticket_id: ticket.id,
                    author_id,
                    body,
                    internal: turn == 3,
                    created_at: Stamp::from(at),
                });
            }
            tickets.push(ticket);
        }
        write_batch(&database, &tickets, &tags, &messages).await?;
        written += batch;
        if written * 10 / args.tickets > reported || written == args.tickets {
            reported = written * 10 / args.tickets;
            let elapsed = started.elapsed().as_secs_f64();
            println!(
                "{} tickets, {} messages ({:.0} tickets/s, {elapsed:.0} s)",
                written,
                written * args.messages_per_ticket,
                written as f64 / elapsed
            );
        }
    }

    on_pool!(&database, pool => {
        if database.name() == "postgres" {
            sqlx::query("SELECT setval('ticket_number_seq', $1)")
                .bind(i64::try_from(args.tickets.max(1))?)
                .execute(pool)
                .await?;
        }
        sqlx::query("ANALYZE").execute(pool).await?;
    });
    // What `growdesk-sync run`'s hourly merge job reaches on a live SQLite database.
    let store = Store::connect(&args.database_url, PoolSettings::default())?;
    let steps = store.jobs().merge_search_indexes(u64::MAX).await?;
    store.close().await;
    println!("search indexes merged in {steps} steps");
    println!(
        "seeded {} on {}: {} tickets, {} messages, {} agents, {} customers, {} categories in {:.0} s",
        growdesk_store::redact::redact_url(&args.database_url),
        database.name(),
        args.tickets,
        args.tickets * args.messages_per_ticket,
        args.agents,
        args.customers,
        categories.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn generate_ticket(
    rng: &mut StdRng,
    index: usize,
    created: OffsetDateTime,
    exchange: &Exchange,
    categories: &HashMap<&str, Uuid>,
    agents: &[Uuid],
    customers: &[Uuid],
) -> Ticket {
    let status = weighted(
        rng,
        &[
            ("open", 20),
            ("pending", 10),
            ("in_progress", 15),
            ("resolved", 25),
            ("closed", 30),
        ],
    );
    let assigned = status != "open" || rng.random_bool(0.5);
    // The newest tickets' answers, resolutions and closes would fall in the future: they are
    // made now instead, so that no time shows as "in 2 days".
    let now = OffsetDateTime::now_utc();
    let answered = (created + Span::minutes(17)).min(now);
    let resolved = (created + Span::hours(rng.random_range(1..72))).min(now);
    Ticket {
        id: id_at(created),
        number: i64::try_from(index + 1).unwrap_or(i64::MAX),
        subject: first_chars(&exchange.request, 200),
        status,
        priority: weighted(rng, &[(1, 30), (2, 40), (3, 20), (4, 10)]),
        category_id: categories[exchange.category.as_str()],
        requester_id: *pick(rng, customers),
        assignee_id: assigned.then(|| *pick(rng, agents)),
        source: weighted(
            rng,
            &[("web", 50), ("widget", 30), ("api", 15), ("import", 5)],
        ),
        created_at: Stamp::from(created),
        updated_at: Stamp::from(resolved.max(answered)),
        first_response_at: (status != "open").then(|| Stamp::from(answered)),
        resolved_at: matches!(status, "resolved" | "closed").then(|| Stamp::from(resolved)),
        closed_at: (status == "closed").then(|| Stamp::from((resolved + Span::days(7)).min(now))),
    }
}

/// One transaction: the tickets, their tags, their messages.
async fn write_batch(
    database: &Database,
    tickets: &[Ticket],
    tags: &[(Uuid, String)],
    messages: &[Message],
) -> anyhow::Result<()> {
    on_pool!(database, pool => {
        let mut tx = pool.begin().await?;
        let mut query = QueryBuilder::new(
            "INSERT INTO tickets (id, number, subject, status, priority, category_id, requester_id, assignee_id, \
             source, version, created_at, updated_at, first_response_at, resolved_at, closed_at) ",
        );
        query.push_values(tickets, |mut row, ticket| {
            row.push_bind(ticket.id)
                .push_bind(ticket.number)
                .push_bind(&ticket.subject)
                .push_bind(ticket.status)
                .push_bind(ticket.priority)
                .push_bind(ticket.category_id)
                .push_bind(ticket.requester_id)
                .push_bind(ticket.assignee_id)
                .push_bind(ticket.source)
                .push_bind(1_i64)
                .push_bind(ticket.created_at)
                .push_bind(ticket.updated_at)
                .push_bind(ticket.first_response_at)
                .push_bind(ticket.resolved_at)
                .push_bind(ticket.closed_at);
        });
        query.build().execute(&mut *tx).await?;
        let mut query = QueryBuilder::new("INSERT INTO ticket_tags (ticket_id, tag) ");
        query.push_values(tags, |mut row, (ticket, tag)| {
            row.push_bind(ticket).push_bind(tag);
        });
        query.build().execute(&mut *tx).await?;
        // Five thousand messages of six values stay under SQLite's 32,766 parameters.
        for chunk in messages.chunks(5_000) {
            let mut query = QueryBuilder::new(
                "INSERT INTO messages (id, ticket_id, author_id, body, internal, created_at) ",
            );
            query.push_values(chunk, |mut row, message| {
                row.push_bind(message.id)
                    .push_bind(message.ticket_id)
                    .push_bind(message.author_id)
                    .push_bind(&message.body)
                    .push_bind(message.internal)
                    .push_bind(message.created_at);
            });
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
