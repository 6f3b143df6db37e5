//! `ApiError` and the RFC 9457 problem+json body every error response carries.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use growdesk_domain::{FieldError, ValidationErrors};
use growdesk_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// For validation problems: each rejected field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can answer instead of success. Each variant has one status.
#[derive(Debug)]
pub enum ApiError {
    /// A refusal or failure from the service layer.
    Service(ServiceError),
    /// A refusal decided by the HTTP layer itself: a request it cannot read (bad JSON, wrong
    /// content type, bad query string, an oversized body), or a server that is stopping.
    Refused { status: StatusCode, detail: String },
    /// No such route.
    NoRoute,
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self::Service(error)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Service(ServiceError::Validation(errors))
    }
}

/// A problem for a status alone, for responses the framework produced without a body.
pub fn bare_problem(status: StatusCode, detail: impl Into<String>) -> Problem {
    Problem {
        kind: "about:blank".to_owned(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        errors: Vec::new(),
    }
}

fn typed_problem(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> Problem {
    Problem {
        kind: format!("urn:growdesk:problem:{code}"),
        errors,
        ..bare_problem(status, detail)
    }
}

impl ApiError {
    fn into_problem(self) -> (Problem, Option<Duration>) {
        let error = match self {
            ApiError::Service(error) => error,
            ApiError::Refused { status, detail } => {
                return (
                    typed_problem(status, "bad-request", detail, Vec::new()),
                    None,
                );
            }
            ApiError::NoRoute => {
                let problem = typed_problem(
                    StatusCode::NOT_FOUND,
                    "no-route",
                    "no such route".to_owned(),
                    Vec::new(),
                );
                return (problem, None);
            }
        };
        let code = error.code();
        let status = match &error {
            ServiceError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::InvalidLink => StatusCode::BAD_REQUEST,
            ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let (detail, fields, retry_after) = match error {
            ServiceError::Validation(errors) => {
                (errors.to_string(), errors.fields().to_vec(), None)
            }
            ServiceError::RateLimited { retry_after } => (
                "too many attempts; try again later".to_owned(),
                Vec::new(),
                Some(retry_after),
            ),
            ServiceError::Unavailable(cause) => {
                // The driver's own words are what an operator needs to find the cause.
                let chain: Vec<String> =
                    std::iter::successors(Some(&cause as &dyn std::error::Error), |error| {
                        error.source()
                    })
                    .map(ToString::to_string)
                    .collect();
                tracing::warn!(error = %chain.join(": "), "database unavailable");
                let detail = "the service is temporarily unavailable".to_owned();
                (detail, Vec::new(), Some(Duration::from_secs(5)))
            }
            ServiceError::Internal(cause) => {
                // The cause goes to the log, inside the request's span; the client gets nothing
                // that could leak SQL, paths or secrets.
                tracing::error!(error = %cause, source = ?cause.source(), "internal error");
                ("an internal error occurred".to_owned(), Vec::new(), None)
            }
            other => (other.to_string(), Vec::new(), None),
        };
        (typed_problem(status, code, detail, fields), retry_after)
    }
}

/// Renders a problem as a response with the right status and media type.
pub fn problem_response(problem: &Problem, retry_after: Option<Duration>) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"growdesk\""),
        );
    }
    if let Some(wait) = retry_after {
        // Round up: a client waiting the advertised time must not be refused again.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (problem, retry_after) = self.into_problem();
        problem_response(&problem, retry_after)
    }
}
