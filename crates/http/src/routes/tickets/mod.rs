//! `/api/tickets`: tickets, their messages and event log, the dashboard's counts, and
//! `/api/attachments/{id}` downloads.

mod deliveries;
mod messages;
mod queue;
mod ticket;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use growdesk_domain::{Ticket, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(queue::router())
        .merge(ticket::router())
        .merge(messages::router())
        .merge(deliveries::router())
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get(IDEMPOTENCY_KEY)
        .map(|value| {
            value.to_str().map_err(|_| {
                ValidationErrors::single("Idempotency-Key", "must be visible ASCII").into()
            })
        })
        .transpose()
}

/// The version an `If-Match` header names: `"7"` (or `W/"7"`); `*` or no header pins nothing.
/// Anything else is refused rather than guessed at: the server's ETags are 1 to 18 digits in
/// quotes, so `7`, `""7""` or `W/W/"7"` name no version it sent.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let opaque = text.strip_prefix("W/").unwrap_or(text);
    opaque
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|digits| (1..=18).contains(&digits.len()))
        .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            detail: "If-Match must be an ETag this server sent".to_owned(),
        })
}

/// A ticket with its `ETag`.
fn with_etag(status: StatusCode, ticket: Ticket) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", ticket.version)).ok();
    let mut response = (status, axum::Json(ticket)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<i64>,
    pub(crate) cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_etags() {
        let mut headers = HeaderMap::new();
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"7\""));
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"8\""));
        assert_eq!(if_match(&headers).unwrap(), Some(8));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), None);
        for bad in [
            "\"abc\"",
            "7",
            "\"\"7\"\"",
            "W/W/\"7\"",
            "\"-7\"",
            "\"+7\"",
            "\"\"",
        ] {
            headers.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert!(if_match(&headers).is_err(), "{bad}");
        }
    }
}
