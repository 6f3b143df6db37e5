//! The HTTP layer: the axum router, handlers, extractors, middleware, problem+json errors and
//! the OpenAPI document. No SQL here: handlers call the service layer and map its errors once.

mod client_address;
pub mod error;
mod extract;
mod json_fields;
pub mod metrics;
mod middleware;
pub mod openapi;
mod refusals;
mod routes;
mod schemas;
mod serve;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

pub use serve::{ServeOptions, serve};
pub use state::{AppState, Realtime};

/// Limits and policies the router applies to every request.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// Largest body of any request but a `multipart/form-data` upload.
    pub max_body_bytes: usize,
    /// Most bytes of files on one message; an upload may add `max_body_bytes` for its fields.
    pub attachment_max_bytes: usize,
    pub request_timeout: Duration,
    /// Browser origins allowed to call the API; `*` allows any (credentials are never allowed:
    /// the API authenticates with bearer tokens, not cookies).
    pub cors_origins: Vec<String>,
}

/// A configured CORS origin that cannot be a header value.
#[derive(Debug, thiserror::Error)]
#[error("invalid CORS origin {0:?}")]
pub struct InvalidCorsOrigin(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: documented routes, the docs page, and the middleware stack.
///
/// # Errors
/// A CORS origin that is not a valid header value.
pub fn router(state: AppState, options: &RouterOptions) -> Result<Router, InvalidCorsOrigin> {
    let (api, widget, document) = openapi::documented_routes();
    let cors = cors_layer(&options.cors_origins)?;
    let metrics = axum::middleware::from_fn_with_state(state.clone(), metrics::track);
    let widget_cors = axum::middleware::from_fn_with_state(state.clone(), routes::widget::cors);
    let router = api
        .layer(tower::util::option_layer(cors))
        .merge(widget.layer(widget_cors))
        .merge(routes::widget::assets())
        .merge(routes::console::router())
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", document))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(metrics)
        .with_state(state);
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(
            middleware::problem_for_bare_errors,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            middleware::BodyLimits::new(options.max_body_bytes, options.attachment_max_bytes),
            middleware::limit_body,
        ));
    Ok(router.layer(middleware))
}

fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, InvalidCorsOrigin> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin).map_err(|_| InvalidCorsOrigin(origin.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
                REQUEST_ID,
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                header::LOCATION,
                REQUEST_ID,
            ])
            .max_age(Duration::from_secs(600)),
    ))
}

/// A fresh metrics registry for a new app.
pub fn new_metrics() -> Arc<metrics::Metrics> {
    Arc::new(metrics::Metrics::default())
}
