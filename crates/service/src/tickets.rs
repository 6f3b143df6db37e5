//! Ticket use cases: open, read, list and search, change under the workflow's rules, assign,
//! delete, the event log and the dashboard's counts.

use growdesk_domain::{
    EventKind, MessageBody, Priority, Role, Subject, Tags, Ticket, TicketEvent, TicketSource,
    TicketStatus, User, ValidationErrors,
};
use growdesk_store::{
    AssigneeFilter, Changed, Created, FeedEvent, IdempotencyClaim, NewEvent, NewTicket, SortKey,
    Stamp, TicketChange, TicketCursor, TicketFilter, TicketSort, TicketState, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::accounts::NewAccount;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize, can_see, sees_internal, visible};
use crate::{Principal, Service, ServiceError, idempotency, notifications, search};

/// A ticket to open.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketDraft {
    pub subject: String,
    /// The first message.
    pub description: String,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub source: Option<TicketSource>,
    /// Staff only: open it for this existing user…
    pub requester_id: Option<Uuid>,
    /// …or for this email, creating a customer when it is new.
    pub requester_email: Option<String>,
    /// The new customer's name (with `requester_email`).
    pub requester_name: Option<String>,
}

/// Changes to a ticket; `None` leaves a field alone. `category_id: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub category_id: Option<Option<Uuid>>,
    pub tags: Option<Vec<String>>,
}

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

/// A validated ticket about to be stored.
pub(crate) struct OpenTicket<'a> {
    pub(crate) actor: &'a growdesk_domain::User,
    pub(crate) requester_id: Uuid,
    pub(crate) subject: String,
    pub(crate) description: String,
    pub(crate) priority: Priority,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) tags: Vec<String>,
    pub(crate) source: TicketSource,
    pub(crate) visitor_id: Option<Uuid>,
    /// A widget's new visitor (named by `visitor_id`), recorded only if the ticket is.
    pub(crate) new_visitor: Option<Visitor>,
    pub(crate) context: serde_json::Value,
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
}

/// Records `kind` with `from` and `to` when they differ.
fn change_event<T: Serialize + PartialEq>(
    events: &mut Vec<NewEvent>,
    ticket: &Ticket,
    actor: Uuid,
    kind: EventKind,
    from: &T,
    to: &T,
) {
    if from != to {
        events.push(NewEvent::public(
            ticket.id,
            kind,
            Some(actor),
            json!({"from": from, "to": to}),
        ));
    }
}

/// Moves `state` to `to`, keeping the resolution timestamps right: they are set when a ticket
/// becomes resolved or closed and cleared when it is reopened.
pub(crate) fn set_status(state: &mut TicketState, to: TicketStatus, now: Stamp) {
    let from = state.status;
    if from == to {
        return;
    }
    match to {
        TicketStatus::Resolved => {
            state.resolved_at = Some(now);
            state.closed_at = None;
        }
        TicketStatus::Closed => {
            state.resolved_at = state.resolved_at.or(Some(now));
            state.closed_at = Some(now);
        }
        _ => {
            state.resolved_at = None;
            state.closed_at = None;
        }
    }
    state.status = to;
}

impl Service {
    /// Opens a ticket. Customers open their own; staff may open one on behalf of a user given
    /// by id or by email (creating a customer for a new email).
    ///
    /// # Errors
    /// `Validation` for bad fields or unknown references; `Forbidden` for requester fields
    /// from a customer.
    pub async fn create_ticket(
        &self,
        actor: &Principal,
        draft: TicketDraft,
        idempotency_key: Option<&str>,
    ) -> Result<Ticket, ServiceError> {
        let staff = sees_internal(actor);
        if !staff
            && (draft.requester_id.is_some()
                || draft.requester_email.is_some()
                || draft.requester_name.is_some())
        {
            return Err(ServiceError::Forbidden(
                "customers open tickets for themselves",
            ));
        }
        let mut errors = ValidationErrors::default();
        let subject = errors.check("subject", Subject::parse(&draft.subject));
        let description = errors.check("description", MessageBody::parse(&draft.description));
        let tags = errors.check("tags", Tags::parse(&draft.tags));
        let source = draft.source.unwrap_or(if staff {
            TicketSource::Api
        } else {
            TicketSource::Web
        });
        if source == TicketSource::Import && !staff {
            errors.add("source", "only staff may mark a ticket as imported");
        }
        if draft.requester_id.is_some() && draft.requester_email.is_some() {
            errors.add(
                "requester_email",
                "give requester_id or requester_email, not both",
            );
        }
        if let Some(category) = draft.category_id {
            self.check_category(category, &mut errors).await?;
        }
        let claim = idempotency::claim(actor.user.id, idempotency_key, "create_ticket", &draft)?;
        let (subject, description, tags) = errors.into_result(|| (subject, description, tags))?;
        let (Some(subject), Some(description), Some(tags)) = (subject, description, tags) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let requester_id = self.requester_for(actor, &draft).await?;
        let ticket = OpenTicket {
            actor: &actor.user,
            requester_id,
            subject: subject.into_inner(),
            description: description.into_inner(),
            priority: draft.priority.unwrap_or_default(),
            category_id: draft.category_id,
            tags: tags.into_inner(),
            source,
            visitor_id: None,
            new_visitor: None,
            context: serde_json::Value::Null,
        };
        self.open_ticket(ticket, claim.as_ref()).await
    }

    /// Stores a validated ticket with its notifications, honouring an idempotency claim.
    pub(crate) async fn open_ticket(
        &self,
        ticket: OpenTicket<'_>,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Ticket, ServiceError> {
        let id = Uuid::now_v7();
        let extra_events = self
            .new_ticket_notifications(id, &ticket.subject, ticket.actor)
            .await?;
        let new = NewTicket {
            id,
            extra_events,
            subject: ticket.subject,
            priority: ticket.priority,
            category_id: ticket.category_id,
            requester_id: ticket.requester_id,
            source: ticket.source,
            tags: ticket.tags,
            actor_id: ticket.actor.id,
            description: ticket.description,
            visitor_id: ticket.visitor_id,
            context: ticket.context,
        };
        let id = match self
            .store
            .create_ticket_with_visitor(new, ticket.new_visitor.as_ref(), claim)
            .await?
        {
            Created::New(id) => {
                tracing::info!(ticket_id = %id, by = %ticket.actor.id, "ticket opened");
                id
            }
            Created::Replayed(id) => id,
            Created::KeyReused => return Err(idempotency::reused()),
        };
        self.store
            .ticket(id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))
    }

    async fn requester_for(
        &self,
        actor: &Principal,
        draft: &TicketDraft,
    ) -> Result<Uuid, ServiceError> {
        if let Some(id) = draft.requester_id {
            return match self.store.user(id).await? {
                Some(user) if user.active => Ok(user.id),
                _ => Err(ValidationErrors::single("requester_id", "is not an active user").into()),
            };
        }
        match &draft.requester_email {
            Some(email) => self
                .customer_for_email(email, draft.requester_name.as_deref(), "requester")
                .await
                .map(|user| user.id),
            None => Ok(actor.user.id),
        }
    }

    /// The active user with `email`, or a new customer with it (named `name`). Errors name
    /// `{field}_email` and `{field}_name`.
    pub(crate) async fn customer_for_email(
        &self,
        email: &str,
        name: Option<&str>,
        field: &str,
    ) -> Result<User, ServiceError> {
        let email_field = format!("{field}_email");
        let parsed = growdesk_domain::Email::parse(email)
            .map_err(|error| ValidationErrors::single(&email_field, error.to_string()))?;
        if let Some(existing) = self
            .store
            .user_credentials_by_email(parsed.as_str())
            .await?
        {
            return if existing.user.active {
                Ok(existing.user)
            } else {
                Err(ValidationErrors::single(&email_field, "belongs to a deactivated user").into())
            };
        }
        let account = NewAccount {
            email: email.to_owned(),
            name: name.map(str::to_owned),
            role: Role::Customer,
            password: None,
        };
        match self.create_user_as_operator(account).await {
            Ok(user) => Ok(user),
            // Created by a concurrent request a moment ago.
            Err(ServiceError::Conflict(_)) => self
                .store
                .user_credentials_by_email(parsed.as_str())
                .await?
                .map(|credentials| credentials.user)
                .ok_or_else(|| {
                    ServiceError::Conflict("the requester could not be created".to_owned())
                }),
            Err(ServiceError::Validation(errors)) => {
                let message = errors
                    .fields()
                    .first()
                    .map_or_else(String::new, |field| field.message.clone());
                Err(ValidationErrors::single(&format!("{field}_name"), message).into())
            }
            Err(other) => Err(other),
        }
    }

    async fn check_category(
        &self,
        id: Uuid,
        errors: &mut ValidationErrors,
    ) -> Result<(), ServiceError> {
        match self.store.category(id).await? {
            Some(category) if category.active => {}
            Some(_) => errors.add("category_id", "is an inactive category"),
            None => errors.add("category_id", "is not a category"),
        }
        Ok(())
    }

    /// One ticket the caller may see.
    ///
    /// # Errors
    /// `NotFound` for a missing ticket or one the caller may not see.
    pub async fn get_ticket(&self, actor: &Principal, id: Uuid) -> Result<Ticket, ServiceError> {
        visible(actor, self.store.ticket(id).await?)
    }

    /// A page of the tickets the caller may see, filtered, searched and sorted. Customers only
    /// ever see their own, whatever they ask for.
    ///
    /// # Errors
    /// `Validation` for a bad assignee filter, tag or cursor.
    pub async fn list_tickets(
        &self,
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
        };
        let rows = self
            .store
            .list_tickets(
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

    /// Changes a ticket. Customers may only close their own; staff change any field within
    /// the workflow. With `if_match`, a ticket changed since that version is refused.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for fields the role may not set; `Validation`; `Conflict` for a
    /// status move the workflow forbids; `PreconditionFailed` for a stale `if_match`.
    pub async fn update_ticket(
        &self,
        actor: &Principal,
        id: Uuid,
        changes: TicketChanges,
        if_match: Option<i64>,
    ) -> Result<Ticket, ServiceError> {
        let staff = sees_internal(actor);
        if !staff {
            let only_status = changes.subject.is_none()
                && changes.priority.is_none()
                && changes.category_id.is_none()
                && changes.tags.is_none();
            if !only_status {
                // Decide visibility first: a foreign ticket is not found, not forbidden.
                visible(actor, self.store.ticket(id).await?)?;
                return Err(ServiceError::Forbidden(
                    "customers may only close their ticket",
                ));
            }
        }
        let mut errors = ValidationErrors::default();
        let subject = changes
            .subject
            .as_deref()
            .and_then(|subject| errors.check("subject", Subject::parse(subject)));
        let tags = changes
            .tags
            .as_deref()
            .and_then(|tags| errors.check("tags", Tags::parse(tags)));
        if let Some(Some(category)) = changes.category_id {
            self.check_category(category, &mut errors).await?;
        }
        errors.into_result(|| ())?;
        let subject = subject.map(Subject::into_inner);
        let tags = tags.map(Tags::into_inner);

        self.rewrite_ticket(actor, id, if_match, |ticket, state, events| {
            let actor_id = actor.user.id;
            if let Some(to) = changes.status {
                ticket
                    .status
                    .can_move(to, actor.user.role)
                    .map_err(|error| ServiceError::Conflict(error.to_string()))?;
                change_event(
                    events,
                    ticket,
                    actor_id,
                    EventKind::StatusChanged,
                    &ticket.status,
                    &to,
                );
                set_status(state, to, Stamp::now());
            }
            if let Some(subject) = &subject {
                change_event(
                    events,
                    ticket,
                    actor_id,
                    EventKind::SubjectChanged,
                    &ticket.subject,
                    subject,
                );
                state.subject.clone_from(subject);
            }
            if let Some(priority) = changes.priority {
                change_event(
                    events,
                    ticket,
                    actor_id,
                    EventKind::PriorityChanged,
                    &ticket.priority,
                    &priority,
                );
                state.priority = priority;
            }
            if let Some(category) = changes.category_id {
                change_event(
                    events,
                    ticket,
                    actor_id,
                    EventKind::CategoryChanged,
                    &ticket.category_id,
                    &category,
                );
                state.category_id = category;
            }
            if let Some(tags) = tags.as_ref().filter(|tags| **tags != ticket.tags) {
                change_event(
                    events,
                    ticket,
                    actor_id,
                    EventKind::TagsChanged,
                    &ticket.tags,
                    tags,
                );
                state.tags = Some(tags.clone());
            }
            Ok(())
        })
        .await
    }

    /// Assigns a ticket to an active agent or admin, or unassigns it (`None`). Taking a ticket
    /// (assigning it to oneself) that someone else holds is refused, so of many agents taking
    /// one ticket at once exactly one gets it; assigning it to someone else reassigns it.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for customers; `Validation` for an assignee who is not active
    /// staff; `Conflict` when taking a ticket someone else holds; `PreconditionFailed`.
    pub async fn assign_ticket(
        &self,
        actor: &Principal,
        id: Uuid,
        assignee: Option<Uuid>,
        if_match: Option<i64>,
    ) -> Result<Ticket, ServiceError> {
        if !sees_internal(actor) {
            visible(actor, self.store.ticket(id).await?)?;
            return Err(ServiceError::Forbidden("only staff assign tickets"));
        }
        if let Some(assignee) = assignee {
            match self.store.user(assignee).await? {
                Some(user) if user.active && user.role.is_staff() => {}
                _ => {
                    return Err(ValidationErrors::single(
                        "assignee_id",
                        "is not an active agent or admin",
                    )
                    .into());
                }
            }
        }
        self.rewrite_ticket(actor, id, if_match, |ticket, state, events| {
            let taking = assignee == Some(actor.user.id);
            if taking
                && ticket
                    .assignee_id
                    .is_some_and(|holder| holder != actor.user.id)
            {
                return Err(ServiceError::Conflict(
                    "the ticket is already assigned to someone else".to_owned(),
                ));
            }
            change_event(
                events,
                ticket,
                actor.user.id,
                EventKind::AssigneeChanged,
                &ticket.assignee_id,
                &assignee,
            );
            events.extend(notifications::assigned(ticket, assignee, &actor.user));
            state.assignee_id = assignee;
            Ok(())
        })
        .await
    }

    /// Lets `change` compute the ticket's new state and events from the ticket as it is under
    /// its lock, and writes them; with `if_match`, a ticket at another version is refused.
    async fn rewrite_ticket(
        &self,
        actor: &Principal,
        id: Uuid,
        if_match: Option<i64>,
        change: impl FnOnce(&Ticket, &mut TicketState, &mut Vec<NewEvent>) -> Result<(), ServiceError>,
    ) -> Result<Ticket, ServiceError> {
        let outcome = self
            .store
            .change_ticket(id, None, |ticket| {
                if !can_see(actor, ticket) {
                    return Err(ServiceError::NotFound("ticket"));
                }
                if if_match.is_some_and(|version| version != ticket.version) {
                    return Err(ServiceError::PreconditionFailed);
                }
                let mut state = TicketState::of(ticket);
                let mut events = Vec::new();
                change(ticket, &mut state, &mut events)?;
                Ok(TicketChange {
                    state,
                    events,
                    message: None,
                })
            })
            .await?;
        match outcome {
            Changed::Applied { .. } | Changed::Unchanged => {}
            Changed::Refused(refusal) => return Err(refusal),
            Changed::NotFound | Changed::Replayed(_) | Changed::KeyReused => {
                return Err(ServiceError::NotFound("ticket"));
            }
        }
        self.store
            .ticket(id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))
    }

    /// Deletes a ticket for good (admins only).
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for anyone but admins.
    pub async fn delete_ticket(&self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        visible(actor, self.store.ticket(id).await?)?;
        authorize(actor, Action::DeleteTickets)?;
        if self.store.delete_ticket(id, actor.user.id).await? {
            tracing::info!(ticket_id = %id, by = %actor.user.id, "ticket deleted");
            Ok(())
        } else {
            Err(ServiceError::NotFound("ticket"))
        }
    }

    /// A page of a ticket's event log, oldest first; customers never see events about internal
    /// notes.
    ///
    /// # Errors
    /// `NotFound` for a ticket the caller may not see.
    pub async fn ticket_events(
        &self,
        actor: &Principal,
        id: Uuid,
        page: PageRequest<i64>,
    ) -> Result<Page<TicketEvent>, ServiceError> {
        visible(actor, self.store.ticket(id).await?)?;
        let rows = self
            .store
            .list_ticket_events(id, sees_internal(actor), page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |event| event.id))
    }

    /// The events the caller may receive after event `after`, oldest first: what a socket
    /// reconnecting with that id missed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn missed_events(
        &self,
        actor: &Principal,
        after: i64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, ServiceError> {
        Ok(self
            .store
            .visible_events_after(actor.user.id, sees_internal(actor), after, limit)
            .await?)
    }

    /// The dashboard's counts (staff only).
    ///
    /// # Errors
    /// `Forbidden` for customers.
    pub async fn ticket_stats(&self, actor: &Principal) -> Result<Stats, ServiceError> {
        authorize(actor, Action::WorkQueue)?;
        let since = Stamp::from(Stamp::now().into_inner() - time::Duration::days(29));
        let since_midnight = Stamp::from(since.into_inner().replace_time(time::Time::MIDNIGHT));
        let stats = self
            .store
            .ticket_stats(actor.user.id, since_midnight)
            .await?;
        Ok(Stats {
            by_status: stats.by_status,
            by_priority: stats.by_priority,
            unassigned: stats.unassigned,
            assigned_to_me: stats.assigned_to_viewer,
            created_per_day: stats.created_per_day,
            median_first_response_seconds: stats.median_first_response_seconds,
            median_resolution_seconds: stats.median_resolution_seconds,
        })
    }
}
