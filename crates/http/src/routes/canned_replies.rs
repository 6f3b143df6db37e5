//! `/api/canned-replies`: the replies agents insert into their answers, personal and shared.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::workspace::CannedReply;
use growdesk_service::canned_replies::ReplyInput;
use growdesk_service::pagination::PageRequest;
use growdesk_service::views::TitlePosition;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::{List, nullable};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_canned_replies, create_canned_reply))
        .routes(routes!(
            get_canned_reply,
            update_canned_reply,
            delete_canned_reply
        ))
}

/// A reply to keep. The body may hold `{{requester.name}}`, `{{ticket.number}}` and
/// `{{agent.name}}`, which the client fills in when it inserts the reply.
// Required fields are `Option`s, so that the service names every missing field at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCannedReplyRequest {
    #[schema(schema_with = schemas::title, required = true)]
    title: Option<String>,
    #[schema(schema_with = schemas::message_body, required = true)]
    body: Option<String>,
    #[schema(schema_with = schemas::shortcut_or_null)]
    shortcut: Option<String>,
    /// `true` keeps it for every agent (admins only); default `false`, for the caller alone.
    #[serde(default)]
    shared: bool,
}

/// Changes to a reply; omitted fields stay. Whether it is shared does not change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCannedReplyRequest {
    #[schema(schema_with = schemas::title_or_null)]
    title: Option<String>,
    #[schema(schema_with = schemas::message_body_or_null)]
    body: Option<String>,
    /// `null` removes the shortcut.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::shortcut_or_null)]
    shortcut: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCannedRepliesQuery {
    /// Only replies whose title or shortcut starts with this, case aside: what the agent typed
    /// after `/` in the composer.
    #[param(max_length = 100)]
    prefix: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The caller's canned replies and the shared ones (staff).
///
/// In title order (case and accents aside), with keyset pagination; `prefix` keeps those whose
/// title or shortcut starts with it, for the composer's `/` completion.
#[utoipa::path(get, path = "/api/canned-replies", tag = "canned-replies", security(("bearer" = [])), params(ListCannedRepliesQuery),
    responses(
        (status = 200, description = "A page of replies", body = List<CannedReply>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_canned_replies(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListCannedRepliesQuery>,
) -> Result<axum::Json<List<CannedReply>>, ApiError> {
    let page = PageRequest::<TitlePosition>::parse(query.limit, query.cursor.as_deref())?;
    let replies = state
        .service
        .canned_replies()
        .list(&caller, query.prefix.as_deref(), page)
        .await?;
    Ok(axum::Json(replies.into()))
}

/// Keep a canned reply (staff; shared ones admin only).
///
/// The body is kept as written, placeholders included: `{{requester.name}}`,
/// `{{ticket.number}}` and `{{agent.name}}` are for the client to fill in when it inserts the
/// reply, since it has the ticket and the agent at hand and the agent edits the text before
/// sending it.
#[utoipa::path(post, path = "/api/canned-replies", tag = "canned-replies", security(("bearer" = [])), request_body(content = CreateCannedReplyRequest,
        example = json!({"title": "Refund on its way", "body": "Hello {{requester.name}}, the refund for ticket #{{ticket.number}} is on its way.\n\n{{agent.name}}", "shortcut": "refund"})),
    responses(
        (status = 201, description = "Kept", body = CannedReply, example = json!({"id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "title": "Refund on its way", "body": "Hello {{requester.name}}, the refund for ticket #{{ticket.number}} is on its way.\n\n{{agent.name}}", "shortcut": "refund", "shared": false, "owner_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z"})),
        (status = 403, description = "Not staff, or an agent sharing a reply", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_canned_reply(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateCannedReplyRequest>,
) -> Result<(StatusCode, axum::Json<CannedReply>), ApiError> {
    let input = ReplyInput {
        title: body.title,
        body: body.body,
        shortcut: Some(body.shortcut),
    };
    let reply = state
        .service
        .canned_replies()
        .create(&caller, body.shared, input)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(reply)))
}

/// A canned reply.
///
/// Another agent's personal reply is not found, for admins too.
#[utoipa::path(get, path = "/api/canned-replies/{id}", tag = "canned-replies", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The reply", body = CannedReply),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reply, or another agent's own", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_canned_reply(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<CannedReply>, ApiError> {
    Ok(axum::Json(
        state.service.canned_replies().get(&caller, id).await?,
    ))
}

/// Change a canned reply.
///
/// Agents change their own replies, admins theirs and the shared ones.
#[utoipa::path(patch, path = "/api/canned-replies/{id}", tag = "canned-replies", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = UpdateCannedReplyRequest, example = json!({"shortcut": null})),
    responses(
        (status = 200, description = "The changed reply", body = CannedReply),
        (status = 403, description = "Not staff, or an agent changing a shared reply", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reply, or another agent's own", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_canned_reply(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateCannedReplyRequest>,
) -> Result<axum::Json<CannedReply>, ApiError> {
    let input = ReplyInput {
        title: body.title,
        body: body.body,
        shortcut: body.shortcut,
    };
    Ok(axum::Json(
        state
            .service
            .canned_replies()
            .update(&caller, id, input)
            .await?,
    ))
}

/// Delete a canned reply.
///
/// Agents delete their own replies, admins theirs and the shared ones.
#[utoipa::path(delete, path = "/api/canned-replies/{id}", tag = "canned-replies", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not staff, or an agent deleting a shared reply", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reply, or another agent's own", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_canned_reply(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.canned_replies().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
