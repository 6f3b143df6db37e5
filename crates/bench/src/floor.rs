//! `floor`: the floor of the stack on this machine. axum, tokio and a pool on the same database
//! with nothing of GrowDesk between them: a constant, one indexed SELECT of a row and of a page,
//! and one INSERT. `load` prints every figure of the server beside these. Beside them, the
//! store's own reads of a ticket and of the first page, served as the API serves them but with
//! nothing around them (no authentication, policy or middleware): what the server's reads cost
//! beyond these is the HTTP API's, and what these cost beyond the plain SELECTs is the query's.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use growdesk_domain::Ticket;
use growdesk_store::tickets::{TicketFilter, TicketSort};
use growdesk_store::{Stamp, Store};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::database::{Database, on_pool, pool_settings};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database the server under test uses (seeded).
    #[arg(long, env = "GROWDESK_DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    /// The pool size, as the server's `GROWDESK_DB_MAX_CONNECTIONS`.
    #[arg(long, default_value_t = 10)]
    connections: u32,
}

const WRITES_TABLE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS bench_floor_writes \
     (id uuid PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)";
const WRITES_TABLE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS bench_floor_writes \
     (id BLOB PRIMARY KEY NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT";

/// The store's reads, for the reader the server's reads are made for (any staff member: the
/// unread flag costs the same for each).
struct StoreFloor {
    store: Store,
    reader: Uuid,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let database = Database::connect(&args.database_url, args.connections).await?;
    on_pool!(&database, pool => {
        let ddl = if database.name() == "postgres" { WRITES_TABLE_POSTGRES } else { WRITES_TABLE_SQLITE };
        sqlx::query(ddl).execute(pool).await?;
    });
    let store = Store::connect(&args.database_url, pool_settings(args.connections))?;
    let reader = store
        .users()
        .active_staff()
        .await?
        .first()
        .map(|user| user.id)
        .ok_or_else(|| anyhow::anyhow!("the database has no staff: seed it first"))?;
    let store_floor = Router::new()
        .route("/floor/store/ticket/{id}", get(store_ticket))
        .route("/floor/store/page", get(store_page))
        .with_state(Arc::new(StoreFloor { store, reader }));
    let app = Router::new()
        .route("/floor/constant", get(|| async { "ok" }))
        .route("/floor/select/{id}", get(select))
        .route("/floor/page", get(page))
        .route("/floor/insert", post(insert))
        .with_state(Arc::new(database))
        .merge(store_floor);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    println!("floor listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// One ticket by its primary key.
async fn select(
    State(database): State<Arc<Database>>,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, StatusCode> {
    let row: Option<(Uuid, String, String)> = on_pool!(database.as_ref(), pool => {
        sqlx::query_as("SELECT id, subject, status FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let (id, subject, status) = row.ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(
        json!({"id": id, "subject": subject, "status": status}),
    ))
}

/// The 25 newest tickets, from the creation-date index: the floor of a list page.
async fn page(State(database): State<Arc<Database>>) -> Result<Json<Value>, StatusCode> {
    let rows: Vec<(Uuid, i64, String, String, i16, Stamp)> = on_pool!(database.as_ref(), pool => {
        sqlx::query_as(
            "SELECT id, number, subject, status, priority, created_at FROM tickets \
             ORDER BY created_at DESC, id DESC LIMIT 25",
        )
        .fetch_all(pool)
        .await
    })
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, number, subject, status, priority, created_at)| {
            json!({
                "id": id,
                "number": number,
                "subject": subject,
                "status": status,
                "priority": priority,
                "created_at": created_at
                    .into_inner()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// One ticket as the store reads it for a staff member's `GET /api/tickets/{id}`.
async fn store_ticket(
    State(floor): State<Arc<StoreFloor>>,
    Path(id): Path<Uuid>,
) -> Result<Json<Ticket>, StatusCode> {
    floor
        .store
        .tickets()
        .get_read_by(id, floor.reader)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

/// The first page as the store reads it for a staff member's `GET /api/tickets?limit=25` (one
/// more row, which tells whether a next page exists).
async fn store_page(State(floor): State<Arc<StoreFloor>>) -> Result<Json<Value>, StatusCode> {
    let filter = TicketFilter {
        reader: Some(floor.reader),
        ..TicketFilter::default()
    };
    let items = floor
        .store
        .tickets()
        .list(&filter, TicketSort::CreatedAt, true, None, 26)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(json!({ "items": items })))
}

/// One row into a table of its own.
async fn insert(
    State(database): State<Arc<Database>>,
) -> Result<(StatusCode, Json<Value>), StatusCode> {
    let id = Uuid::now_v7();
    on_pool!(database.as_ref(), pool => {
        sqlx::query("INSERT INTO bench_floor_writes (id, body, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind("a message of a typical length, written by the floor to measure one INSERT")
            .bind(Stamp::now())
            .execute(pool)
            .await
            .map(drop)
    })
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}
