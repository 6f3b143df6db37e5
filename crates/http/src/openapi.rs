//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;

use crate::routes;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "GrowDesk API", description = "The GrowDesk help desk: accounts, tickets and live chat. Errors are RFC 9457 problem+json."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, sign-in, tokens and the caller's own account"),
        (name = "users", description = "Account management (admin)"),
        (name = "tickets", description = "Tickets, conversations, the event log and the dashboard"),
        (name = "categories", description = "Ticket categories"),
        (name = "faqs", description = "Frequently asked questions"),
        (name = "notifications", description = "The caller's notifications"),
        (name = "realtime", description = "The WebSocket: live events, chat, typing, presence"),
        (name = "widgets", description = "Chat widget registry (admin)"),
        (name = "webhooks", description = "Webhooks and their delivery log (admin)"),
        (name = "widget", description = "The public widget API, keyed by X-Widget-Key, for visitors"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(
        crate::error::Problem,
        growdesk_realtime::frames::ServerFrame,
        growdesk_realtime::frames::ClientFrame,
    )),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every documented route, with the document describing them: the `/api` routes and the
/// public `/widget` routes apart, because they get different CORS.
pub(crate) fn documented_routes() -> (axum::Router<AppState>, axum::Router<AppState>, OpenApi) {
    let (widget, widget_document) = routes::widget::router().split_for_parts();
    let (api, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::tickets::router())
        .merge(routes::catalog::router())
        .merge(routes::notifications::router())
        .merge(routes::ws::router())
        .merge(routes::widgets::router())
        .merge(routes::webhooks::router())
        .merge(routes::ops::router())
        .split_for_parts();
    document.merge(widget_document);
    (api, widget, document)
}

/// The OpenAPI document as pretty JSON with a trailing newline: what `api/openapi.json` holds.
pub fn openapi_json() -> String {
    let (_, _, document) = documented_routes();
    let mut json = document.to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
