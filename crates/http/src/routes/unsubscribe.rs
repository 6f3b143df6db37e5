//! `/api/unsubscribe`: the link in notification mail. `GET` shows a page that asks to confirm,
//! so a mail scanner following links unsubscribes nobody; `POST` (the page's button, or a mail
//! client's RFC 8058 one-click) unsubscribes.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use growdesk_service::email::templates::escape_html;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_page, unsubscribe))
}

/// The pages load nothing, run nothing and post only back here; the token in their address
/// must not leak to another site through `Referer`, nor the page be framed or kept.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UnsubscribeQuery {
    /// The signed token of the mail's unsubscribe link.
    #[param(min_length = 1, max_length = 1024)]
    token: String,
}

/// A minimal HTML page with the headers every unsubscribe page carries.
fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>\n"
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The unsubscribe link's page.
///
/// A page with one button that confirms (a `POST` to this same address), for a token this
/// server signed (400 otherwise): following the link changes nothing, so mail scanners that open links unsubscribe nobody. No scripts, no
/// external resources (a strict `Content-Security-Policy`).
#[utoipa::path(get, path = "/api/unsubscribe", tag = "email", params(UnsubscribeQuery),
    responses(
        (status = 200, description = "The confirmation page", body = String, content_type = "text/html"),
        (status = 400, description = "The token is not one this server signed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn confirm_page(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> Result<Response, ApiError> {
    state.service.email().check_unsubscribe(&query.token)?;
    let token = escape_html(&query.token);
    Ok(page(
        "Unsubscribe",
        &format!(
            "<p>Stop receiving notification mail from this help desk? Replies to your own \
             requests still reach you.</p>\
             <form method=\"post\" action=\"/api/unsubscribe?token={token}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Unsubscribe</button></form>"
        ),
    ))
}

/// Unsubscribe (RFC 8058 one-click).
///
/// What a mail client posts for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and what the
/// confirmation page's button posts; the body (`List-Unsubscribe=One-Click`) is not needed. The
/// address in the token gets no more mail of the token's kind. Doing it again changes nothing.
#[utoipa::path(post, path = "/api/unsubscribe", tag = "email", params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Unsubscribed; a page saying so", body = String, content_type = "text/html"),
        (status = 400, description = "The token is not one this server signed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn unsubscribe(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> Result<Response, ApiError> {
    state.service.email().unsubscribe(&query.token).await?;
    Ok(page(
        "Unsubscribed",
        "<p>You will not receive these notifications any more.</p>",
    ))
}
