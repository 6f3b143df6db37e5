//! `/api/notifications`: the caller's inbox.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::Notification;
use growdesk_service::pagination::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::routes::List;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct NotificationsQuery {
    /// Only unread ones.
    unread: Option<bool>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MarkedRead {
    /// How many were unread.
    marked: u64,
}

/// The caller's notifications, newest first.
///
/// Personal notifications (a ticket assigned to you, a reply on your ticket…), paged with `limit`
/// and `cursor`; the socket pushes the same ones live.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])), params(NotificationsQuery),
    responses(
        (status = 200, description = "A page of notifications", body = List<Notification>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_notifications(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<NotificationsQuery>,
) -> Result<axum::Json<List<Notification>>, ApiError> {
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    let unread = query.unread.unwrap_or(false);
    Ok(axum::Json(
        state
            .service
            .notifications()
            .list(&caller, unread, page)
            .await?
            .into(),
    ))
}

/// Mark one notification read.
///
/// Only the caller's own; anyone else's is 404.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Read"),
        (status = 404, description = "Not one of yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.notifications().mark_read(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all of the caller's notifications read.
///
/// Answers how many were marked (`marked`).
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Marked read", body = MarkedRead),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn mark_all_read(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<MarkedRead>, ApiError> {
    Ok(axum::Json(MarkedRead {
        marked: state.service.notifications().mark_all_read(&caller).await?,
    }))
}
