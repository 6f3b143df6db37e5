//! The public widget API (`/widget/*`), keyed by `X-Widget-Key`, for visitors on the sites that
//! embed the widget; and `/widget.js`, `/widget/demo` and `/widget/preview`.

mod conversation;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use growdesk_domain::{Faq, ValidationErrors, Widget, WidgetSettings};
use growdesk_service::ServiceError;
use growdesk_service::widgets::Visitor;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::routes::List;
use crate::state::AppState;

const WIDGET_KEY: &str = "x-widget-key";
const WIDGET_JS: &str = include_str!("../../../assets/widget.js");
const DEMO_HTML: &str = include_str!("../../../assets/demo.html");
const PREVIEW_HTML: &str = include_str!("../../../assets/preview.html");
/// The preview draws the widget from the settings in its own page and fetches nothing: no
/// connection, no form submission, no framing but by the console, and a sandbox (an opaque
/// origin, no storage, no cookies) even when opened outside the console's sandboxed frame.
const PREVIEW_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-scripts";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(faqs))
        .merge(conversation::router())
}
/// The static widget files, outside the keyed API.
pub(crate) fn assets() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/widget.js", axum::routing::get(script))
        .route("/widget/demo", axum::routing::get(demo))
        .route("/widget/preview", axum::routing::get(preview))
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
    /// The colour of text on `settings.color`: `#000000` or `#ffffff`, whichever contrasts more
    /// (at least 4.5:1 for any colour).
    text_color: &'static str,
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
        text_color: widget.settings.text_color(),
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

/// The appearance to preview; each field left out keeps its default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    brand_name: Option<String>,
    color: Option<String>,
    welcome_message: Option<String>,
    position: Option<String>,
    offline_message: Option<String>,
}

/// The widget as a visitor would see it with the appearance in the query, opened, drawn by
/// widget.js itself from the page (the console's widget editor shows it in a sandboxed frame as
/// the admin types). Settings a widget could not be saved with are refused as they would be.
async fn preview(ApiQuery(query): ApiQuery<PreviewQuery>) -> Result<Response, ApiError> {
    let defaults = WidgetSettings::default();
    let settings = WidgetSettings {
        brand_name: query.brand_name.unwrap_or(defaults.brand_name),
        color: query.color.unwrap_or(defaults.color),
        welcome_message: query.welcome_message.unwrap_or(defaults.welcome_message),
        position: query.position.unwrap_or(defaults.position),
        offline_message: query.offline_message.unwrap_or(defaults.offline_message),
    };
    let mut errors = ValidationErrors::default();
    settings.validate(&mut errors);
    errors.into_result(|| ())?;
    let config = WidgetConfig {
        name: settings.brand_name.clone(),
        text_color: settings.text_color(),
        settings,
        identity_required: false,
        agents_online: false,
    };
    let json = serde_json::to_string(&config).map_err(|error| ApiError::Refused {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        detail: format!("the preview could not be written: {error}"),
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, PREVIEW_POLICY),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PREVIEW_HTML.replace("{{CONFIG}}", &attribute(&json)),
    )
        .into_response())
}

/// `text` made safe inside a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::attribute;

    #[test]
    fn attributes_cannot_be_left() {
        assert_eq!(
            attribute(r#"{"a":"\"><script>x</script>&'"}"#),
            "{&quot;a&quot;:&quot;\\&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;&quot;}"
        );
    }
}
