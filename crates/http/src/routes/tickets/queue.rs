//! The ticket queue: `GET /api/tickets` with its filters, sort and pages, `POST /api/tickets`
//! to open one, and `GET /api/tickets/stats`, the dashboard's counts.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use growdesk_domain::{Priority, Ticket, TicketSource, TicketStatus, ValidationErrors};
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::{SlaFigures, Stats, TicketDraft, TicketPosition, TicketQuery};
use growdesk_store::tickets::TicketSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{idempotency_key, with_etag};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::routes::List;
use crate::schemas;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(ticket_stats))
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
            .tickets()
            .list(&caller, query, page)
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
        .tickets()
        .create(&caller, draft, idempotency_key(&headers)?)
        .await?;
    Ok(with_etag(StatusCode::CREATED, ticket))
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
    /// Each priority, low to urgent, against its service-level targets
    /// (`GROWDESK_SLA_FIRST_RESPONSE_HOURS`, `GROWDESK_SLA_RESOLUTION_HOURS`).
    sla: Vec<SlaResponse>,
}

/// One priority against its service-level targets: the open work past them now, and how the
/// tickets opened in the last 30 days (UTC, today included) fared.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SlaResponse {
    priority: Priority,
    /// How long a ticket may wait for its first public staff reply.
    first_response_target_seconds: f64,
    /// How long a ticket may take to be resolved or closed.
    resolution_target_seconds: f64,
    /// Open tickets (not resolved or closed) no staff member has answered yet, older than the
    /// first-response target.
    overdue_first_response: i64,
    /// Open tickets older than the resolution target.
    overdue_resolution: i64,
    /// Tickets opened in the last 30 days.
    opened_30_days: i64,
    /// Of those, answered after the first-response target, or unanswered and older than it.
    missed_first_response_30_days: i64,
    /// Of those, resolved or closed after the resolution target, or open and older than it.
    missed_resolution_30_days: i64,
}

impl From<SlaFigures> for SlaResponse {
    fn from(figures: SlaFigures) -> Self {
        Self {
            priority: figures.priority,
            first_response_target_seconds: figures.first_response_target_seconds,
            resolution_target_seconds: figures.resolution_target_seconds,
            overdue_first_response: figures.overdue_first_response,
            overdue_resolution: figures.overdue_resolution,
            opened_30_days: figures.opened_30_days,
            missed_first_response_30_days: figures.missed_first_response_30_days,
            missed_resolution_30_days: figures.missed_resolution_30_days,
        }
    }
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
            sla: stats.sla.into_iter().map(SlaResponse::from).collect(),
        }
    }
}

/// The dashboard's figures (staff).
///
/// Counts by status and priority, unassigned open work, the caller's open work, tickets per day
/// over the last 30 days, and the median first-response and resolution times of the tickets opened
/// in those days. Kept by counters, so it costs the same at any size. And per priority, the
/// service-level targets, the open tickets past each now, and the tickets of the last 30 days
/// that missed each; these are counted through indexes, never by reading every ticket.
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
        state.service.tickets().stats(&caller).await?.into(),
    ))
}
