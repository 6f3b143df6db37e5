//! The public widget API (`/widget/*`), keyed by `X-Widget-Key`, for visitors on the sites that
//! embed the widget; and `/widget.js` and `/widget/demo`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, Request, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use growdesk_domain::{Faq, Message, Ticket, Widget, WidgetSettings};
use growdesk_realtime::session::Audience;
use growdesk_service::ServiceError;
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::TicketPosition;
use growdesk_service::widgets::{Visitor, VisitorTicketDraft};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::routes::List;
use crate::routes::tickets::PageQuery;
use crate::schemas;
use crate::state::AppState;

const WIDGET_KEY: &str = "x-widget-key";
const WIDGET_JS: &str = include_str!("../../assets/widget.js");
const DEMO_HTML: &str = include_str!("../../assets/demo.html");

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(faqs))
        .routes(routes!(list_tickets, open_ticket))
        .routes(routes!(list_messages, post_message))
        .routes(routes!(socket))
}

/// The static widget files, outside the keyed API.
pub(crate) fn assets() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/widget.js", axum::routing::get(script))
        .route("/widget/demo", axum::routing::get(demo))
}

/// The widget a request names, checked against the page's `Origin`.
pub(crate) struct WidgetCaller(Widget);

impl FromRequestParts<AppState> for WidgetCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(WIDGET_KEY)
            .and_then(|value| value.to_str().ok())
            .ok_or(ServiceError::Unauthenticated("missing X-Widget-Key"))?;
        let origin = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|value| value.to_str().ok());
        let widget = state.service.visitors().widget_for_key(key, origin).await?;
        if let Some(accepted) = parts.extensions.get::<OriginAccepted>() {
            accepted.mark();
        }
        Ok(Self(widget))
    }
}

/// Put in each request by the widget's CORS middleware; marked once the request's own widget
/// has accepted its `Origin`, so the answer (whatever its status) may name that origin.
#[derive(Debug, Clone, Default)]
struct OriginAccepted(Arc<AtomicBool>);

impl OriginAccepted {
    fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_marked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A visitor, from the widget and `Authorization: Bearer <visitor token>`.
pub(crate) struct VisitorCaller(Visitor);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

impl FromRequestParts<AppState> for VisitorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let WidgetCaller(widget) = WidgetCaller::from_request_parts(parts, state).await?;
        let token =
            bearer(&parts.headers).ok_or(ServiceError::Unauthenticated("missing visitor token"))?;
        Ok(Self(
            state.service.visitors().visitor(&widget, token).await?,
        ))
    }
}

/// CORS for `/widget/*`: a preflight is answered for origins some active widget allows (it
/// carries no key); the request itself is then checked against its own widget's origins, and
/// its answer names the origin only when that widget accepted it: an unknown key, a missing
/// one, or a refused origin gets no `Access-Control-Allow-Origin`, whatever the status.
pub(crate) async fn cors(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if request.method() == Method::OPTIONS {
        let Some(origin) = origin else {
            return StatusCode::NO_CONTENT.into_response();
        };
        let allowed = match origin.to_str() {
            Ok(text) => state
                .service
                .visitors()
                .any_widget_allows(text)
                .await
                .unwrap_or(false),
            Err(_) => false,
        };
        if !allowed {
            return ApiError::from(ServiceError::Forbidden(
                "this origin may not use the widget",
            ))
            .into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization, x-widget-key, idempotency-key"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let accepted = OriginAccepted::default();
    request.extensions_mut().insert(accepted.clone());
    let mut response = next.run(request).await;
    if let Some(origin) = origin
        && accepted.is_marked()
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-request-id"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// What the widget needs to draw itself.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WidgetConfig {
    name: String,
    settings: WidgetSettings,
    /// The site must pass an identity hash.
    identity_required: bool,
    /// Whether an agent is online now.
    agents_online: bool,
}

/// The widget's appearance and whether an agent is online.
///
/// What widget.js needs to draw itself. Writes nothing. An unknown key is 404, an inactive widget
/// or a page on an origin the widget does not allow 403.
#[utoipa::path(get, path = "/widget/config", operation_id = "widget_config", tag = "widget", security(("widget_key" = [])),
    responses(
        (status = 200, description = "How to draw the widget", body = WidgetConfig),
        (status = 403, description = "Inactive widget, or a page on another origin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn config(
    State(state): State<AppState>,
    WidgetCaller(widget): WidgetCaller,
) -> axum::Json<WidgetConfig> {
    axum::Json(WidgetConfig {
        name: widget.name,
        settings: widget.settings,
        identity_required: widget.enforce_identity,
        agents_online: state.realtime.hub.staff_online(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FaqSearch {
    /// Words that must all appear (accents and case ignored).
    q: Option<String>,
}

/// Published FAQs, searched.
///
/// `q`: every word must appear, ignoring case and accents. Writes nothing.
#[utoipa::path(get, path = "/widget/faqs", operation_id = "widget_faqs", tag = "widget", security(("widget_key" = [])), params(FaqSearch),
    responses((status = 200, description = "The published FAQs that match", body = List<Faq>)))]
async fn faqs(
    State(state): State<AppState>,
    WidgetCaller(_widget): WidgetCaller,
    ApiQuery(search): ApiQuery<FaqSearch>,
) -> Result<axum::Json<List<Faq>>, ApiError> {
    Ok(axum::Json(List::whole(
        state.service.visitors().faqs(search.q.as_deref()).await?,
    )))
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

async fn script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
}

#[derive(Debug, Deserialize)]
struct DemoQuery {
    key: Option<String>,
}

/// A page that embeds the widget whose key is in `?key=`.
async fn demo(ApiQuery(query): ApiQuery<DemoQuery>) -> Result<Html<String>, ApiError> {
    let key = query.key.unwrap_or_default();
    let safe = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !safe {
        return Err(ApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            detail: "pass a widget key as ?key=".to_owned(),
        });
    }
    Ok(Html(DEMO_HTML.replace("{{KEY}}", &key)))
}
