//! A visitor's conversations through the widget: opening one, listing them, reading and
//! answering their messages, and the visitor's socket.

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use growdesk_domain::{Message, Ticket};
use growdesk_realtime::session::Audience;
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::TicketPosition;
use growdesk_service::widgets::VisitorTicketDraft;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{VisitorCaller, WidgetCaller, bearer};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::routes::List;
use crate::routes::tickets::PageQuery;
use crate::schemas;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, open_ticket))
        .routes(routes!(list_messages, post_message))
        .routes(routes!(socket))
}

/// A visitor's first message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenTicketRequest {
    #[schema(schema_with = schemas::person_name)]
    name: String,
    #[schema(schema_with = schemas::email)]
    email: String,
    #[schema(schema_with = schemas::message_body)]
    message: String,
    /// Default "Chat with" and the name.
    #[schema(schema_with = schemas::subject_or_null)]
    subject: Option<String>,
    /// The page the visitor is on, for context.
    #[schema(max_length = 2000)]
    page_url: Option<String>,
    #[schema(max_length = 2000)]
    user_agent: Option<String>,
    /// Hex HMAC-SHA256, from the site's backend, of the normalised email (trimmed,
    /// NFKC-normalised, lower-cased: `ana@example.com` for `Ana@Example.COM`) with the widget's
    /// identity secret.
    identity_hash: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OpenedTicket {
    ticket: Ticket,
    /// Keep it (the widget stores it in the browser): it grants this conversation.
    visitor_token: String,
}

/// Start a conversation.
///
/// The visitor's first message becomes a ticket filed under a customer with that email, and the
/// answer holds a `visitor_token` that grants this conversation. With a visitor token, the same
/// visitor opens another. With the widget's `enforce_identity`, `identity_hash` must be the site's
/// HMAC of the normalised email (401 otherwise). Honours `Idempotency-Key`, scoped to the widget: a
/// retry returns the same ticket and creates nothing. Limited per visitor address and per widget
/// (429 with Retry-After).
#[utoipa::path(post, path = "/widget/tickets", operation_id = "widget_open_ticket", tag = "widget", request_body(content = OpenTicketRequest,
        example = json!({"name": "Dana", "email": "dana@example.com", "message": "Do you ship to Canada?", "page_url": "https://shop.example.com/shipping"})),
    security(("widget_key" = []), ("widget_key" = [], "visitor" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    responses(
        (status = 201, description = "Opened, with the visitor token", body = OpenedTicket, example = json!({"ticket": {"id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "number": 42, "subject": "Chat with Dana", "status": "open", "priority": "medium", "category_id": null, "requester": {"id": "9a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d", "name": "Dana", "email": "dana@example.com"}, "assignee_id": null, "assignee": null, "tags": [], "source": "widget", "version": 1, "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z", "first_response_at": null, "resolved_at": null, "closed_at": null}, "visitor_token": "eyJhbGciOiJIUzI1NiJ9.eyJ2aXNpdG9yIjoiZGFuYSJ9.c2lnbmF0dXJl"})),
        (status = 401, description = "Identity hash missing or wrong (enforced), or a visitor token that is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many", body = Problem, content_type = "application/problem+json"),
    ))]
async fn open_ticket(
    State(state): State<AppState>,
    WidgetCaller(widget): WidgetCaller,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OpenTicketRequest>,
) -> Result<(StatusCode, axum::Json<OpenedTicket>), ApiError> {
    let visitor = match bearer(&headers) {
        Some(token) => Some(state.service.visitors().visitor(&widget, token).await?),
        None => None,
    };
    let draft = VisitorTicketDraft {
        name: body.name,
        email: body.email,
        message: body.message,
        subject: body.subject,
        page_url: body.page_url,
        user_agent: body.user_agent,
        identity_hash: body.identity_hash,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    let (ticket, visitor_token) = state
        .service
        .visitors()
        .open_ticket(&widget, visitor, draft, ip, key)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(OpenedTicket {
            ticket,
            visitor_token,
        }),
    ))
}

/// The visitor's conversations, newest first.
///
/// Those opened with this visitor token, and the customer's earlier tickets when the visitor proved
/// their identity. Paged with `limit` and `cursor`.
#[utoipa::path(get, path = "/widget/tickets", operation_id = "widget_list_tickets", tag = "widget", params(PageQuery),
    security(("widget_key" = [], "visitor" = [])),
    responses(
        (status = 200, description = "A page of the visitor's conversations", body = List<Ticket>),
        (status = 401, description = "No valid visitor token", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_tickets(
    State(state): State<AppState>,
    VisitorCaller(visitor): VisitorCaller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<Ticket>>, ApiError> {
    let page = PageRequest::<TicketPosition>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .visitors()
            .tickets(&visitor, page)
            .await?
            .into(),
    ))
}

/// A conversation's messages, oldest first.
///
/// Never internal notes. Another visitor's conversation is 404.
#[utoipa::path(get, path = "/widget/tickets/{id}/messages", operation_id = "widget_list_messages", tag = "widget", security(("widget_key" = [], "visitor" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = List<Message>),
        (status = 404, description = "Not this visitor's", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    VisitorCaller(visitor): VisitorCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<Message>>, ApiError> {
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .visitors()
            .messages(&visitor, id, page)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisitorMessageRequest {
    #[schema(schema_with = schemas::message_body)]
    body: String,
}

/// Reply in a conversation.
///
/// The reply is written with a customer's rights and reopens a pending or resolved ticket; a closed
/// one is 409. Honours `Idempotency-Key`. Limited as POST /widget/tickets is.
#[utoipa::path(post, path = "/widget/tickets/{id}/messages", operation_id = "widget_post_message", tag = "widget", security(("widget_key" = [], "visitor" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    request_body(content = VisitorMessageRequest, example = json!({"body": "Thanks, that helps."})),
    responses(
        (status = 201, description = "Posted", body = Message),
        (status = 404, description = "Not this visitor's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The conversation is closed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many", body = Problem, content_type = "application/problem+json"),
    ))]
async fn post_message(
    State(state): State<AppState>,
    VisitorCaller(visitor): VisitorCaller,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VisitorMessageRequest>,
) -> Result<(StatusCode, axum::Json<Message>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    let message = state
        .service
        .visitors()
        .post_message(&visitor, id, body.body, ip, key)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SocketQuery {
    /// The widget key (browsers cannot set headers on a socket).
    key: String,
    visitor_token: String,
    /// The last event id seen, to resume.
    last_event_id: Option<i64>,
}

/// The visitor's live socket.
///
/// Replies, typing both ways, and whether an agent is online. Browsers cannot set headers on a
/// socket, so the key and the visitor token are query parameters. The page's `Origin` must be one
/// of the widget's.
#[utoipa::path(get, path = "/widget/ws", operation_id = "widget_socket", tag = "widget", params(SocketQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request, or a query parameter that does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid visitor token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Origin not allowed or widget inactive", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown widget key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn socket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(query): ApiQuery<SocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let widget = state
        .service
        .visitors()
        .widget_for_key(&query.key, origin)
        .await?;
    let visitor = state
        .service
        .visitors()
        .visitor(&widget, &query.visitor_token)
        .await?;
    let registration = state
        .realtime
        .hub
        .register_visitor(visitor.visitor_id, visitor.accounts(), ip)
        .map_err(crate::routes::ws::refusal)?;
    let audience = Audience::Visitor {
        visitor,
        name: "Visitor".to_owned(),
        ip,
    };
    Ok(crate::routes::ws::open(
        &state,
        upgrade,
        false,
        audience,
        registration,
        query.last_event_id,
    ))
}
