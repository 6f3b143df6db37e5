//! The agent console: the single-page app built from `console/` into `console-dist/` and
//! embedded in the binary. Its routes answer with `index.html` (never cached, so a new release
//! is picked up at once); its assets are named by their content hash and cached for a year. Every
//! answer carries a Content-Security-Policy that allows no inline script, no `eval` and no other
//! host, and no framing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// Each built file as (path under `/`, bytes), from build.rs.
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/console_files.rs"));

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// The console's own paths (as its router names them) and its assets.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/sign-in", get(index))
        .route("/views", get(index))
        .route("/views/{*rest}", get(index))
        .route("/dashboard", get(index))
        .route("/profile", get(index))
        .route("/canned-replies", get(index))
        .route("/forgot-password", get(index))
        .route("/reset-password", get(index))
        .route("/admin/{page}", get(index))
        .route("/assets/{file}", get(asset))
}

fn file(path: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find_map(|(name, bytes)| (*name == path).then_some(*bytes))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn answer(path: &str, bytes: &'static [u8], cache: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn index() -> Response {
    match file("/index.html") {
        Some(bytes) => answer("/index.html", bytes, "no-cache"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn asset(Path(name): Path<String>) -> Response {
    let path = format!("/assets/{name}");
    match file(&path) {
        Some(bytes) => answer(&path, bytes, "public, max-age=31536000, immutable"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
