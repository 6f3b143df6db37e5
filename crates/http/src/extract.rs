//! Extractors whose rejections are problem+json, and the authenticated caller.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use growdesk_domain::ValidationErrors;
use growdesk_service::{Principal, ServiceError};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::json_fields::{self, Document};
use crate::state::AppState;

/// `axum::Json` with problem+json rejections; a body that does not fit `T` is a 422 naming the
/// field, as `T`'s deserialisation names it (see `json_fields`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::Refused {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail: "expected a request body with Content-Type: application/json".to_owned(),
            });
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::Refused {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        match axum::Json::<T>::from_bytes(&body) {
            // Every request body is an object; serde would also read a struct from an array of
            // its fields in order, so `[null, null]` could pass as an all-optional change.
            Ok(_) if body.trim_ascii_start().first() != Some(&b'{') => Err(ApiError::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: "Failed to deserialize the JSON body into the target type: \
                         the body must be a JSON object"
                    .to_owned(),
            }),
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(rejection)) => Err(misfit_refusal::<T>(
                &body,
                rejection.status(),
                rejection.body_text(),
            )),
            Err(rejection) => Err(ApiError::Refused {
                status: rejection.status(),
                detail: rejection.body_text(),
            }),
        }
    }
}

/// Whether the request says its body is JSON, as `axum::Json` decides it: `application/json`
/// or any `application/*+json`.
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|name| name == "json"))
        })
}

/// A body that is JSON but not a `T`: read again as a document to learn the field `T` refused,
/// a validation error naming it. The body as a whole (an array where an object belongs), or
/// one too deeply nested to read as a document, keeps serde's refusal.
fn misfit_refusal<T: DeserializeOwned>(
    body: &[u8],
    status: StatusCode,
    detail: String,
) -> ApiError {
    let misfit = serde_json::from_slice::<Document>(body)
        .ok()
        .and_then(|document| json_fields::read::<T>(document).err());
    match misfit
        .as_ref()
        .and_then(|misfit| Some((misfit.field()?, misfit.reason())))
    {
        Some((field, reason)) => ValidationErrors::single(&field, reason).into(),
        None => ApiError::Refused { status, detail },
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
