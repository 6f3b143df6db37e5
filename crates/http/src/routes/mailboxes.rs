//! `/api/mailboxes`: the admin's email mailboxes (IMAP in, SMTP out) and their connection test.
//! Passwords are write-only: requests may set or clear them, answers only say whether one is set.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::mail::AfterImportJson;
use growdesk_domain::{AfterImport, Mailbox, Priority, TransportSecurity};
use growdesk_service::mailboxes::{self, ImapInput, MailboxInput, SmtpInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::{List, nullable};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mailboxes, create_mailbox))
        .routes(routes!(get_mailbox, update_mailbox, delete_mailbox))
        .routes(routes!(test_mailbox))
}

/// Where incoming mail is fetched from. On a change, omitted fields stay.
// No `Debug`: it carries a password, which nothing may print.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImapRequest {
    #[schema(schema_with = schemas::host_name)]
    host: Option<String>,
    #[schema(minimum = 1, maximum = 65535)]
    port: Option<u16>,
    /// `tls` (implicit TLS, usually port 993), `starttls` (usually 143) or `none`.
    security: Option<TransportSecurity>,
    #[schema(schema_with = schemas::mail_username)]
    username: Option<String>,
    /// The password or app password; write-only. `null` clears it, absence keeps it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::mail_password_or_null)]
    password: Option<Option<String>>,
    /// The folder read; `INBOX` by default.
    #[schema(schema_with = schemas::mail_folder)]
    folder: Option<String>,
    /// What is done to a mail once imported: marked seen (default), or moved to a folder.
    #[schema(value_type = Option<AfterImportJson>)]
    after_import: Option<AfterImport>,
}

impl From<ImapRequest> for ImapInput {
    fn from(body: ImapRequest) -> Self {
        Self {
            host: body.host,
            port: body.port,
            security: body.security,
            username: body.username,
            password: body.password,
            folder: body.folder,
            after_import: body.after_import,
        }
    }
}

/// Where outgoing mail is sent through. On a change, omitted fields stay.
// No `Debug`: it carries a password, which nothing may print.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmtpRequest {
    #[schema(schema_with = schemas::host_name)]
    host: Option<String>,
    #[schema(minimum = 1, maximum = 65535)]
    port: Option<u16>,
    /// `tls` (implicit TLS, usually port 465), `starttls` (usually 587) or `none`.
    security: Option<TransportSecurity>,
    #[schema(schema_with = schemas::mail_username)]
    username: Option<String>,
    /// The password or app password; write-only. `null` clears it, absence keeps it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::mail_password_or_null)]
    password: Option<Option<String>>,
}

impl From<SmtpRequest> for SmtpInput {
    fn from(body: SmtpRequest) -> Self {
        Self {
            host: body.host,
            port: body.port,
            security: body.security,
            username: body.username,
            password: body.password,
        }
    }
}

/// A new mailbox.
// Required fields are `Option`s all the same, so that a body missing one is answered by the
// service, which names every missing or invalid field at once, rather than by serde.
// No `Debug`: it carries a password, which nothing may print.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateMailboxRequest {
    /// The address customers write to and mail is sent from; unique, stored lower-cased.
    #[schema(schema_with = schemas::email, required = true)]
    address: Option<String>,
    /// The name shown in `From`.
    #[schema(schema_with = schemas::person_name, required = true)]
    display_name: Option<String>,
    /// Incoming mail; without it the mailbox only sends.
    imap: Option<ImapRequest>,
    /// Outgoing mail; without it replies to this mailbox's tickets cannot be sent.
    smtp: Option<SmtpRequest>,
    /// The category of tickets opened by mail; none by default.
    default_category_id: Option<Uuid>,
    /// The priority of tickets opened by mail; `medium` by default.
    default_priority: Option<Priority>,
    /// Whether a new ticket is acknowledged by mail; off by default.
    acknowledge: Option<bool>,
    /// An inactive mailbox is neither fetched nor sent from; active by default.
    active: Option<bool>,
}

impl From<CreateMailboxRequest> for MailboxInput {
    fn from(body: CreateMailboxRequest) -> Self {
        Self {
            address: body.address,
            display_name: body.display_name,
            imap: body.imap.map(|imap| Some(imap.into())),
            smtp: body.smtp.map(|smtp| Some(smtp.into())),
            default_category_id: body.default_category_id.map(Some),
            default_priority: body.default_priority,
            acknowledge: body.acknowledge,
            active: body.active,
        }
    }
}

/// Changes to a mailbox; omitted fields stay, and so do omitted fields of `imap` and `smtp`.
// No `Debug`: it carries a password, which nothing may print.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailboxRequest {
    #[schema(schema_with = schemas::email_or_null)]
    address: Option<String>,
    #[schema(schema_with = schemas::person_name_or_null)]
    display_name: Option<String>,
    /// `null` stops fetching and forgets the IMAP settings and password.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ImapRequest>)]
    imap: Option<Option<ImapRequest>>,
    /// `null` stops sending and forgets the SMTP settings and password.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<SmtpRequest>)]
    smtp: Option<Option<SmtpRequest>>,
    /// `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    default_category_id: Option<Option<Uuid>>,
    default_priority: Option<Priority>,
    acknowledge: Option<bool>,
    active: Option<bool>,
}

impl From<MailboxRequest> for MailboxInput {
    fn from(body: MailboxRequest) -> Self {
        Self {
            address: body.address,
            display_name: body.display_name,
            imap: body.imap.map(|imap| imap.map(Into::into)),
            smtp: body.smtp.map(|smtp| smtp.map(Into::into)),
            default_category_id: body.default_category_id,
            default_priority: body.default_priority,
            acknowledge: body.acknowledge,
            active: body.active,
        }
    }
}

/// The outcome of one side of a connection test.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConnectionCheck {
    ok: bool,
    /// What failed, in words for the admin (never a password); `null` when `ok`.
    #[schema(required = true)]
    error: Option<String>,
}

impl From<mailboxes::Check> for ConnectionCheck {
    fn from(check: mailboxes::Check) -> Self {
        Self {
            ok: check.ok,
            error: check.error,
        }
    }
}

/// Whether the mailbox's servers accept its settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConnectionReport {
    /// Connect, sign in and open the folder.
    imap: ConnectionCheck,
    /// Connect, `EHLO` and sign in.
    smtp: ConnectionCheck,
}

impl From<mailboxes::ConnectionReport> for ConnectionReport {
    fn from(report: mailboxes::ConnectionReport) -> Self {
        Self {
            imap: report.imap.into(),
            smtp: report.smtp.into(),
        }
    }
}

/// Every mailbox (admin).
///
/// Passwords are never answered: `has_imap_password` and `has_smtp_password` say whether one is
/// set.
#[utoipa::path(get, path = "/api/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    responses(
        (status = 200, description = "The mailboxes", body = List<Mailbox>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_mailboxes(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<List<Mailbox>>, ApiError> {
    Ok(axum::Json(List::whole(
        state.service.mailboxes().list(&caller).await?,
    )))
}

/// Create a mailbox (admin).
///
/// `address` and `display_name` are required; `imap` needs `host`, `port`, `security` and
/// `username`, as does `smtp`. The display name is one line (no CR or LF: it goes into the
/// `From` header). An address already used by another mailbox is 409.
#[utoipa::path(post, path = "/api/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    request_body(content = CreateMailboxRequest, example = json!({"address": "support@example.com", "display_name": "Example Support", "imap": {"host": "imap.example.com", "port": 993, "security": "tls", "username": "support@example.com", "password": "an-app-password", "folder": "INBOX", "after_import": {"action": "move", "folder": "Archive"}}, "smtp": {"host": "smtp.example.com", "port": 465, "security": "tls", "username": "support@example.com", "password": "an-app-password"}, "default_priority": "medium", "acknowledge": true})),
    responses(
        (status = 201, description = "Created", body = Mailbox),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another mailbox has this address", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or an unknown category", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_mailbox(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateMailboxRequest>,
) -> Result<(StatusCode, axum::Json<Mailbox>), ApiError> {
    let mailbox = state
        .service
        .mailboxes()
        .create(&caller, body.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(mailbox)))
}

/// One mailbox (admin).
///
/// Without its passwords: `has_imap_password` and `has_smtp_password` say whether each is set.
#[utoipa::path(get, path = "/api/mailboxes/{id}", tag = "mailboxes", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The mailbox", body = Mailbox),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mailbox", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_mailbox(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<Mailbox>, ApiError> {
    Ok(axum::Json(
        state.service.mailboxes().get(&caller, id).await?,
    ))
}

/// Change a mailbox (admin).
///
/// Only the fields sent change, inside `imap` and `smtp` too: `{"smtp": {"password": "…"}}`
/// replaces the SMTP password alone. `imap: null` or `smtp: null` removes that side.
#[utoipa::path(patch, path = "/api/mailboxes/{id}", tag = "mailboxes", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = MailboxRequest, example = json!({"smtp": {"password": "a-new-app-password"}, "acknowledge": false})),
    responses(
        (status = 200, description = "Changed", body = Mailbox),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mailbox", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another mailbox has this address", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or an unknown category", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_mailbox(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MailboxRequest>,
) -> Result<axum::Json<Mailbox>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .mailboxes()
            .update(&caller, id, body.into())
            .await?,
    ))
}

/// Delete a mailbox (admin).
///
/// Its tickets stay; replies on them can no longer be sent by mail until another mailbox takes
/// them.
#[utoipa::path(delete, path = "/api/mailboxes/{id}", tag = "mailboxes", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mailbox", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_mailbox(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.mailboxes().delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test a mailbox's connections (admin).
///
/// Connects to the IMAP server (signs in and opens the folder) and to the SMTP server (`EHLO`
/// and signs in) with the stored settings, and says for each whether it worked or why not. A
/// failure is a 200 with `ok: false`: the test ran.
#[utoipa::path(post, path = "/api/mailboxes/{id}/test", tag = "mailboxes", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The outcome of each side", body = ConnectionReport, example = json!({"imap": {"ok": true, "error": null}, "smtp": {"ok": false, "error": "the SMTP server refused the username or password"}})),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mailbox", body = Problem, content_type = "application/problem+json"),
    ))]
async fn test_mailbox(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<ConnectionReport>, ApiError> {
    Ok(axum::Json(
        state.service.mailboxes().test(&caller, id).await?.into(),
    ))
}
