//! Operations: liveness, readiness and metrics.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use growdesk_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// A readiness probe gives up on the database after this long.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok` or `ready`.
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    status: &'static str,
    /// `postgres` or `sqlite`.
    database: &'static str,
}

/// Liveness: the process answers.
///
/// Never touches the database, so a busy or unreachable database does not make an orchestrator
/// restart the process.
#[utoipa::path(get, path = "/api/health", tag = "operations", responses((status = 200, description = "The process is up", body = Health)))]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// Readiness: the database answers.
///
/// 503 while the database does not answer within the deadline, so a load balancer sends no traffic
/// here.
#[utoipa::path(get, path = "/api/ready", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Readiness),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ready(State(state): State<AppState>) -> Result<axum::Json<Readiness>, ApiError> {
    let store = state.service.store();
    store
        .ping(READY_TIMEOUT)
        .await
        .map_err(ServiceError::Unavailable)?;
    Ok(axum::Json(Readiness {
        status: "ready",
        database: store.kind().as_str(),
    }))
}

/// Prometheus metrics.
///
/// Requests and their latency by route, and the database pool, in the Prometheus text exposition
/// format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle) = state.service.store().pool_usage();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(open, idle),
    )
}
