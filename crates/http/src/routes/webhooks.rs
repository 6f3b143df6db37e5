//! `/api/webhooks`: the admin's webhooks and each one's delivery log.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::{Webhook, WebhookDelivery};
use growdesk_service::pagination::PageRequest;
use growdesk_service::webhooks::WebhookInput;
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
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

/// A new webhook.
// Required fields are `Option`s all the same, so that a body missing one is answered by the
// service, which names every missing or invalid field at once, rather than by serde.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWebhookRequest {
    /// `http` or `https`; a host that does not resolve, or resolves to a loopback, private or
    /// link-local address, is refused.
    #[schema(schema_with = schemas::webhook_url, required = true)]
    url: Option<String>,
    /// Event types, or `["*"]` for all.
    #[schema(schema_with = schemas::webhook_event_types, required = true)]
    event_types: Option<Vec<String>>,
    active: Option<bool>,
}

impl From<CreateWebhookRequest> for WebhookInput {
    fn from(body: CreateWebhookRequest) -> Self {
        Self {
            url: body.url,
            event_types: body.event_types,
            active: body.active,
        }
    }
}

/// Changes to a webhook; omitted fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookRequest {
    /// As on creation.
    #[schema(schema_with = schemas::webhook_url_or_null)]
    url: Option<String>,
    /// Event types, or `["*"]` for all.
    #[schema(schema_with = schemas::webhook_event_types_or_null)]
    event_types: Option<Vec<String>>,
    active: Option<bool>,
}

impl From<WebhookRequest> for WebhookInput {
    fn from(body: WebhookRequest) -> Self {
        Self {
            url: body.url,
            event_types: body.event_types,
            active: body.active,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Every webhook (admin).
///
/// Signing secrets included, for the admin to configure receivers.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhooks", body = List<Webhook>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_webhooks(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<List<Webhook>>, ApiError> {
    Ok(axum::Json(List::whole(
        state.service.webhooks().list(&caller).await?,
    )))
}

/// Create a webhook (admin).
///
/// The answer holds its signing secret (`whsec_…`, Standard Webhooks). The URL must resolve to
/// globally reachable addresses only (422 naming the refused address); `event_types` are ticket
/// event kinds, or `*`.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created, with its signing secret", body = Webhook),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a refused target", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, axum::Json<Webhook>), ApiError> {
    let webhook = state
        .service
        .webhooks()
        .create(&caller, body.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(webhook)))
}

/// One webhook (admin).
///
/// With its signing secret.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<Webhook>, ApiError> {
    Ok(axum::Json(state.service.webhooks().get(&caller, id).await?))
}

/// Change a webhook (admin).
///
/// Only the fields sent change; a new URL is checked as at creation.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = WebhookRequest,
    responses(
        (status = 200, description = "Changed", body = Webhook),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a refused target", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> Result<axum::Json<Webhook>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .webhooks()
            .update(&caller, id, body.into())
            .await?,
    ))
}

/// Delete a webhook and its delivery log (admin).
///
/// Deliveries not yet sent go with it.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.webhooks().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first (admin).
///
/// Each with its status, attempts and last answer; finished ones are kept for 7 days. Paged with
/// `limit` and `cursor`.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = List<WebhookDelivery>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<axum::Json<List<WebhookDelivery>>, ApiError> {
    let page = PageRequest::<i64>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .webhooks()
            .deliveries(&caller, id, page)
            .await?
            .into(),
    ))
}
