//! Reading tickets: one, a filtered and sorted page, a ticket's event log, the events a socket
//! missed, and the dashboard's counts.

use growdesk_domain::{
    Priority, SlaTarget, Tags, Ticket, TicketEvent, TicketStatus, ValidationErrors,
};
use growdesk_store::{
    Stamp,
    events::{FeedEvent, Span},
    tickets::{AssigneeFilter, SortKey, TicketCursor, TicketFilter, TicketSort},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Tickets;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize, sees_internal, visible};
use crate::{Principal, ServiceError, search};

/// Filters and order of the ticket list, as the client gave them.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub statuses: Vec<TicketStatus>,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    /// A user id, `me` or `none`.
    pub assignee: Option<String>,
    pub requester_id: Option<Uuid>,
    pub tag: Option<String>,
    pub q: Option<String>,
    pub sort: TicketSort,
    pub descending: bool,
}

/// A position in the ticket list: the sort it belongs to, the sort value, the id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketPosition {
    sort: String,
    key: i64,
    id: Uuid,
}

fn sort_name(sort: TicketSort, descending: bool) -> String {
    let name = match sort {
        TicketSort::CreatedAt => "created_at",
        TicketSort::UpdatedAt => "updated_at",
        TicketSort::Priority => "priority",
        TicketSort::Number => "number",
    };
    format!("{name}:{}", if descending { "desc" } else { "asc" })
}

impl TicketPosition {
    pub(crate) fn of(ticket: &Ticket, sort: TicketSort, descending: bool) -> Self {
        let key = match sort.key_of(ticket) {
            SortKey::Int(value) => value,
            SortKey::Time(stamp) => stamp.unix_micros(),
        };
        Self {
            sort: sort_name(sort, descending),
            key,
            id: ticket.id,
        }
    }

    /// The store's cursor, or why this position cannot be one of `sort`'s: another sort
    /// order's, or a time no ticket can have (a tampered key).
    pub(crate) fn cursor(
        &self,
        sort: TicketSort,
        descending: bool,
    ) -> Result<TicketCursor, &'static str> {
        if self.sort != sort_name(sort, descending) {
            return Err("belongs to another sort order");
        }
        let key = match sort {
            TicketSort::Priority | TicketSort::Number => SortKey::Int(self.key),
            TicketSort::CreatedAt | TicketSort::UpdatedAt => SortKey::Time(
                Stamp::from_unix_micros(self.key).ok_or("is not a cursor this list issued")?,
            ),
        };
        Ok(TicketCursor { key, id: self.id })
    }
}

/// The dashboard's counts.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub by_status: Vec<(TicketStatus, i64)>,
    pub by_priority: Vec<(Priority, i64)>,
    pub unassigned: i64,
    pub assigned_to_me: i64,
    pub created_per_day: Vec<(String, i64)>,
    pub median_first_response_seconds: Option<f64>,
    pub median_resolution_seconds: Option<f64>,
    /// Each priority against its service-level targets, low to urgent.
    pub sla: Vec<SlaFigures>,
}

/// One priority's service-level targets, the open work past them now, and how the tickets opened
/// in the last 30 days fared.
#[derive(Debug, Clone, Serialize)]
pub struct SlaFigures {
    pub priority: Priority,
    pub first_response_target_seconds: f64,
    pub resolution_target_seconds: f64,
    /// Open, unanswered by staff, and past the first-response target.
    pub overdue_first_response: i64,
    /// Open and past the resolution target.
    pub overdue_resolution: i64,
    pub opened_30_days: i64,
    /// Of those, answered late or still waiting past the target.
    pub missed_first_response_30_days: i64,
    /// Of those, resolved (or closed) late or still open past the target.
    pub missed_resolution_30_days: i64,
}

impl Tickets<'_> {
    /// One ticket the caller may see; for staff, with whether it is unread for them.
    ///
    /// # Errors
    /// `NotFound` for a missing ticket or one the caller may not see.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<Ticket, ServiceError> {
        let tickets = self.service.store.tickets();
        let ticket = if authorize(actor, Action::WorkQueue).is_ok() {
            tickets.get_read_by(id, actor.user.id).await?
        } else {
            tickets.get(id).await?
        };
        visible(actor, ticket)
    }

    /// A page of the tickets the caller may see, filtered, searched and sorted, for staff with
    /// whether each is unread for them. Customers only ever see their own, whatever they ask
    /// for.
    ///
    /// # Errors
    /// `Validation` for a bad assignee filter, tag or cursor.
    pub async fn list(
        self,
        actor: &Principal,
        query: TicketQuery,
        page: PageRequest<TicketPosition>,
    ) -> Result<Page<Ticket>, ServiceError> {
        let staff = authorize(actor, Action::WorkQueue).is_ok();
        let mut errors = ValidationErrors::default();
        let assignee = match query.assignee.as_deref() {
            None => None,
            Some("me") => Some(AssigneeFilter::Is(actor.user.id)),
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(other) => errors.check(
                "assignee_id",
                other
                    .parse::<Uuid>()
                    .map(AssigneeFilter::Is)
                    .map_err(|_| "must be a user id, me or none"),
            ),
        };
        let tag = query
            .tag
            .as_deref()
            .and_then(|tag| errors.check("tag", Tags::parse_one(tag)));
        let cursor = match &page.after {
            Some(position) => errors.check("cursor", position.cursor(query.sort, query.descending)),
            None => None,
        };
        errors.into_result(|| ())?;
        let filter = TicketFilter {
            statuses: query.statuses,
            priority: query.priority,
            category_id: query.category_id,
            assignee,
            requester_id: if staff {
                query.requester_id
            } else {
                Some(actor.user.id)
            },
            tag,
            terms: query.q.as_deref().map(search::terms).unwrap_or_default(),
            search_internal: staff,
            visitor: None,
            reader: staff.then_some(actor.user.id),
        };
        let rows = self
            .service
            .store
            .tickets()
            .list(
                &filter,
                query.sort,
                query.descending,
                cursor,
                page.limit + 1,
            )
            .await?;
        Ok(Page::from_rows(rows, page.limit, |ticket| {
            TicketPosition::of(ticket, query.sort, query.descending)
        }))
    }

    /// A page of a ticket's event log, oldest first; customers never see events about internal
    /// notes.
    ///
    /// # Errors
    /// `NotFound` for a ticket the caller may not see.
    pub async fn events(
        self,
        actor: &Principal,
        id: Uuid,
        page: PageRequest<i64>,
    ) -> Result<Page<TicketEvent>, ServiceError> {
        visible(actor, self.service.store.tickets().get(id).await?)?;
        let rows = self
            .service
            .store
            .events()
            .of_ticket(id, sees_internal(actor), page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |event| event.id))
    }

    /// The events of `span` the caller may receive, oldest first: what a socket reconnecting
    /// with the id after which it starts missed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn missed_events(
        self,
        actor: &Principal,
        span: Span,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, ServiceError> {
        Ok(self
            .service
            .store
            .events()
            .visible_after(actor.user.id, sees_internal(actor), span, limit)
            .await?)
    }

    /// The dashboard's counts (staff only).
    ///
    /// # Errors
    /// `Forbidden` for customers.
    pub async fn stats(self, actor: &Principal) -> Result<Stats, ServiceError> {
        authorize(actor, Action::WorkQueue)?;
        let since = Stamp::from(Stamp::now().into_inner() - time::Duration::days(29));
        let since_midnight = Stamp::from(since.into_inner().replace_time(time::Time::MIDNIGHT));
        let stats = self
            .service
            .store
            .tickets()
            .stats(actor.user.id, since_midnight)
            .await?;
        let targets = self.service.sla;
        let sla = self
            .service
            .store
            .tickets()
            .sla(
                targets.first_response,
                targets.resolution,
                since_midnight,
                Stamp::now(),
            )
            .await?
            .into_iter()
            .map(|(priority, counts)| SlaFigures {
                priority,
                first_response_target_seconds: targets
                    .of(SlaTarget::FirstResponse, priority)
                    .as_secs_f64(),
                resolution_target_seconds: targets
                    .of(SlaTarget::Resolution, priority)
                    .as_secs_f64(),
                overdue_first_response: counts.overdue_first_response,
                overdue_resolution: counts.overdue_resolution,
                opened_30_days: counts.opened,
                missed_first_response_30_days: counts.missed_first_response,
                missed_resolution_30_days: counts.missed_resolution,
            })
            .collect();
        Ok(Stats {
            by_status: stats.by_status,
            by_priority: stats.by_priority,
            unassigned: stats.unassigned,
            assigned_to_me: stats.assigned_to_viewer,
            created_per_day: stats.created_per_day,
            median_first_response_seconds: stats.median_first_response_seconds,
            median_resolution_seconds: stats.median_resolution_seconds,
            sla,
        })
    }
}
