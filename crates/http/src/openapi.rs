//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;

use crate::routes;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "GrowDesk API", description = "The GrowDesk help desk: accounts, tickets and live chat. Errors are RFC 9457 problem+json."),
    servers((url = "/", description = "The server that serves this document (it is at /api/openapi.json)")),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Sign-up, sign-in, tokens and the caller's own account"),
        (name = "users", description = "Account management (admin)"),
        (name = "tickets", description = "Tickets, conversations, the event log and the dashboard"),
        (name = "categories", description = "Ticket categories"),
        (name = "faqs", description = "Frequently asked questions"),
        (name = "notifications", description = "The caller's notifications"),
        (name = "views", description = "Saved views of the queue, personal and shared (staff)"),
        (name = "canned-replies", description = "Canned replies for the composer, personal and shared (staff)"),
        (name = "realtime", description = "The WebSocket: live events, chat, typing, presence"),
        (name = "widgets", description = "Chat widget registry (admin)"),
        (name = "webhooks", description = "Webhooks and their delivery log (admin)"),
        (name = "mailboxes", description = "Email mailboxes: IMAP in, SMTP out (admin)"),
        (name = "email", description = "Email templates (admin) and unsubscribe links"),
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

/// The name of the security scheme of a widget's public key, sent as `X-Widget-Key`.
pub(crate) const WIDGET_KEY_SCHEME: &str = "widget_key";

/// How callers authenticate: staff and customers with an access token, pages with a widget's
/// public key, and visitors with the token their first conversation gave them.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /api/auth/login, /register or /refresh",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            WIDGET_KEY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Widget-Key",
                "A widget's public key (GET /api/widgets); it names the widget, and the page's \
                 Origin must be one the widget allows",
            ))),
        );
        components.add_security_scheme(
            "visitor",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The visitor_token that POST /widget/tickets answered with; it grants \
                         that visitor's conversations on that widget",
                    ))
                    .build(),
            ),
        );
    }
}

/// Documents the answers that come from the layers every request crosses — the extractors, the
/// authentication, the body limit, the timeout and the database pool — on every operation they
/// apply to, so that each handler lists only the outcomes of its own work.
struct CommonResponses;

impl CommonResponses {
    fn problem(description: &str) -> RefOr<Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    }

    fn add_to(operation: &mut Operation) {
        let takes = |location: ParameterIn| {
            operation.parameters.iter().flatten().any(|parameter| {
                matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == location)
            })
        };
        let takes_named = |name: &str| {
            operation.parameters.iter().flatten().any(|parameter| {
                matches!(parameter, RefOr::T(parameter) if parameter.name.eq_ignore_ascii_case(name))
            })
        };
        let needs_widget_key = operation
            .security
            .iter()
            .flatten()
            .any(|requirement| names_scheme(requirement, WIDGET_KEY_SCHEME));
        let mut common = vec![
            ("408", "The request took too long"),
            ("503", "The database is unavailable or busy; retry later"),
        ];
        if takes(ParameterIn::Query) {
            common.push(("400", "A query parameter does not parse"));
        }
        if takes(ParameterIn::Path) {
            common.push(("404", "No such resource"));
        }
        if takes_named("cursor") {
            // Cursors are opaque: the schema cannot tell one this list issued from any other.
            common.push(("422", "A cursor this list did not issue"));
        }
        if needs_widget_key {
            common.extend([
                ("401", "Missing X-Widget-Key"),
                (
                    "403",
                    "Inactive widget, or a page on an origin the widget does not allow",
                ),
                ("404", "Unknown widget key"),
            ]);
        }
        if operation.request_body.is_some() {
            common.extend([
                ("400", "The body is not well-formed"),
                ("413", "The body is too large"),
                ("415", "The body is not of the documented media type"),
                ("422", "The body has missing, unknown or invalid fields"),
            ]);
        }
        if operation
            .security
            .as_ref()
            .is_some_and(|security| !security.is_empty())
        {
            common.push(("401", "Missing, invalid or expired credentials"));
        }
        for (status, description) in common {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| Self::problem(description));
        }
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                Self::add_to(operation);
                headers_are_never_null(operation);
            }
        }
    }
}

/// Whether a security requirement includes the scheme `name` (utoipa keeps its names private).
fn names_scheme(requirement: &SecurityRequirement, name: &str) -> bool {
    serde_json::to_value(requirement).is_ok_and(|requirement| requirement.get(name).is_some())
}

/// utoipa documents an optional header as `type: [string, null]`, but a header is absent or a
/// string, never JSON `null`: the document says so, or clients would send the text `null`.
fn headers_are_never_null(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Header {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema
            && let SchemaType::Array(types) = &schema.schema_type
        {
            let types: Vec<Type> = types
                .iter()
                .filter(|t| **t != Type::Null)
                .cloned()
                .collect();
            schema.schema_type = match types.as_slice() {
                [single] => SchemaType::Type(single.clone()),
                _ => SchemaType::Array(types),
            };
        }
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
        .merge(routes::views::router())
        .merge(routes::canned_replies::router())
        .merge(routes::ws::router())
        .merge(routes::widgets::router())
        .merge(routes::webhooks::router())
        .merge(routes::mailboxes::router())
        .merge(routes::email_templates::router())
        .merge(routes::unsubscribe::router())
        .merge(routes::ops::router())
        .split_for_parts();
    document.merge(widget_document);
    CommonResponses.modify(&mut document);
    (api, widget, document)
}

/// The OpenAPI document as pretty JSON with a trailing newline: what `api/openapi.json` holds.
pub fn openapi_json() -> String {
    let (_, _, document) = documented_routes();
    let mut json = document.to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
