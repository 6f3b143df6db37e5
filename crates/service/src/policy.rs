//! Who may do what. Handlers and use cases never compare roles themselves; they ask here, so
//! one table of rules serves every route (and, later, the WebSocket and the widget).
//!
//! | Action | admin | agent | customer |
//! |---|---|---|---|
//! | manage users, categories, widgets; delete tickets | yes | no | no |
//! | read and write FAQs (all of them) | yes | yes | no |
//! | see the whole queue, stats; assign; internal notes; change any ticket field | yes | yes | no |
//! | see a ticket, its public messages and events | yes | yes | own tickets only |
//! | open a ticket, reply, close a ticket | yes | yes | own tickets only |
//!
//! A ticket a customer may not see does not exist for them: the answer is 404, never 403.

use growdesk_domain::{Role, Ticket, TicketEvent};
use uuid::Uuid;

use crate::{Principal, ServiceError};

/// Something a signed-in user may try to do, beyond seeing a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List, create, change and deactivate accounts.
    ManageUsers,
    /// Create, change and delete categories.
    ManageCategories,
    /// Read every FAQ (drafts too) and write them.
    ManageFaqs,
    /// See every ticket, the queue's stats, and who works on what.
    WorkQueue,
    /// Assign tickets and write internal notes.
    HandleTickets,
    /// Delete tickets for good.
    DeleteTickets,
    /// Register and configure chat widgets.
    ManageWidgets,
    /// Configure webhooks and read their delivery log.
    ManageWebhooks,
}

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::ManageUsers
        | Action::ManageCategories
        | Action::DeleteTickets
        | Action::ManageWidgets
        | Action::ManageWebhooks => role == Role::Admin,
        Action::ManageFaqs | Action::WorkQueue | Action::HandleTickets => role.is_staff(),
    }
}

/// Refuses `action` unless the caller's current role allows it.
///
/// # Errors
/// `Forbidden` when the role does not allow the action.
pub fn authorize(actor: &Principal, action: Action) -> Result<(), ServiceError> {
    if allows(actor.user.role, action) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "your role does not allow this action",
        ))
    }
}

/// Whether the caller may see `ticket`: staff see all, customers their own.
pub fn can_see(actor: &Principal, ticket: &Ticket) -> bool {
    actor.user.role.is_staff() || ticket.requester.id == actor.user.id
}

/// Whether the caller may see internal notes and the events about them.
pub fn sees_internal(actor: &Principal) -> bool {
    allows(actor.user.role, Action::HandleTickets)
}

/// `ticket` if the caller may see it; otherwise it is not found.
///
/// # Errors
/// `NotFound` for a missing ticket or one the caller may not see.
pub fn visible(actor: &Principal, ticket: Option<Ticket>) -> Result<Ticket, ServiceError> {
    ticket
        .filter(|ticket| can_see(actor, ticket))
        .ok_or(ServiceError::NotFound("ticket"))
}

/// Whether the caller receives a logged event: their own notifications, and the events of
/// tickets they may see (customers: their own tickets' events that are not about internal
/// notes). `requester_id` is the ticket's requester (`None` once it is deleted).
pub fn receives(actor: &Principal, event: &TicketEvent, requester_id: Option<Uuid>) -> bool {
    match event.recipient_id {
        Some(recipient) => recipient == actor.user.id,
        None => sees_internal(actor) || (requester_id == Some(actor.user.id) && !event.internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds() {
        use Action::*;
        let expected = [
            (ManageUsers, [true, false, false]),
            (ManageCategories, [true, false, false]),
            (DeleteTickets, [true, false, false]),
            (ManageWidgets, [true, false, false]),
            (ManageWebhooks, [true, false, false]),
            (ManageFaqs, [true, true, false]),
            (WorkQueue, [true, true, false]),
            (HandleTickets, [true, true, false]),
        ];
        for (action, allowed) in expected {
            for (role, allowed) in [Role::Admin, Role::Agent, Role::Customer]
                .into_iter()
                .zip(allowed)
            {
                assert_eq!(allows(role, action), allowed, "{role} {action:?}");
            }
        }
    }
}
