//! One ticket: `GET`, `PATCH` and `DELETE /api/tickets/{id}`, its assignment, its event log
//! and the caller's read mark.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use growdesk_domain::{Priority, Ticket, TicketEvent, TicketStatus, ValidationErrors};
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::TicketChanges;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{PageQuery, if_match, with_etag};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::{List, nullable};
use crate::schemas;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_ticket, update_ticket, delete_ticket))
        .routes(routes!(assign_ticket))
        .routes(routes!(ticket_events))
        .routes(routes!(mark_ticket_read))
}

/// Changes to a ticket; omitted fields stay. Customers may only set `status` to `closed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTicketRequest {
    #[schema(schema_with = schemas::subject_or_null)]
    subject: Option<String>,
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    /// `null` removes the category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    category_id: Option<Option<Uuid>>,
    /// Replaces the tags.
    #[schema(schema_with = schemas::tags_or_null)]
    tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignRequest {
    /// An active agent or admin, or `null` to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, required = true)]
    assignee_id: Option<Option<Uuid>>,
}

/// One ticket.
///
/// With an `ETag` (the ticket's version) to send back as `If-Match` when changing it. A customer
/// asking for someone else's ticket gets 404, never 403. Staff also get `unread`: whether the
/// latest public message is someone else's and came after they marked it read.
#[utoipa::path(get, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The ticket; `ETag` is its version", body = Ticket, headers(("ETag" = String))),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        state.service.tickets().get(&caller, id).await?,
    ))
}

/// Change a ticket.
///
/// Subject, status, priority, category and tags, following the workflow (409 with the reason for
/// a move it forbids). Send `If-Match` with the `ETag` you have: a ticket changed since
/// gets 412 instead of being overwritten. Without `If-Match` the change is applied to the latest
/// version.
#[utoipa::path(patch, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, pattern = "^(\\*|(W/)?\"[0-9]{1,18}\")$", description = "The ETag the change is based on, or `*`")),
    request_body(content = UpdateTicketRequest, example = json!({"status": "resolved", "priority": "medium"})),
    responses(
        (status = 200, description = "Changed; `ETag` is the new version", body = Ticket, headers(("ETag" = String))),
        (status = 403, description = "A field your role may not change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workflow forbids this status change", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The ticket changed since your ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateTicketRequest>,
) -> Result<Response, ApiError> {
    let changes = TicketChanges {
        subject: body.subject,
        status: body.status,
        priority: body.priority,
        category_id: body.category_id,
        tags: body.tags,
    };
    let ticket = state
        .service
        .tickets()
        .update(&caller, id, changes, if_match(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::OK, ticket))
}

/// Delete a ticket with its messages (admin).
///
/// Its messages and events go with it; webhooks subscribed to `deleted` are told.
#[utoipa::path(delete, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.tickets().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign a ticket (staff).
///
/// Only to an active agent or admin (422 otherwise); `null` unassigns. Taking a ticket someone else
/// holds is a conflict (409), so of many agents taking one ticket at once exactly one gets it;
/// assigning it to someone else reassigns it. Honours `If-Match` as PATCH does.
#[utoipa::path(post, path = "/api/tickets/{id}/assign", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, pattern = "^(\\*|(W/)?\"[0-9]{1,18}\")$", description = "The ETag the change is based on, or `*`")),
    request_body(content = AssignRequest, example = json!({"assignee_id": "5f0c6d3e-8a1b-4c2d-9e7f-0a1b2c3d4e5f"})),
    responses(
        (status = 200, description = "Assigned; `ETag` is the new version", body = Ticket, headers(("ETag" = String))),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Someone else holds the ticket", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The ticket changed since your ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active agent or admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn assign_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Response, ApiError> {
    let assignee = body
        .assignee_id
        .ok_or_else(|| ValidationErrors::single("assignee_id", "is required (null unassigns)"))?;
    let ticket = state
        .service
        .tickets()
        .assign(&caller, id, assignee, if_match(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::OK, ticket))
}

/// The ticket's event log, oldest first.
///
/// Every change, with its actor and time, written in the same transaction as the change. Event ids
/// only grow: pass the last one as `cursor` to continue. Events about internal notes are for staff
/// only.
#[utoipa::path(get, path = "/api/tickets/{id}/events", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of events", body = List<TicketEvent>),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ticket_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<TicketEvent>>, ApiError> {
    let page = PageRequest::<i64>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .tickets()
            .events(&caller, id, page)
            .await?
            .into(),
    ))
}

/// Mark a ticket read (staff).
///
/// Records that the caller has read the ticket up to its latest event: it is no longer `unread`
/// for them (in the list and on `GET`) until someone else — the customer, another agent —
/// writes a public message, and the caller's own public reply reads it again. Internal notes
/// and changes of status, assignee or other fields never make a ticket unread. Each staff member has their own marks;
/// marking a ticket again changes nothing.
#[utoipa::path(put, path = "/api/tickets/{id}/read", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Marked read"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn mark_ticket_read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.tickets().mark_read(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
