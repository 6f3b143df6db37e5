//! `GET /api/ws`: the realtime socket for signed-in users.

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use growdesk_realtime::session::Audience;
use growdesk_realtime::{Registration, RegistrationRefused, session};
use growdesk_service::ServiceError;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, ClientIp};
use crate::state::AppState;

/// Largest frame or message a client may send (OWASP's WebSocket guidance).
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Each socket's read and write buffers. tungstenite's default of 128 KiB each made an idle
/// connection cost about 140 KiB; chat frames are small, and the buffers grow for a big one.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;
/// The subprotocol a browser names to carry its token: `Sec-WebSocket-Protocol: bearer, <token>`.
const BEARER_PROTOCOL: &str = "bearer";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(websocket))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SocketQuery {
    /// The access token, for clients that cannot set headers (browsers); or send it as the
    /// second `Sec-WebSocket-Protocol` value after `bearer`.
    access_token: Option<String>,
    /// The last event id the client saw: everything after it is sent first, in order, once.
    last_event_id: Option<i64>,
}

/// The token from the query, or from `Sec-WebSocket-Protocol: bearer, <token>`.
fn token<'a>(query: &'a SocketQuery, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(token) = query.access_token.as_deref() {
        return Some(token);
    }
    let protocols = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    let mut values = protocols.split(',').map(str::trim);
    values.find(|value| value.eq_ignore_ascii_case(BEARER_PROTOCOL))?;
    values.next()
}

/// Whether a browser page from `origin` may open the socket: one of the configured origins,
/// or the server's own. Clients that send no `Origin` are not browsers, and CSWSH needs one.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    if allowed
        .iter()
        .any(|allowed| allowed == "*" || allowed == origin)
    {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    host.is_some_and(|host| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            == Some(host)
    })
}

/// Open the realtime socket.
///
/// Live ticket events, chat, typing and presence. Authenticated before the upgrade (401), `Origin`
/// checked (403), connections capped per user and address (429). Frames are JSON; see the
/// `ServerFrame` and `ClientFrame` schemas.
#[utoipa::path(get, path = "/api/ws", tag = "realtime", params(SocketQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request, or a query parameter that does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Origin not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many open sockets", body = Problem, content_type = "application/problem+json"),
    ))]
async fn websocket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(query): ApiQuery<SocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !origin_allowed(&headers, &state.realtime.allowed_origins) {
        return Err(ServiceError::Forbidden("this origin may not open the socket").into());
    }
    let token =
        token(&query, &headers).ok_or(ServiceError::Unauthenticated("missing access token"))?;
    let principal = state.service.sessions().authenticate(token).await?;
    let staff = growdesk_service::policy::sees_internal(&principal);
    let registration = state
        .realtime
        .hub
        .register(principal.user.id, principal.session_id, ip, staff)
        .map_err(refusal)?;
    let protocol =
        headers.get(header::SEC_WEBSOCKET_PROTOCOL).is_some() && query.access_token.is_none();
    Ok(open(
        &state,
        upgrade,
        protocol,
        Audience::User(principal),
        registration,
        query.last_event_id,
    ))
}

/// Why the hub refused a socket, as an answer.
pub(crate) fn refusal(refused: RegistrationRefused) -> ApiError {
    match refused {
        RegistrationRefused::ShuttingDown => ApiError::Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            detail: refused.to_string(),
        },
        _ => ServiceError::RateLimited {
            retry_after: std::time::Duration::from_secs(30),
        }
        .into(),
    }
}

/// Upgrades to a socket session for `audience`, with the frame limits; `bearer_protocol` echoes
/// the subprotocol a browser named its token with.
pub(crate) fn open(
    state: &AppState,
    upgrade: WebSocketUpgrade,
    bearer_protocol: bool,
    audience: Audience,
    registration: Registration,
    last_event_id: Option<i64>,
) -> Response {
    let mut upgrade = upgrade
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES);
    if bearer_protocol {
        upgrade.set_selected_protocol(HeaderValue::from_static(BEARER_PROTOCOL));
    }
    let hub = state.realtime.hub.clone();
    let settings = state.realtime.session;
    let service = state.service.clone();
    upgrade.on_upgrade(move |socket| async move {
        hub.track(session::run(
            socket,
            service,
            audience,
            registration,
            last_event_id,
            settings,
        ));
    })
}
