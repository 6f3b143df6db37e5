//! `/api/email-templates`: the mail GrowDesk sends, per kind and language, built in or as the
//! admin rewrote it.

use axum::extract::State;
use growdesk_domain::MailKind;
use growdesk_service::email::templates::{Template, TemplateEntry};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::List;
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(put_template, reset_template))
}

/// One kind of mail in one language, as it is sent.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EmailTemplate {
    kind: MailKind,
    /// A language tag: `en` or `es`.
    #[schema(example = "en")]
    locale: String,
    subject: String,
    text_body: String,
    html_body: String,
    /// Whether an admin rewrote it; `false` for the built-in text.
    customised: bool,
    /// When the admin's version was saved; `null` for the built-in text.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    updated_at: Option<OffsetDateTime>,
}

impl From<TemplateEntry> for EmailTemplate {
    fn from(entry: TemplateEntry) -> Self {
        Self {
            kind: entry.kind,
            locale: entry.locale.to_owned(),
            subject: entry.template.subject,
            text_body: entry.template.text_body,
            html_body: entry.template.html_body,
            customised: entry.customised,
            updated_at: entry.updated_at,
        }
    }
}

/// A template's new text. Placeholders are `{{requester.name}}`, `{{ticket.number}}`,
/// `{{ticket.subject}}`, `{{message.body}}`, `{{agent.name}}`, `{{unsubscribe_url}}` and
/// `{{reset_url}}`, as the kind offers them; values are HTML-escaped in `html_body`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailTemplateRequest {
    #[schema(schema_with = schemas::template_subject)]
    subject: String,
    #[schema(schema_with = schemas::template_body)]
    text_body: String,
    #[schema(schema_with = schemas::template_body)]
    html_body: String,
}

impl From<EmailTemplateRequest> for Template {
    fn from(body: EmailTemplateRequest) -> Self {
        Self {
            subject: body.subject,
            text_body: body.text_body,
            html_body: body.html_body,
        }
    }
}

/// Every email template (admin).
///
/// One per kind (`reply`, `acknowledgement`, `resolved`, `password_reset`) and language, the
/// admin's version where there is one, the built-in one otherwise.
#[utoipa::path(get, path = "/api/email-templates", tag = "email", security(("bearer" = [])),
    responses(
        (status = 200, description = "The templates", body = List<EmailTemplate>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_templates(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<List<EmailTemplate>>, ApiError> {
    let templates = state.service.email_templates().list(&caller).await?;
    Ok(axum::Json(List::whole(
        templates.into_iter().map(Into::into).collect(),
    )))
}

/// Rewrite an email template (admin).
///
/// Replaces the subject, text and HTML of one kind in one language. A placeholder the kind does
/// not offer (`{{reset_url}}` in a reply, a misspelt one) is refused with a 422 naming the field.
#[utoipa::path(put, path = "/api/email-templates/{kind}/{locale}", tag = "email", security(("bearer" = [])),
    params(("kind" = MailKind, Path), ("locale" = String, Path, description = "`en` or `es`")),
    request_body(content = EmailTemplateRequest, example = json!({"subject": "[#{{ticket.number}}] {{ticket.subject}}", "text_body": "Hello {{requester.name}},\n\n{{message.body}}\n\n{{agent.name}}", "html_body": "<p>Hello {{requester.name}},</p><p>{{message.body}}</p><p>{{agent.name}}</p>"})),
    responses(
        (status = 200, description = "Saved; as it will be sent", body = EmailTemplate),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind or language", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or an unknown placeholder", body = Problem, content_type = "application/problem+json"),
    ))]
async fn put_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((kind, locale)): ApiPath<(MailKind, String)>,
    ApiJson(body): ApiJson<EmailTemplateRequest>,
) -> Result<axum::Json<EmailTemplate>, ApiError> {
    let template = state
        .service
        .email_templates()
        .put(&caller, kind, &locale, body.into())
        .await?;
    Ok(axum::Json(template.into()))
}

/// Restore the built-in email template (admin).
///
/// Forgets the admin's version of one kind in one language and answers the built-in one, which
/// is sent from now on. Restoring one that was not rewritten changes nothing.
#[utoipa::path(delete, path = "/api/email-templates/{kind}/{locale}", tag = "email", security(("bearer" = [])),
    params(("kind" = MailKind, Path), ("locale" = String, Path, description = "`en` or `es`")),
    responses(
        (status = 200, description = "The built-in template, in force again", body = EmailTemplate),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind or language", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reset_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((kind, locale)): ApiPath<(MailKind, String)>,
) -> Result<axum::Json<EmailTemplate>, ApiError> {
    let template = state
        .service
        .email_templates()
        .delete(&caller, kind, &locale)
        .await?;
    Ok(axum::Json(template.into()))
}
