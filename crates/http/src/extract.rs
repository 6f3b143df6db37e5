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
use crate::json_fields::{self, Document, Misfit};
use crate::state::AppState;

/// `axum::Json` with problem+json rejections; a body that does not fit `T` is a 422 naming the
/// field, as `T`'s deserialisation names it (see `json_fields`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(document) = axum::Json::<Document>::from_request(request, state)
            .await
            .map_err(json_rejection)?;
        json_fields::read(document)
            .map(Self)
            .map_err(misfit_refusal)
    }
}

/// A body that is JSON but not a `T`: a validation error naming the field, or, for the body as
/// a whole (an array where an object belongs), a 422 saying so.
fn misfit_refusal(misfit: Misfit) -> ApiError {
    match misfit.field() {
        Some(field) => ValidationErrors::single(&field, misfit.reason()).into(),
        None => ApiError::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: format!(
                "Failed to deserialize the JSON body into the target type: {}",
                misfit.reason()
            ),
        },
    }
}

/// A body that is not JSON at all, or not sent as JSON.
fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            detail: "expected a request body with Content-Type: application/json".to_owned(),
        },
        other => ApiError::Refused {
            status: other.status(),
            detail: other.body_text(),
        },
    }
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
        Ok(Self(state.service.sessions().authenticate(token).await?))
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
