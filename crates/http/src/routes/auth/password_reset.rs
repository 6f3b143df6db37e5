//! "Forgot password": `POST /api/auth/password-reset` mails a single-use link, and
//! `POST /api/auth/password-reset/confirm` sets a new password with its token.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::schemas;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetRequest {
    /// The account's address.
    #[schema(schema_with = schemas::email)]
    email: String,
}

// No `Debug`: it carries a reset token and a password, which nothing may print.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetConfirmation {
    /// The `token` of the link the mail carried.
    #[schema(min_length = 1, max_length = 1024)]
    token: String,
    #[schema(schema_with = schemas::password)]
    password: String,
}

/// Ask for a password reset link.
///
/// When the address belongs to an active account, a mail with a link to
/// `/reset-password?token=…` goes to it; the link works once, for 30 minutes. The answer is the
/// same 202 whether or not the address has an account, so it tells nobody which addresses do.
/// Limited per address and per client address (429 with Retry-After).
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth",
    request_body(content = PasswordResetRequest, example = json!({"email": "cy@example.com"})),
    responses(
        (status = 202, description = "Taken: a link is mailed if the address has an account"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    ))]
async fn request_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .accounts()
        .request_password_reset(&body.email, ip)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset link's token.
///
/// The token works once and for 30 minutes; a used, expired or unknown one is 400. Every session
/// of the account ends: its refresh tokens stop working, and it signs in again with the new
/// password. Limited per client address (429 with Retry-After).
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth",
    request_body(content = PasswordResetConfirmation, example = json!({"token": "q3Jt0mVb8nWzY1xQ5cR7dE9fG2hK4lM6oP8sT0uV2wX", "password": "a-new-long-passphrase"})),
    responses(
        (status = 204, description = "The password is changed and every session ended"),
        (status = 400, description = "The link is invalid or has expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password is not acceptable", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn confirm_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PasswordResetConfirmation>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .accounts()
        .reset_password(&body.token, &body.password, ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
