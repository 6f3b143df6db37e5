//! Changing a ticket under the workflow's rules: its fields, its assignee, its deletion.

use growdesk_domain::event::{Change, StatusChange};
use growdesk_domain::{Event, Priority, Subject, Tags, Ticket, TicketStatus, ValidationErrors};
use growdesk_store::{
    Stamp,
    events::NewEvent,
    mail::NewOutboundMail,
    tickets::{Changed, TicketChange, TicketState},
};
use uuid::Uuid;

use super::Tickets;
use crate::email::outbound;
use crate::policy::{Action, assignable, authorize, can_see, may_move, sees_internal, visible};
use crate::{Principal, ServiceError, notifications};

/// Changes to a ticket; `None` leaves a field alone. `category_id: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub category_id: Option<Option<Uuid>>,
    pub tags: Option<Vec<String>>,
}

/// Records the change `made` from `from` to `to` when they differ.
fn change_event<T: PartialEq + Clone>(
    events: &mut Vec<NewEvent>,
    ticket: &Ticket,
    actor: Uuid,
    made: impl FnOnce(Change<T>) -> Event,
    from: &T,
    to: &T,
) {
    if from != to {
        let change = Change {
            from: from.clone(),
            to: to.clone(),
        };
        events.push(NewEvent::public(ticket.id, Some(actor), made(change)));
    }
}

/// A status change someone made (rather than the auto-close job).
pub(crate) fn status_changed(change: Change<TicketStatus>) -> Event {
    Event::StatusChanged(StatusChange {
        from: change.from,
        to: change.to,
        automatic: false,
    })
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

impl Tickets<'_> {
    /// Changes a ticket. Customers may only close their own; staff change any field within
    /// the workflow. With `if_match`, a ticket changed since that version is refused.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for fields the role may not set; `Validation`; `Conflict` for a
    /// status move the workflow forbids; `PreconditionFailed` for a stale `if_match`.
    pub async fn update(
        self,
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
                visible(actor, self.service.store.tickets().get(id).await?)?;
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
        let notice = self.resolved_notice(actor, id, changes.status).await?;

        self.rewrite(actor, id, if_match, notice, |ticket, state, events| {
            let actor_id = actor.user.id;
            if let Some(to) = changes.status {
                may_move(actor.user.role, ticket.status, to)
                    .map_err(|error| ServiceError::Conflict(error.to_string()))?;
                change_event(
                    events,
                    ticket,
                    actor_id,
                    status_changed,
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
                    Event::SubjectChanged,
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
                    Event::PriorityChanged,
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
                    Event::CategoryChanged,
                    &ticket.category_id,
                    &category,
                );
                state.category_id = category;
            }
            if let Some(tags) = tags.filter(|tags| tags.as_slice() != ticket.tags) {
                change_event(
                    events,
                    ticket,
                    actor_id,
                    Event::TagsChanged,
                    &ticket.tags,
                    &tags.as_slice().to_vec(),
                );
                state.tags = Some(tags);
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
    pub async fn assign(
        self,
        actor: &Principal,
        id: Uuid,
        assignee: Option<Uuid>,
        if_match: Option<i64>,
    ) -> Result<Ticket, ServiceError> {
        if !sees_internal(actor) {
            visible(actor, self.service.store.tickets().get(id).await?)?;
            return Err(ServiceError::Forbidden("only staff assign tickets"));
        }
        if let Some(assignee) = assignee {
            match self.service.store.users().get(assignee).await? {
                Some(user) if assignable(&user) => {}
                _ => {
                    return Err(ValidationErrors::single(
                        "assignee_id",
                        "is not an active agent or admin",
                    )
                    .into());
                }
            }
        }
        self.rewrite(actor, id, if_match, None, |ticket, state, events| {
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
                Event::AssigneeChanged,
                &ticket.assignee_id,
                &assignee,
            );
            events.extend(notifications::assigned(ticket, assignee, &actor.user));
            state.assignee_id = assignee;
            Ok(())
        })
        .await
    }

    /// The "resolved" notice staff resolving ticket `id` sends, made before the change since
    /// rendering reads the store; queued only if the change does resolve the ticket.
    async fn resolved_notice(
        self,
        actor: &Principal,
        id: Uuid,
        to: Option<TicketStatus>,
    ) -> Result<Option<NewOutboundMail>, ServiceError> {
        if to != Some(TicketStatus::Resolved) || !sees_internal(actor) {
            return Ok(None);
        }
        match self.service.store.tickets().get(id).await? {
            Some(ticket) if ticket.status != TicketStatus::Resolved => {
                outbound::resolved(self.service, &ticket, &actor.user).await
            }
            _ => Ok(None),
        }
    }

    /// Lets `change` compute the ticket's new state and events from the ticket as it is under
    /// its lock, and writes them; with `if_match`, a ticket at another version is refused.
    /// `notice` (the "resolved" notice) is queued when the change resolves the ticket.
    async fn rewrite(
        self,
        actor: &Principal,
        id: Uuid,
        if_match: Option<i64>,
        notice: Option<NewOutboundMail>,
        change: impl FnOnce(&Ticket, &mut TicketState, &mut Vec<NewEvent>) -> Result<(), ServiceError>,
    ) -> Result<Ticket, ServiceError> {
        let outcome = self
            .service
            .store
            .tickets()
            .change(id, None, |ticket| {
                if !can_see(actor, ticket) {
                    return Err(ServiceError::NotFound("ticket"));
                }
                if if_match.is_some_and(|version| version != ticket.version) {
                    return Err(ServiceError::PreconditionFailed);
                }
                let mut state = TicketState::of(ticket);
                let mut events = Vec::new();
                change(ticket, &mut state, &mut events)?;
                let resolves = ticket.status != TicketStatus::Resolved
                    && state.status == TicketStatus::Resolved;
                let mail = notice.filter(|_| resolves).into_iter().collect();
                Ok(TicketChange {
                    state,
                    events,
                    message: None,
                    notes: Vec::new(),
                    mail,
                    inbound: None,
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
        self.service
            .store
            .tickets()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))
    }

    /// Deletes a ticket for good (admins only).
    ///
    /// # Errors
    /// `NotFound`; `Forbidden` for anyone but admins.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        visible(actor, self.service.store.tickets().get(id).await?)?;
        authorize(actor, Action::DeleteTickets)?;
        if self
            .service
            .store
            .tickets()
            .delete(id, actor.user.id)
            .await?
        {
            tracing::info!(ticket_id = %id, by = %actor.user.id, "ticket deleted");
            Ok(())
        } else {
            Err(ServiceError::NotFound("ticket"))
        }
    }
}
