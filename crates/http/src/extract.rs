//! Extractors whose rejections are problem+json, and the authenticated caller.

use std::net::IpAddr;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use growdesk_domain::ValidationErrors;
use growdesk_service::{Principal, ServiceError};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// `axum::Json` with problem+json rejections; a missing or unknown field is a 422 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => match field_named_in(&detail) {
            Some(field) => ValidationErrors::single(&field, serde_reason(&detail)).into(),
            None => ApiError::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail,
            },
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            detail: "expected a request body with Content-Type: application/json".to_owned(),
        },
        other => ApiError::Refused {
            status: other.status(),
            detail,
        },
    }
}

/// The field serde complained about: "missing field `email`", "unknown field `role`", or the
/// path prefix "name: invalid type" of a nested error.
fn field_named_in(detail: &str) -> Option<String> {
    let message = detail.split_once(": ").map_or(detail, |(_, rest)| rest);
    if let Some(start) = message.find("field `") {
        let rest = &message[start + 7..];
        return rest.find('`').map(|end| rest[..end].to_owned());
    }
    let (path, _) = message.split_once(": ")?;
    (!path.is_empty() && !path.contains(' ')).then(|| path.to_owned())
}

/// serde's reason without the "Failed to deserialize…" preamble or position suffix.
fn serde_reason(detail: &str) -> String {
    let message = detail.split_once(": ").map_or(detail, |(_, rest)| rest);
    let message = message.split(" at line ").next().unwrap_or(message);
    let message = message
        .split_once(": ")
        .filter(|(path, _)| !path.contains(' '))
        .map_or(message, |(_, reason)| reason);
    message.to_owned()
}

/// `axum::extract::Query` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| ApiError::Refused {
                status: StatusCode::BAD_REQUEST,
                detail: rejection.body_text(),
            })
    }
}

/// `axum::extract::Path`; an id that does not parse names nothing that exists, so it is a 404.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_: PathRejection| ApiError::Service(ServiceError::NotFound("resource")))
    }
}

/// The signed-in caller, from `Authorization: Bearer <access token>`.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(ServiceError::Unauthenticated("missing bearer token"))?;
        Ok(Self(state.service.authenticate(token).await?))
    }
}

/// The client's address, for per-address limits and logs: the peer's, or the one a trusted
/// proxy forwards for. The accept loop puts it in every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .copied()
            .ok_or_else(|| ApiError::Service(ServiceError::Internal("no client address".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        let missing = "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 2";
        assert_eq!(field_named_in(missing).as_deref(), Some("email"));
        assert_eq!(serde_reason(missing), "missing field `email`");
        let unknown = "Failed to deserialize the JSON body into the target type: unknown field `role`, expected `name` at line 1 column 7";
        assert_eq!(field_named_in(unknown).as_deref(), Some("role"));
        let typed = "Failed to deserialize the JSON body into the target type: name: invalid type: integer `3`, expected a string at line 1 column 10";
        assert_eq!(field_named_in(typed).as_deref(), Some("name"));
        assert_eq!(
            serde_reason(typed),
            "invalid type: integer `3`, expected a string"
        );
        let top = "Failed to deserialize the JSON body into the target type: invalid type: sequence, expected struct X at line 1 column 1";
        assert_eq!(field_named_in(top), None);
    }
}
