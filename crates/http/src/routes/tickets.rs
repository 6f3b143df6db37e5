//! `/api/tickets`: tickets, their messages and event log, the dashboard's counts, and
//! `/api/attachments/{id}` downloads.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use growdesk_domain::{
    Message, Priority, Ticket, TicketEvent, TicketSource, TicketStatus, ValidationErrors,
};
use growdesk_service::messages::{MessageDraft, Upload};
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::{Stats, TicketChanges, TicketDraft, TicketPosition, TicketQuery};
use growdesk_store::TicketSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::{List, nullable};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(ticket_stats))
        .routes(routes!(get_ticket, update_ticket, delete_ticket))
        .routes(routes!(assign_ticket))
        .routes(routes!(list_messages, post_message))
        .routes(routes!(ticket_events))
        .routes(routes!(download_attachment))
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get(IDEMPOTENCY_KEY)
        .map(|value| {
            value.to_str().map_err(|_| {
                ValidationErrors::single("Idempotency-Key", "must be visible ASCII").into()
            })
        })
        .transpose()
}

/// The version an `If-Match` header names: `"7"` (or `W/"7"`); `*` or no header pins nothing.
/// Anything else is refused rather than guessed at: the server's ETags are 1 to 18 digits in
/// quotes, so `7`, `""7""` or `W/W/"7"` name no version it sent.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let opaque = text.strip_prefix("W/").unwrap_or(text);
    opaque
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|digits| (1..=18).contains(&digits.len()))
        .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            detail: "If-Match must be an ETag this server sent".to_owned(),
        })
}

/// A ticket with its `ETag`.
fn with_etag(status: StatusCode, ticket: Ticket) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", ticket.version)).ok();
    let mut response = (status, axum::Json(ticket)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A ticket to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTicketRequest {
    #[schema(schema_with = schemas::subject)]
    subject: String,
    /// The first message.
    #[schema(schema_with = schemas::message_body)]
    description: String,
    /// Default `medium`.
    priority: Option<Priority>,
    /// An active category.
    category_id: Option<Uuid>,
    #[serde(default)]
    #[schema(schema_with = schemas::tags)]
    tags: Vec<String>,
    /// Default `web` for customers, `api` for staff.
    source: Option<TicketSource>,
    /// Staff only: open the ticket for this user…
    requester_id: Option<Uuid>,
    /// …or for this email (a customer is created for a new one).
    #[schema(schema_with = schemas::email_or_null)]
    requester_email: Option<String>,
    /// Staff only: the new customer's name.
    #[schema(schema_with = schemas::person_name_or_null)]
    requester_name: Option<String>,
}

/// Changes to a ticket; omitted fields stay. Customers may only set `status` to `closed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTicketRequest {
    #[schema(schema_with = schemas::subject_or_null)]
    subject: Option<String>,
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    /// `null` removes the category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    category_id: Option<Option<Uuid>>,
    /// Replaces the tags.
    #[schema(schema_with = schemas::tags_or_null)]
    tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignRequest {
    /// An active agent or admin, or `null` to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, required = true)]
    assignee_id: Option<Option<Uuid>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListTicketsQuery {
    /// One status or several, comma-separated (`open,pending`).
    #[param(value_type = Option<Vec<TicketStatus>>, style = Form, explode = false)]
    status: Option<String>,
    priority: Option<Priority>,
    category_id: Option<Uuid>,
    /// A user id, `me` or `none`.
    #[param(
        pattern = "^(me|none|[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    assignee_id: Option<String>,
    /// Staff only; customers always see their own tickets.
    requester_id: Option<Uuid>,
    /// One tag, as in `tags` (case is ignored).
    #[param(
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[\w.-]{1,50}[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    tag: Option<String>,
    /// Words that must all appear in the subject or in one message the caller may see; accents
    /// and case are ignored.
    q: Option<String>,
    /// Default `created_at`.
    #[param(schema_with = schemas::ticket_sort)]
    sort: Option<String>,
    /// Default `desc`.
    #[param(schema_with = schemas::sort_order)]
    order: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

impl ListTicketsQuery {
    fn into_query(self) -> Result<(TicketQuery, PageRequest<TicketPosition>), ApiError> {
        let mut errors = ValidationErrors::default();
        let statuses = self
            .status
            .as_deref()
            .map(|list| {
                list.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .filter_map(|s| errors.check("status", s.trim().parse::<TicketStatus>()))
                    .collect()
            })
            .unwrap_or_default();
        let sort = match self.sort.as_deref() {
            None | Some("created_at") => TicketSort::CreatedAt,
            Some("updated_at") => TicketSort::UpdatedAt,
            Some("priority") => TicketSort::Priority,
            Some("number") => TicketSort::Number,
            Some(_) => {
                errors.add("sort", "must be created_at, updated_at, priority or number");
                TicketSort::CreatedAt
            }
        };
        let descending = match self.order.as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                errors.add("order", "must be asc or desc");
                true
            }
        };
        let page = PageRequest::<TicketPosition>::parse(self.limit, self.cursor.as_deref());
        let page = match page {
            Ok(page) => Some(page),
            Err(page_errors) => {
                for field in page_errors.fields() {
                    errors.add(&field.field, field.message.clone());
                }
                None
            }
        };
        errors.into_result(|| ())?;
        let query = TicketQuery {
            statuses,
            priority: self.priority,
            category_id: self.category_id,
            assignee: self.assignee_id,
            requester_id: self.requester_id,
            tag: self.tag,
            q: self.q,
            sort,
            descending,
        };
        let page =
            page.ok_or_else(|| ApiError::from(ValidationErrors::single("cursor", "is invalid")))?;
        Ok((query, page))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<i64>,
    pub(crate) cursor: Option<String>,
}

/// List the tickets the caller may see.
///
/// Customers see their own tickets, staff all of them. Filters: `status` (comma-separated),
/// `priority`, `category_id`, `assignee_id` (an id, `me` or `none`), `requester_id`, `tag` and `q`
/// (full-text over the subject and every message the caller may see, ignoring case and accents);
/// `sort` and `order`; keyset pagination with `limit` and `cursor`.
#[utoipa::path(get, path = "/api/tickets", tag = "tickets", security(("bearer" = [])), params(ListTicketsQuery),
    responses(
        (status = 200, description = "A page of tickets", body = List<Ticket>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter, sort or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_tickets(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListTicketsQuery>,
) -> Result<axum::Json<List<Ticket>>, ApiError> {
    let (query, page) = query.into_query()?;
    Ok(axum::Json(
        state
            .service
            .list_tickets(&caller, query, page)
            .await?
            .into(),
    ))
}

/// Open a ticket.
///
/// The description is the ticket's first message. Customers open tickets for themselves; staff may
/// open one for a user by `requester_id`, or by `requester_email` (a customer is created for a new
/// address). Honours `Idempotency-Key`: a retry, even a concurrent one, returns the first ticket
/// and creates nothing; the same key with another request is 422.
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", security(("bearer" = [])), request_body(content = CreateTicketRequest,
        example = json!({"subject": "Charged twice", "description": "My card was charged twice for order 1042.", "priority": "high", "tags": ["billing"]})),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    responses(
        (status = 201, description = "Opened; `ETag` is its version", body = Ticket, headers(("ETag" = String)), example = json!({"id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "number": 42, "subject": "Charged twice", "status": "open", "priority": "high", "category_id": null, "requester": {"id": "9a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d", "name": "Cy", "email": "cy@example.com"}, "assignee_id": null, "assignee": null, "tags": ["billing"], "source": "web", "version": 1, "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z", "first_response_at": null, "resolved_at": null, "closed_at": null})),
        (status = 403, description = "Requester fields from a customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown category or requester", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateTicketRequest>,
) -> Result<Response, ApiError> {
    let draft = TicketDraft {
        subject: body.subject,
        description: body.description,
        priority: body.priority,
        category_id: body.category_id,
        tags: body.tags,
        source: body.source,
        requester_id: body.requester_id,
        requester_email: body.requester_email,
        requester_name: body.requester_name,
    };
    let ticket = state
        .service
        .create_ticket(&caller, draft, idempotency_key(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::CREATED, ticket))
}

/// One ticket.
///
/// With an `ETag` (the ticket's version) to send back as `If-Match` when changing it. A customer
/// asking for someone else's ticket gets 404, never 403.
#[utoipa::path(get, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The ticket; `ETag` is its version", body = Ticket, headers(("ETag" = String))),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        state.service.get_ticket(&caller, id).await?,
    ))
}

/// Change a ticket.
///
/// Subject, status, priority, category and tags, following the workflow (409 with the reason for
/// a move it forbids). Send `If-Match` with the `ETag` you have: a ticket changed since
/// gets 412 instead of being overwritten. Without `If-Match` the change is applied to the latest
/// version.
#[utoipa::path(patch, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, pattern = "^(\\*|(W/)?\"[0-9]{1,18}\")$", description = "The ETag the change is based on, or `*`")),
    request_body(content = UpdateTicketRequest, example = json!({"status": "resolved", "priority": "medium"})),
    responses(
        (status = 200, description = "Changed; `ETag` is the new version", body = Ticket, headers(("ETag" = String))),
        (status = 403, description = "A field your role may not change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workflow forbids this status change", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The ticket changed since your ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateTicketRequest>,
) -> Result<Response, ApiError> {
    let changes = TicketChanges {
        subject: body.subject,
        status: body.status,
        priority: body.priority,
        category_id: body.category_id,
        tags: body.tags,
    };
    let ticket = state
        .service
        .update_ticket(&caller, id, changes, if_match(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::OK, ticket))
}

/// Delete a ticket with its messages (admin).
///
/// Its messages and events go with it; webhooks subscribed to `deleted` are told.
#[utoipa::path(delete, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_ticket(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign a ticket (staff).
///
/// Only to an active agent or admin (422 otherwise); `null` unassigns. Taking a ticket someone else
/// holds is a conflict (409), so of many agents taking one ticket at once exactly one gets it;
/// assigning it to someone else reassigns it. Honours `If-Match` as PATCH does.
#[utoipa::path(post, path = "/api/tickets/{id}/assign", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, pattern = "^(\\*|(W/)?\"[0-9]{1,18}\")$", description = "The ETag the change is based on, or `*`")),
    request_body(content = AssignRequest, example = json!({"assignee_id": "5f0c6d3e-8a1b-4c2d-9e7f-0a1b2c3d4e5f"})),
    responses(
        (status = 200, description = "Assigned; `ETag` is the new version", body = Ticket, headers(("ETag" = String))),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Someone else holds the ticket", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The ticket changed since your ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active agent or admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn assign_ticket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Response, ApiError> {
    let assignee = body
        .assignee_id
        .ok_or_else(|| ValidationErrors::single("assignee_id", "is required (null unassigns)"))?;
    let ticket = state
        .service
        .assign_ticket(&caller, id, assignee, if_match(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::OK, ticket))
}

/// A message to post as JSON; with files, send the same fields as `multipart/form-data`
/// (`body`, `internal`, and one `files` part per file).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageRequest {
    #[schema(schema_with = schemas::message_body)]
    body: String,
    /// An internal note, never shown to customers (staff only).
    #[serde(default)]
    internal: bool,
}

/// A conversation's messages, oldest first.
///
/// Customers never see internal notes. Each message lists its attachments; paged with `limit` and
/// `cursor`.
#[utoipa::path(get, path = "/api/tickets/{id}/messages", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = List<Message>),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<Message>>, ApiError> {
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state.service.list_messages(&caller, id, page).await?.into(),
    ))
}

/// Reply, or write an internal note.
///
/// JSON, or `multipart/form-data` with `body`, `internal` and one `files` part per file (at most
/// GROWDESK_ATTACHMENT_MAX_BYTES per message). Internal notes are for staff only. A customer's
/// reply reopens a pending or resolved ticket; a closed ticket takes internal notes only (409).
/// Honours `Idempotency-Key` as POST /api/tickets does.
#[utoipa::path(post, path = "/api/tickets/{id}/messages", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    request_body(content(
        (MessageRequest = "application/json", example = json!({"body": "A refund is on its way.", "internal": false})),
        (MessageRequest = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Posted", body = Message, example = json!({"id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", "ticket_id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "author": {"id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "name": "Ana", "role": "agent"}, "body": "A refund is on its way.", "internal": false, "created_at": "2026-03-02T09:20:00Z", "attachments": []})),
        (status = 403, description = "Internal note from a customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ticket is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Files too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn post_message(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, axum::Json<Message>), ApiError> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let draft = if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| ApiError::Refused {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        read_message_form(form).await?
    } else {
        let ApiJson(body) = ApiJson::<MessageRequest>::from_request(request, &state).await?;
        MessageDraft {
            body: body.body,
            internal: body.internal,
            files: Vec::new(),
        }
    };
    let message = state
        .service
        .post_message(&caller, id, draft, idempotency_key(&headers)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

async fn read_message_form(mut form: Multipart) -> Result<MessageDraft, ApiError> {
    let bad = |detail: String| ApiError::Refused {
        status: StatusCode::BAD_REQUEST,
        detail,
    };
    let mut draft = MessageDraft::default();
    let mut body = None;
    while let Some(field) = form.next_field().await.map_err(|error| ApiError::Refused {
        status: error.status(),
        detail: error.body_text(),
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "body" => body = Some(field.text().await.map_err(|error| bad(error.body_text()))?),
            "internal" => {
                let text = field.text().await.map_err(|error| bad(error.body_text()))?;
                draft.internal = match text.trim() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => {
                        return Err(
                            ValidationErrors::single("internal", "must be true or false").into(),
                        );
                    }
                };
            }
            "files" | "file" => {
                let filename = field.file_name().unwrap_or("attachment").to_owned();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = field.bytes().await.map_err(|error| ApiError::Refused {
                    status: error.status(),
                    detail: error.body_text(),
                })?;
                draft.files.push(Upload {
                    filename,
                    content_type,
                    bytes: bytes.to_vec(),
                });
            }
            other => {
                return Err(ValidationErrors::single(other, "is not a field of a message").into());
            }
        }
    }
    draft.body = body.ok_or_else(|| ValidationErrors::single("body", "is required"))?;
    Ok(draft)
}

/// The ticket's event log, oldest first.
///
/// Every change, with its actor and time, written in the same transaction as the change. Event ids
/// only grow: pass the last one as `cursor` to continue. Events about internal notes are for staff
/// only.
#[utoipa::path(get, path = "/api/tickets/{id}/events", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of events", body = List<TicketEvent>),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ticket_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<TicketEvent>>, ApiError> {
    let page = PageRequest::<i64>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state.service.ticket_events(&caller, id, page).await?.into(),
    ))
}

/// The dashboard's counts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatsResponse {
    /// Every status with its count.
    by_status: BTreeMap<String, i64>,
    /// Every priority with its count.
    by_priority: BTreeMap<String, i64>,
    /// Open work (not resolved or closed) assigned to no one.
    unassigned: i64,
    /// Open work assigned to the caller.
    assigned_to_me: i64,
    /// The last 30 days (UTC), oldest first, days without tickets included.
    created_per_day: Vec<DayCount>,
    /// Median time to the first staff reply of the tickets opened in the last 30 days.
    median_first_response_seconds: Option<f64>,
    /// Median time to resolution of the tickets opened in the last 30 days.
    median_resolution_seconds: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DayCount {
    /// `YYYY-MM-DD`.
    date: String,
    count: i64,
}

impl From<Stats> for StatsResponse {
    fn from(stats: Stats) -> Self {
        let mut by_status: BTreeMap<String, i64> = TicketStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        by_status.extend(
            stats
                .by_status
                .iter()
                .map(|(status, count)| (status.as_str().to_owned(), *count)),
        );
        let mut by_priority: BTreeMap<String, i64> = Priority::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), 0))
            .collect();
        by_priority.extend(
            stats
                .by_priority
                .iter()
                .map(|(priority, count)| (priority.as_str().to_owned(), *count)),
        );
        let counts: BTreeMap<String, i64> = stats.created_per_day.into_iter().collect();
        let today = time::OffsetDateTime::now_utc().date();
        let created_per_day = (0..30)
            .rev()
            .map(|back| {
                let date = (today - time::Duration::days(back)).to_string();
                let count = counts.get(&date).copied().unwrap_or(0);
                DayCount { date, count }
            })
            .collect();
        Self {
            by_status,
            by_priority,
            unassigned: stats.unassigned,
            assigned_to_me: stats.assigned_to_me,
            created_per_day,
            median_first_response_seconds: stats.median_first_response_seconds,
            median_resolution_seconds: stats.median_resolution_seconds,
        }
    }
}

/// The dashboard's figures (staff).
///
/// Counts by status and priority, unassigned open work, the caller's open work, tickets per day
/// over the last 30 days, and the median first-response and resolution times of the tickets opened
/// in those days. Kept by counters, so it costs the same at any size.
#[utoipa::path(get, path = "/api/tickets/stats", tag = "tickets", security(("bearer" = [])),
    responses(
        (status = 200, description = "The dashboard's figures", body = StatsResponse),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ticket_stats(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<StatsResponse>, ApiError> {
    Ok(axum::Json(
        state.service.ticket_stats(&caller).await?.into(),
    ))
}

/// `filename*` per RFC 5987: UTF-8, percent-encoded.
fn encode_filename(name: &str) -> String {
    name.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Download an attachment.
///
/// Only to those who may see its message (404 otherwise), always as a file, never shown inline
/// (`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a sandboxing CSP).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "No such attachment, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn download_attachment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let (attachment, path) = state.service.attachment(&caller, id).await?;
    let file = tokio::fs::File::open(&path).await.map_err(|error| {
        ApiError::Service(growdesk_service::ServiceError::Internal(Box::new(error)))
    })?;
    let ascii: String = attachment
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_filename(&attachment.filename)
    );
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(attachment.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_percent_encoded() {
        assert_eq!(
            encode_filename("Facturación 1.pdf"),
            "Facturaci%C3%B3n%201.pdf"
        );
        assert_eq!(encode_filename("a\"b;c"), "a%22b%3Bc");
    }

    #[test]
    fn if_match_reads_etags() {
        let mut headers = HeaderMap::new();
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"7\""));
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"8\""));
        assert_eq!(if_match(&headers).unwrap(), Some(8));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), None);
        for bad in [
            "\"abc\"",
            "7",
            "\"\"7\"\"",
            "W/W/\"7\"",
            "\"-7\"",
            "\"+7\"",
            "\"\"",
        ] {
            headers.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert!(if_match(&headers).is_err(), "{bad}");
        }
    }
}
