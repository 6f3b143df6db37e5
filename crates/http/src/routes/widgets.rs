//! `/api/widgets`: the admin's registry of chat widgets.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use growdesk_domain::{Priority, Widget, WidgetSettings};
use growdesk_service::widgets::WidgetInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::{List, nullable};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_widgets, create_widget))
        .routes(routes!(get_widget, update_widget, delete_widget))
        .routes(routes!(regenerate_key))
}

/// A widget with the snippet a site pastes to embed it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WidgetView {
    #[serde(flatten)]
    widget: Widget,
    /// `<script src=".../widget.js" data-key="..." async></script>`
    embed_snippet: String,
}

/// This server's base URL as the client reached it (behind a proxy, from its forwarded headers).
fn base_url(headers: &HeaderMap) -> String {
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let host = header_text("x-forwarded-host")
        .or_else(|| header_text(header::HOST.as_str()))
        .unwrap_or("localhost");
    let scheme = header_text("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

fn view(widget: Widget, headers: &HeaderMap) -> WidgetView {
    let embed_snippet = format!(
        "<script src=\"{}/widget.js\" data-key=\"{}\" async></script>",
        base_url(headers),
        widget.key
    );
    WidgetView {
        widget,
        embed_snippet,
    }
}

/// A new widget.
// Required fields are `Option`s all the same, so that a body missing one is answered by the
// service, which names every missing or invalid field at once, rather than by serde.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWidgetRequest {
    #[schema(schema_with = schemas::person_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = schemas::origins_or_null)]
    allowed_origins: Option<Vec<String>>,
    settings: Option<WidgetSettings>,
    /// At least 16 characters; `enforce_identity` needs one.
    #[schema(min_length = 16)]
    identity_secret: Option<String>,
    enforce_identity: Option<bool>,
    active: Option<bool>,
    /// An existing category.
    default_category_id: Option<Uuid>,
    default_priority: Option<Priority>,
}

impl From<CreateWidgetRequest> for WidgetInput {
    fn from(body: CreateWidgetRequest) -> Self {
        Self {
            name: body.name,
            allowed_origins: body.allowed_origins,
            settings: body.settings,
            identity_secret: Some(body.identity_secret),
            enforce_identity: body.enforce_identity,
            active: body.active,
            default_category_id: Some(body.default_category_id),
            default_priority: body.default_priority,
        }
    }
}

/// Changes to a widget; omitted fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WidgetRequest {
    #[schema(schema_with = schemas::person_name_or_null)]
    name: Option<String>,
    #[schema(schema_with = schemas::origins_or_null)]
    allowed_origins: Option<Vec<String>>,
    settings: Option<WidgetSettings>,
    /// At least 16 characters; `null` stops identity verification.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 16)]
    identity_secret: Option<Option<String>>,
    enforce_identity: Option<bool>,
    active: Option<bool>,
    /// An existing category, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    default_category_id: Option<Option<Uuid>>,
    default_priority: Option<Priority>,
}

impl From<WidgetRequest> for WidgetInput {
    fn from(body: WidgetRequest) -> Self {
        Self {
            name: body.name,
            allowed_origins: body.allowed_origins,
            settings: body.settings,
            identity_secret: body.identity_secret,
            enforce_identity: body.enforce_identity,
            active: body.active,
            default_category_id: body.default_category_id,
            default_priority: body.default_priority,
        }
    }
}

/// Every widget (admin).
///
/// Each with its public key and `embed_snippet`, the line a site adds to its pages.
#[utoipa::path(get, path = "/api/widgets", tag = "widgets", security(("bearer" = [])),
    responses(
        (status = 200, description = "The widgets", body = List<WidgetView>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_widgets(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
) -> Result<axum::Json<List<WidgetView>>, ApiError> {
    let widgets = state.service.widgets().list(&caller).await?;
    Ok(axum::Json(List::whole(
        widgets
            .into_iter()
            .map(|widget| view(widget, &headers))
            .collect(),
    )))
}

/// Register a widget (admin).
///
/// `allowed_origins` are exact origins (`https://shop.example.com`: no path, no wildcard);
/// `enforce_identity` needs an `identity_secret`. The answer holds the public key and the
/// `embed_snippet`.
#[utoipa::path(post, path = "/api/widgets", tag = "widgets", security(("bearer" = [])), request_body = CreateWidgetRequest,
    responses(
        (status = 201, description = "Registered", body = WidgetView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_widget(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateWidgetRequest>,
) -> Result<(StatusCode, axum::Json<WidgetView>), ApiError> {
    let widget = state.service.widgets().create(&caller, body.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(view(widget, &headers))))
}

/// One widget (admin).
///
/// With its public key and `embed_snippet`.
#[utoipa::path(get, path = "/api/widgets/{id}", tag = "widgets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The widget", body = WidgetView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_widget(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<WidgetView>, ApiError> {
    Ok(axum::Json(view(
        state.service.widgets().get(&caller, id).await?,
        &headers,
    )))
}

/// Change a widget (admin).
///
/// Only the fields sent change; deactivating it makes every page using it answer 403.
#[utoipa::path(patch, path = "/api/widgets/{id}", tag = "widgets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = WidgetRequest,
    responses(
        (status = 200, description = "Changed", body = WidgetView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_widget(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WidgetRequest>,
) -> Result<axum::Json<WidgetView>, ApiError> {
    Ok(axum::Json(view(
        state
            .service
            .widgets()
            .update(&caller, id, body.into(), false)
            .await?,
        &headers,
    )))
}

/// Delete a widget (admin).
///
/// Its conversations stay, as tickets; its key and visitor tokens stop working.
#[utoipa::path(delete, path = "/api/widgets/{id}", tag = "widgets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_widget(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.widgets().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a widget a new public key (admin).
///
/// Pages with the old key stop working at once; the answer holds the new key and `embed_snippet`.
#[utoipa::path(post, path = "/api/widgets/{id}/regenerate-key", tag = "widgets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The widget with its new key", body = WidgetView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget", body = Problem, content_type = "application/problem+json"),
    ))]
async fn regenerate_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<WidgetView>, ApiError> {
    let widget = state
        .service
        .widgets()
        .update(&caller, id, WidgetInput::default(), true)
        .await?;
    Ok(axum::Json(view(widget, &headers)))
}
