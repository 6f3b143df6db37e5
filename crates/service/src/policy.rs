//! Who may do what. Handlers and use cases never compare roles themselves; they ask here, so
//! one table of rules serves every route (and, later, the WebSocket and the widget).
//!
//! | Action | admin | agent | customer |
//! |---|---|---|---|
//! | manage users, categories, widgets, mailboxes and email templates; delete tickets | yes | no | no |
//! | read and write FAQs (all of them) | yes | yes | no |
//! | see the whole queue, stats, the active staff; assign; internal notes; change any ticket field | yes | yes | no |
//! | see a ticket, its public messages and events | yes | yes | own tickets only |
//! | open a ticket, reply, close a ticket | yes | yes | own tickets only |
//! | move a ticket's status as the workflow allows | yes | yes | close only |
//! | hold tickets (be assigned), be told of every new ticket, show as a ticket's viewer | yes | yes | no |
//! | be told of unassigned tickets' missed service-level targets | yes | no | no |
//! | keep personal saved views; use the shared ones | yes | yes | no |
//! | create, change and delete shared saved views | yes | no | no |
//! | open a conversation in a chat widget | no | no | yes |
//!
//! A ticket a customer may not see does not exist for them: the answer is 404, never 403; nor
//! does another agent's personal saved view, for anyone, admins included. The
//! desk always keeps an active admin: the last one is neither demoted nor deactivated.

use growdesk_domain::{Role, Ticket, TicketEvent, TicketStatus, TransitionError, User};
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
    /// See every ticket, the queue's stats, who works on what, and the active staff.
    WorkQueue,
    /// Assign tickets and write internal notes.
    HandleTickets,
    /// Delete tickets for good.
    DeleteTickets,
    /// Register and configure chat widgets.
    ManageWidgets,
    /// Configure webhooks and read their delivery log.
    ManageWebhooks,
    /// Ask to be told of every new ticket.
    FollowNewTickets,
    /// Keep personal saved views, and use the shared ones.
    KeepPersonal,
    /// Create, change and delete the saved views shared with every agent.
    ManageShared,
    /// Configure mailboxes and the wording of the mail GrowDesk sends.
    ManageEmail,
}

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::ManageUsers
        | Action::ManageCategories
        | Action::DeleteTickets
        | Action::ManageWidgets
        | Action::ManageWebhooks
        | Action::ManageShared
        | Action::ManageEmail => role == Role::Admin,
        Action::ManageFaqs
        | Action::WorkQueue
        | Action::HandleTickets
        | Action::FollowNewTickets
        | Action::KeepPersonal => role.is_staff(),
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

/// Whether `role` may move a ticket from `from` to `to`: customers may only close their
/// ticket (or leave its status as it is); staff make any move the workflow allows.
///
/// # Errors
/// Why the move is refused.
pub fn may_move(role: Role, from: TicketStatus, to: TicketStatus) -> Result<(), TransitionError> {
    if from != to && to != TicketStatus::Closed && !role.is_staff() {
        return Err(TransitionError::CustomerMayOnlyClose);
    }
    from.can_move(to)
}

/// Whether a user of `role` may hold tickets: only staff work on them.
pub fn may_hold_tickets(role: Role) -> bool {
    role.is_staff()
}

/// Whether `user` may be given a ticket now: an active account that may hold tickets.
pub fn assignable(user: &User) -> bool {
    user.active && may_hold_tickets(user.role)
}

/// Whether `user` may write as a chat widget's visitor. Staff may not: a staff address typed
/// (or even proven) in a widget would file the conversation under that account and speak for
/// it.
pub fn may_write_as_visitor(user: &User) -> bool {
    !user.role.is_staff()
}

/// Whether `user` may answer a ticket as staff by mail: an active staff account (staff may see
/// every ticket). That the mail really came from them is proved elsewhere: it must answer a mail
/// we sent to their address about that ticket, since a `From` header is easy to forge.
pub fn answers_by_mail(user: &User) -> bool {
    user.active && allows(user.role, Action::HandleTickets)
}

/// Whether the caller shows among the viewers of the tickets they watch (staff do; customers
/// watch only their own, unseen).
pub fn shows_as_viewer(actor: &Principal) -> bool {
    sees_internal(actor)
}

/// Whether changing `user` to `role` or to `active` takes an active admin away, which needs
/// another active admin to remain.
pub fn removes_an_admin(user: &User, role: Option<Role>, active: Option<bool>) -> bool {
    user.role == Role::Admin
        && user.active
        && (role.is_some_and(|role| role != Role::Admin) || active == Some(false))
}

/// Whether `user` answers for work nobody holds: admins are told when an unassigned ticket
/// misses a service-level target.
pub fn oversees_unassigned(user: &User) -> bool {
    user.role == Role::Admin
}

/// Whether the caller sees something kept by `owner` (`None`: shared with every agent): staff
/// see the shared ones and their own.
pub fn sees_kept(actor: &Principal, owner: Option<Uuid>) -> bool {
    allows(actor.user.role, Action::KeepPersonal)
        && owner.is_none_or(|owner| owner == actor.user.id)
}

/// Refuses a change to something kept by `owner` (`None`: shared) unless the caller may make
/// it: staff change their own, admins the shared ones.
///
/// # Errors
/// `Forbidden` when the role does not allow it.
pub fn authorize_keeping(actor: &Principal, owner: Option<Uuid>) -> Result<(), ServiceError> {
    let action = if owner.is_some() {
        Action::KeepPersonal
    } else {
        Action::ManageShared
    };
    authorize(actor, action)
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
            (FollowNewTickets, [true, true, false]),
            (KeepPersonal, [true, true, false]),
            (ManageShared, [true, false, false]),
            (ManageEmail, [true, false, false]),
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

    #[test]
    fn customers_may_only_close() {
        use TicketStatus::*;
        for from in TicketStatus::ALL {
            assert!(may_move(Role::Customer, from, Closed).is_ok());
            for to in [Open, Pending, InProgress, Resolved] {
                if from != to {
                    assert!(
                        may_move(Role::Customer, from, to).is_err(),
                        "{from} -> {to}"
                    );
                }
            }
        }
    }

    fn user(role: Role, active: bool) -> User {
        User {
            id: Uuid::now_v7(),
            email: "someone@example.com".to_owned(),
            name: "Someone".to_owned(),
            role,
            active,
            notify_new_tickets: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_active_staff_are_given_tickets_and_only_customers_write_in_widgets() {
        assert!(assignable(&user(Role::Agent, true)));
        assert!(assignable(&user(Role::Admin, true)));
        assert!(!assignable(&user(Role::Agent, false)));
        assert!(!assignable(&user(Role::Customer, true)));
        assert!(may_write_as_visitor(&user(Role::Customer, true)));
        assert!(!may_write_as_visitor(&user(Role::Agent, true)));
        assert!(!may_write_as_visitor(&user(Role::Admin, true)));
        assert!(oversees_unassigned(&user(Role::Admin, true)));
        assert!(!oversees_unassigned(&user(Role::Agent, true)));
    }

    #[test]
    fn only_active_staff_answer_by_mail() {
        assert!(answers_by_mail(&user(Role::Agent, true)));
        assert!(answers_by_mail(&user(Role::Admin, true)));
        assert!(!answers_by_mail(&user(Role::Agent, false)));
        assert!(!answers_by_mail(&user(Role::Customer, true)));
    }

    #[test]
    fn an_active_admin_is_taken_away_by_demotion_or_deactivation() {
        let admin = user(Role::Admin, true);
        assert!(removes_an_admin(&admin, Some(Role::Agent), None));
        assert!(removes_an_admin(&admin, None, Some(false)));
        assert!(!removes_an_admin(&admin, Some(Role::Admin), Some(true)));
        assert!(!removes_an_admin(&admin, None, None));
        assert!(!removes_an_admin(
            &user(Role::Admin, false),
            Some(Role::Agent),
            None
        ));
        assert!(!removes_an_admin(
            &user(Role::Agent, true),
            None,
            Some(false)
        ));
    }

    #[test]
    fn staff_move_as_the_workflow_allows() {
        use TicketStatus::*;
        for role in [Role::Agent, Role::Admin] {
            for from in TicketStatus::ALL {
                for to in TicketStatus::ALL {
                    assert_eq!(
                        may_move(role, from, to),
                        from.can_move(to),
                        "{from} -> {to}"
                    );
                }
            }
            assert_eq!(
                may_move(role, Closed, Pending),
                Err(TransitionError::ClosedOnlyReopens)
            );
        }
    }
}
