//! What the scenarios need, gathered once before the first: tokens signed in through the API, a
//! widget, ids sampled from the seeded database, the deep page's cursor and the corpus's words.

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{Value, json};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::corpus::{self, Exchange};
use crate::database::{Database, on_pool};
use crate::seed::agent_email;

/// Everything the scenarios need to build their requests.
pub(super) struct Context {
    pub(super) target: String,
    pub(super) floor: String,
    pub(super) agent_token: String,
    pub(super) widget_key: String,
    pub(super) password: String,
    pub(super) agents: usize,
    pub(super) ticket_ids: Vec<Uuid>,
    /// Tickets that take replies (not closed).
    pub(super) open_ticket_ids: Vec<Uuid>,
    pub(super) category_id: Uuid,
    pub(super) requester_id: Uuid,
    pub(super) tag: String,
    /// What new tickets and replies say: the seed's corpus, so that the tickets a run adds
    /// contain its words as the seeded ones do (a run that added thousands of tickets without
    /// them made every later search walk past them).
    pub(super) exchanges: Vec<Exchange>,
    /// Every word of four letters or more in the corpus: from a few thousand matching
    /// messages to millions at a million tickets.
    pub(super) search_words: Vec<String>,
    /// Seeded tickets are numbered from 1 to this, each quoting its `order_reference`.
    pub(super) seeded_tickets: i64,
    /// The cursor of the deep page, and how many tickets come before it.
    pub(super) deep_cursor: Option<String>,
    pub(super) deep_position: usize,
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
pub(super) async fn prepare(
    client: &Client,
    database: &Database,
    target: &str,
    floor: &str,
    admin_email: &str,
    password: &str,
) -> anyhow::Result<Context> {
    let agent_token = sign_in(client, target, &agent_email(0), password).await?;
    let admin_token = sign_in(client, target, admin_email, password).await?;
    let widget: Value = client
        .post(format!("{target}/api/widgets"))
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
            .get(format!("{target}/api/tickets"))
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
        target: target.to_owned(),
        floor: floor.to_owned(),
        agent_token,
        widget_key,
        password: password.to_owned(),
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
