//! Middleware of our own: problem+json for every error the framework answers by itself, and
//! the request's tracing span.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer as _, ServiceExt as _};

use crate::REQUEST_ID;
use crate::error::{PROBLEM_JSON, bare_problem, problem_response};
use crate::extract::ClientIp;
use crate::metrics::method_label;

/// Turns any error response without a problem body (unknown route, wrong method, timeout, an
/// oversized body caught outside an extractor, a rejection of axum's own extractors) into
/// problem+json, keeping its status and its headers (`Allow`, CORS, `Retry-After`).
pub(crate) async fn problem_for_bare_errors(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = problem_response(&bare_problem(status, bare_detail(status)), None);
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(problem_parts.headers);
    Response::from_parts(parts, body)
}

/// What a status the framework answered by itself means for the client.
pub(crate) fn bare_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "the request is malformed",
        StatusCode::NOT_FOUND => "no such route",
        StatusCode::METHOD_NOT_ALLOWED => "this route does not accept that method",
        StatusCode::REQUEST_TIMEOUT => "the request took too long",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::URI_TOO_LONG => "the request target is too long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "this route does not accept that content type",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request head is too large",
        _ => status.canonical_reason().unwrap_or("error"),
    }
}

/// The 500 answer for a handler that panicked; the panic itself is logged by the layer.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    let mut response = problem_response(
        &bare_problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error occurred",
        ),
        None,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The most body bytes a request may send, chosen by its content type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Any body but a form upload (JSON, in practice).
    pub(crate) json: usize,
    /// `multipart/form-data`: the files plus everything a JSON body could carry, which covers
    /// the text fields and the parts' headers.
    pub(crate) multipart: usize,
}

impl BodyLimits {
    pub(crate) fn new(max_body_bytes: usize, attachment_max_bytes: usize) -> Self {
        Self {
            json: max_body_bytes,
            multipart: attachment_max_bytes.saturating_add(max_body_bytes),
        }
    }

    fn for_request<B>(&self, request: &Request<B>) -> usize {
        let is_form_upload = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"));
        if is_form_upload {
            self.multipart
        } else {
            self.json
        }
    }
}

/// Limits the body by content type, so an attachment upload may be as large as the attachment
/// limit while a JSON body keeps its own. A body over its limit fails as it is read, which the
/// extractors answer with 413.
pub(crate) async fn limit_body(
    State(limits): State<BodyLimits>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let limit = limits.for_request(&request);
    DefaultBodyLimit::max(limit)
        .layer(next)
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {})
}

/// Longest prefix of a client-controlled value (path, request id) a log line carries: enough to
/// recognise it, never enough for a client to fill the logs.
const LOGGED_PREFIX_BYTES: usize = 128;

/// `text` cut to at most `max` bytes on a character boundary, marked when it was cut.
pub(crate) fn bounded_prefix(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(0);
    format!("{}…", &text[..end]).into()
}

/// The span every request's log lines belong to. The method is logged as its metric label and
/// every other client-controlled value as a bounded prefix.
pub(crate) fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map(|ClientIp(address)| tracing::field::display(*address));
    tracing::info_span!(
        "request",
        method = method_label(request.method()),
        path = %bounded_prefix(request.uri().path(), LOGGED_PREFIX_BYTES),
        request_id = %bounded_prefix(request_id, LOGGED_PREFIX_BYTES),
        client,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_values_are_cut_on_a_character_boundary() {
        assert_eq!(bounded_prefix("/api/tickets", 128), "/api/tickets");
        assert_eq!(bounded_prefix("abcdef", 4), "abcd…");
        // "é" is two bytes: three bytes allow one of them, not half of the second.
        assert_eq!(bounded_prefix("ééé", 3), "é…");
        let huge = "x".repeat(64 * 1024);
        assert!(bounded_prefix(&huge, LOGGED_PREFIX_BYTES).len() <= LOGGED_PREFIX_BYTES + 3);
    }
}
