//! `/api/auth/*`: registration, sign-in, token refresh, sign-out and the caller's own account.

mod cookie;
mod password_reset;

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use growdesk_domain::User;
use growdesk_service::accounts::{ProfileChanges, Registration, SignedIn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller, ClientIp};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .merge(password_reset::router())
}

/// A customer's sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    #[schema(schema_with = schemas::email)]
    email: String,
    #[schema(schema_with = schemas::password)]
    password: String,
    /// Defaults to the part of the email before `@`.
    #[schema(schema_with = schemas::person_name_or_null)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    #[schema(schema_with = schemas::email)]
    email: String,
    /// No stored password is longer than 1024 characters.
    #[schema(max_length = 1024)]
    password: String,
    /// For browsers: `true` sets the refresh token in an `HttpOnly; SameSite=Strict` cookie
    /// sent only to `/api/auth/refresh` (`Secure` unless the server is addressed as localhost),
    /// and answers `refresh_token: null`, so no script can read it.
    #[serde(default)]
    cookie: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// Absent (or null) to refresh by the cookie sign-in set, with `X-GrowDesk-CSRF`.
    refresh_token: Option<String>,
}

/// Changes to the caller's own account. Changing the password needs `current_password` and
/// signs out every other session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateMeRequest {
    #[schema(schema_with = schemas::person_name_or_null)]
    name: Option<String>,
    /// Staff only: be notified of every new ticket.
    notify_new_tickets: Option<bool>,
    #[schema(schema_with = schemas::password_or_null)]
    password: Option<String>,
    current_password: Option<String>,
}

/// A fresh token pair.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// A JWT for `Authorization: Bearer`; lives `expires_in` seconds.
    access_token: String,
    /// Opaque; exchange it at `/api/auth/refresh`. Each one works once. `null` when it was
    /// set in the refresh cookie instead.
    #[schema(required = true)]
    refresh_token: Option<String>,
    /// Always `Bearer`.
    token_type: &'static str,
    expires_in: u64,
    user: User,
}

impl From<SignedIn> for TokenResponse {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_token: signed_in.access_token,
            refresh_token: Some(signed_in.refresh_token),
            token_type: "Bearer",
            expires_in: signed_in.expires_in,
            user: signed_in.user,
        }
    }
}

/// Sign up as a customer and get a token pair.
///
/// Creates a customer account (only when GROWDESK_ALLOW_REGISTRATION is on, 403 otherwise) and
/// signs it in. The email is trimmed, NFKC-normalised and lower-cased; an address already in use is
/// 409. The password is 8 to 1024 characters. Limited per client address (429 with Retry-After).
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body(content = RegisterRequest,
        example = json!({"email": "cy@example.com", "password": "a-long-passphrase", "name": "Cy"})),
    responses(
        (status = 201, description = "Registered and signed in", body = TokenResponse),
        (status = 403, description = "Registration is switched off", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, axum::Json<TokenResponse>), ApiError> {
    let registration = Registration {
        email: body.email,
        password: body.password,
        name: body.name,
    };
    let signed_in = state.service.sessions().register(registration, ip).await?;
    Ok((StatusCode::CREATED, axum::Json(signed_in.into())))
}

/// Sign in with email and password.
///
/// Answers an access token (an HS256 JWT that lives 15 minutes) and a refresh token. An unknown
/// email, a wrong password and a deactivated account get the same 401. Limited per client address
/// and per account (429 with Retry-After). With `cookie: true` (browsers) the refresh token is set
/// in the `growdesk_refresh` cookie (`HttpOnly; SameSite=Strict; Path=/api/auth/refresh`, and
/// `Secure` unless the request's `Host` is localhost or a loopback address) and answered as `null`.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body(content = LoginRequest,
        example = json!({"email": "ana@example.com", "password": "a-long-passphrase"})),
    responses(
        (status = 200, description = "Signed in; with `cookie: true`, `Set-Cookie` holds the refresh token", body = TokenResponse, headers(("Set-Cookie" = String, description = "With `cookie: true` only")), example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbmEifQ.c2lnbmF0dXJl", "refresh_token": "Qm9vdHN0cmFwIHJlZnJlc2ggdG9rZW4", "token_type": "Bearer", "expires_in": 900, "user": {"id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "email": "ana@example.com", "name": "Ana", "role": "agent", "active": true, "notify_new_tickets": true, "created_at": "2026-03-01T08:00:00Z", "updated_at": "2026-03-01T08:00:00Z"}})),
        (status = 401, description = "Wrong email or password (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state
        .service
        .sessions()
        .login(&body.email, &body.password, ip)
        .await?;
    Ok(token_answer(&headers, signed_in, body.cookie))
}

/// The token pair as JSON, or, for a browser session, the refresh token in its cookie.
fn token_answer(headers: &HeaderMap, signed_in: SignedIn, in_cookie: bool) -> Response {
    if !in_cookie {
        return axum::Json(TokenResponse::from(signed_in)).into_response();
    }
    let set = cookie::set(headers, &signed_in.refresh_token);
    let mut answer = TokenResponse::from(signed_in);
    answer.refresh_token = None;
    ([(SET_COOKIE, set)], axum::Json(answer)).into_response()
}

/// Exchange a refresh token for a new pair.
///
/// A refresh token works once; presenting a spent one ends its whole session. A second exchange
/// within GROWDESK_REFRESH_REUSE_GRACE_SECS of the one that spent it is a concurrent duplicate
/// (several tabs): 409, and the session lives on.
///
/// A browser signed in with `cookie: true` sends `{}` instead: the token comes from the
/// `growdesk_refresh` cookie and the new one goes back there (`refresh_token: null`). Such a
/// refresh needs the header `X-GrowDesk-CSRF` (any value) and, when the browser sends `Origin` or
/// `Sec-Fetch-Site`, this server's own origin: otherwise 403. A token in the body is used as it is,
/// whatever the cookie holds.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = RefreshRequest,
        example = json!({"refresh_token": "Qm9vdHN0cmFwIHJlZnJlc2ggdG9rZW4"})),
    params(("X-GrowDesk-CSRF" = Option<String>, Header, description = "Required to refresh by cookie")),
    responses(
        (status = 200, description = "A new token pair; refreshed by cookie, `Set-Cookie` holds the new refresh token", body = TokenResponse, headers(("Set-Cookie" = String, description = "When refreshed by cookie"))),
        (status = 401, description = "Unknown, spent, expired or revoked refresh token, or none in the body or cookie", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A refresh by cookie without `X-GrowDesk-CSRF` or from another origin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Exchanged a moment ago by a concurrent request (within GROWDESK_REFRESH_REUSE_GRACE_SECS); the session is kept: use the tokens that request received", body = Problem, content_type = "application/problem+json"),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let in_cookie = body.refresh_token.is_none();
    let token = match body.refresh_token {
        Some(token) => token,
        None => cookie::token(&headers)?,
    };
    let signed_in = state.service.sessions().refresh(&token, ip).await?;
    Ok(token_answer(&headers, signed_in, in_cookie))
}

/// End the current session.
///
/// The session's access and refresh tokens stop working at once, on every instance; the caller's
/// other sessions are untouched. The answer also removes a browser's refresh cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out", headers(("Set-Cookie" = String, description = "Removes the refresh cookie"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn logout(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    state.service.sessions().logout(&caller).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, cookie::clear(&headers))],
    ))
}

/// The signed-in user.
///
/// The caller's own account, as the server knows it now (a role or name changed since the token was
/// issued shows here).
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn me(Caller(caller): Caller) -> axum::Json<User> {
    axum::Json(caller.user)
}

/// Change the caller's name or password.
///
/// A new password needs `current_password`; changing it ends every other session of the caller.
#[utoipa::path(patch, path = "/api/auth/me", tag = "auth", security(("bearer" = [])), request_body(content = UpdateMeRequest,
        example = json!({"password": "a-new-long-passphrase", "current_password": "a-long-passphrase"})),
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`notify_new_tickets` from a customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or wrong current password", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_me(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<axum::Json<User>, ApiError> {
    let changes = ProfileChanges {
        name: body.name,
        notify_new_tickets: body.notify_new_tickets,
        password: body.password,
        current_password: body.current_password,
    };
    Ok(axum::Json(
        state
            .service
            .accounts()
            .update_profile(&caller, changes)
            .await?,
    ))
}
