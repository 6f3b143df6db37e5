//! `ServiceError`: the outcomes of a use case that are not success, in the API's vocabulary.

use std::time::Duration;

use growdesk_domain::ValidationErrors;
use growdesk_store::StoreError;

/// Why a use case refused or failed. The HTTP layer maps each variant to one status, once.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One or more request fields were rejected (422).
    #[error("{0}")]
    Validation(ValidationErrors),
    /// No valid credentials or token (401). The message never says which part was wrong.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Signed in, but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Missing, or not visible to the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request contradicts the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The resource changed since the version the client sent in `If-Match` (412).
    #[error("the resource has changed; fetch it again and retry")]
    PreconditionFailed,
    /// An upload is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// A link sent by mail (password reset, unsubscribe) that is forged, altered, already used
    /// or expired (400). One message for all of them: it never says which.
    #[error("the link is invalid or has expired")]
    InvalidLink,
    /// Too many attempts; try again after the given time (429).
    #[error("too many attempts")]
    RateLimited { retry_after: Duration },
    /// The database cannot be reached (503).
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    /// A bug or an unexpected state (500); the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// A stable machine-readable name of the kind of error (`not-found`, `validation`, …),
    /// the same in problem+json `type`s and WebSocket error frames.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed => "stale",
            Self::TooLarge(_) => "too-large",
            Self::InvalidLink => "invalid-link",
            Self::RateLimited { .. } => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::Unavailable(error),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

/// A blocking task (password hashing) that panicked or was cancelled.
impl From<tokio::task::JoinError> for ServiceError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(Box::new(error))
    }
}
