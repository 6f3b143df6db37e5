//! `/api/views`: the saved views of the queue, personal and shared.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::workspace::{SavedView, ViewFilter};
use growdesk_service::pagination::PageRequest;
use growdesk_service::views::{NewView, TitlePosition, ViewChanges};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::List;
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_views, create_view))
        .routes(routes!(get_view, update_view, delete_view))
}

/// A view to keep.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateViewRequest {
    #[schema(schema_with = schemas::title, required = true)]
    name: Option<String>,
    /// `true` keeps it for every agent (admins only); default `false`, for the caller alone.
    #[serde(default)]
    shared: bool,
    /// Default: no filter (every ticket, newest first).
    #[serde(default)]
    filter: ViewFilter,
}

/// Changes to a view; omitted fields stay. Whether it is shared does not change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateViewRequest {
    #[schema(schema_with = schemas::title_or_null)]
    name: Option<String>,
    /// Replaces the whole filter.
    filter: Option<ViewFilter>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListViewsQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The caller's saved views and the shared ones (staff).
///
/// In name order (case and accents aside), with keyset pagination. A view's `filter` holds the
/// query parameters of `GET /api/tickets`; list its tickets by passing them on.
#[utoipa::path(get, path = "/api/views", tag = "views", security(("bearer" = [])), params(ListViewsQuery),
    responses(
        (status = 200, description = "A page of views", body = List<SavedView>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_views(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListViewsQuery>,
) -> Result<axum::Json<List<SavedView>>, ApiError> {
    let page = PageRequest::<TitlePosition>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state.service.views().list(&caller, page).await?.into(),
    ))
}

/// Save a view (staff; shared ones admin only).
///
/// The filter takes the fields of `GET /api/tickets`' query but the page; an unknown field is
/// refused (422), and so is an assignee that is not a user id, `me` or `none`.
#[utoipa::path(post, path = "/api/views", tag = "views", security(("bearer" = [])), request_body(content = CreateViewRequest,
        example = json!({"name": "Urgent billing", "filter": {"status": ["open", "pending"], "priority": "urgent", "tag": "billing", "assignee_id": "me", "sort": "updated_at", "order": "desc"}})),
    responses(
        (status = 201, description = "Saved", body = SavedView, example = json!({"id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "name": "Urgent billing", "shared": false, "owner_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "filter": {"status": ["open", "pending"], "priority": "urgent", "category_id": null, "assignee_id": "me", "requester_id": null, "tag": "billing", "q": null, "sort": "updated_at", "order": "desc"}, "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z"})),
        (status = 403, description = "Not staff, or an agent sharing a view", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateViewRequest>,
) -> Result<(StatusCode, axum::Json<SavedView>), ApiError> {
    let view = NewView {
        name: body.name,
        shared: body.shared,
        filter: body.filter,
    };
    let view = state.service.views().create(&caller, view).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// A saved view.
///
/// Another agent's personal view is not found, for admins too.
#[utoipa::path(get, path = "/api/views/{id}", tag = "views", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The view", body = SavedView),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such view, or another agent's own", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<SavedView>, ApiError> {
    Ok(axum::Json(state.service.views().get(&caller, id).await?))
}

/// Rename a view or replace its filter.
///
/// Agents change their own views, admins theirs and the shared ones. The filter is replaced
/// whole; whether the view is shared stays as it was created.
#[utoipa::path(patch, path = "/api/views/{id}", tag = "views", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = UpdateViewRequest, example = json!({"name": "Urgent", "filter": {"priority": "urgent"}})),
    responses(
        (status = 200, description = "The changed view", body = SavedView),
        (status = 403, description = "Not staff, or an agent changing a shared view", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such view, or another agent's own", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateViewRequest>,
) -> Result<axum::Json<SavedView>, ApiError> {
    let changes = ViewChanges {
        name: body.name,
        filter: body.filter,
    };
    Ok(axum::Json(
        state.service.views().update(&caller, id, changes).await?,
    ))
}

/// Delete a view.
///
/// Agents delete their own views, admins theirs and the shared ones.
#[utoipa::path(delete, path = "/api/views/{id}", tag = "views", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not staff, or an agent deleting a shared view", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such view, or another agent's own", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_view(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.views().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
