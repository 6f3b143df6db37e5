//! The agent console: the single-page app built from `console/` into `console-dist/` and
//! embedded in the binary. Its routes answer with `index.html` (never cached, so a new release
//! is picked up at once); its assets are named by their content hash and cached for a year. Every
//! answer carries a Content-Security-Policy that allows no inline script, no `eval` and no other
//! host, and no framing. Besides, the frame the email templates' preview draws a mail in.

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

/// The frame of the email templates' preview: an empty page whose script draws the HTML mail the
/// console posts to it. A `srcdoc` frame would inherit the console's policy, which refuses the
/// inline styles every HTML mail carries (and reports each refusal); this page has its own: the
/// mail's styles apply, nothing loads (images but `data:` ones show their alternative text), no
/// inline script or handler runs, and `sandbox` keeps it in an origin of its own even when opened
/// outside the console's sandboxed frame.
const MAIL_PREVIEW_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; \
     form-action 'none'; sandbox allow-scripts";

const MAIL_PREVIEW_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
     <title>Mail preview</title><script src=\"/email-preview.js\"></script></head><body></body></html>\n";

/// Parses the mail the console posts (`{ html, lang }`) with `DOMParser`, which never runs a script
/// it reads, and shows it as the frame's document, in the template's language when the mail names
/// none and with a title (for whoever reads frames by their titles).
const MAIL_PREVIEW_SCRIPT: &str = r#"addEventListener("message", function (event) {
  var mail = event.data;
  if (event.source !== window.parent || !mail || typeof mail.html !== "string" || typeof mail.lang !== "string") { return; }
  var parsed = new DOMParser().parseFromString(mail.html, "text/html");
  document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
  if (!document.documentElement.lang) { document.documentElement.lang = mail.lang; }
  if (!document.title) { document.title = "Mail preview"; }
});
"#;

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
        .route("/email-preview", get(mail_preview))
        .route("/email-preview.js", get(mail_preview_script))
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

fn mail_preview_answer(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, MAIL_PREVIEW_POLICY),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

async fn mail_preview() -> Response {
    mail_preview_answer("text/html; charset=utf-8", MAIL_PREVIEW_HTML)
}

async fn mail_preview_script() -> Response {
    mail_preview_answer("text/javascript; charset=utf-8", MAIL_PREVIEW_SCRIPT)
}
