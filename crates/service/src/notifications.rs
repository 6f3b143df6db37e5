//! Notifications: who is told what, and the user's inbox.
//!
//! - `assigned`: a ticket was assigned to you (by someone else);
//! - `customer_replied`: the customer replied on a ticket assigned to you;
//! - `new_ticket`: a ticket was opened (staff who opted in with `notify_new_tickets`);
//! - `mentioned`: an internal note names you as `@local-part` of your email (or the whole
//!   email);
//! - `sla_breach`: a ticket you hold (or, unassigned, one an admin answers for) missed its
//!   first-response or resolution target.
//!
//! Each is stored and logged in the same transaction as the change that caused it, so it is
//! pushed live and never lost.

use growdesk_domain::{
    Actor, Notification, NotificationData, NotificationKind, Priority, SlaTarget, Ticket, User,
};
use growdesk_store::{events::NewEvent, jobs::Overdue};
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::{Principal, Service, ServiceError};

/// The caller's notification inbox; from [`Service::notifications`].
#[derive(Clone, Copy)]
pub struct Notifications<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The caller's notification inbox.
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications { service: self }
    }
}

/// The words of `body` that mention someone: `@` followed by an email or its local part.
pub(crate) fn mentions(body: &str) -> Vec<String> {
    let mut handles: Vec<String> = Vec::new();
    for word in body.split_whitespace() {
        let Some(handle) = word.strip_prefix('@') else {
            continue;
        };
        let handle = handle
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if !handle.is_empty() && !handles.contains(&handle) {
            handles.push(handle);
        }
    }
    handles
}

/// What `actor` did to `ticket`, about `message` if any: an assignment, a reply or a mention.
fn about(ticket: &Ticket, actor: &User, message: Option<Uuid>) -> NotificationData {
    NotificationData {
        number: Some(ticket.number),
        subject: ticket.subject.clone(),
        by: Some(by(actor)),
        message_id: message,
        breach: None,
        priority: None,
    }
}

fn by(actor: &User) -> Actor {
    Actor {
        id: actor.id,
        name: actor.name.clone(),
    }
}

/// The notification for the new assignee of `ticket`, unless they assigned it to themselves.
pub(crate) fn assigned(ticket: &Ticket, assignee: Option<Uuid>, actor: &User) -> Option<NewEvent> {
    let assignee = assignee
        .filter(|assignee| *assignee != actor.id && Some(*assignee) != ticket.assignee_id)?;
    Some(NewEvent::notification(
        assignee,
        ticket.id,
        Some(actor.id),
        NotificationKind::Assigned,
        about(ticket, actor, None),
    ))
}

/// The notification for the assignee of `ticket` about a customer's reply.
pub(crate) fn customer_replied(
    ticket: &Ticket,
    message_id: Uuid,
    actor: &User,
) -> Option<NewEvent> {
    let assignee = ticket
        .assignee_id
        .filter(|assignee| *assignee != actor.id)?;
    Some(NewEvent::notification(
        assignee,
        ticket.id,
        Some(actor.id),
        NotificationKind::CustomerReplied,
        about(ticket, actor, Some(message_id)),
    ))
}

/// The notifications telling `recipients` that `ticket` missed `target`.
pub(crate) fn sla_breach(
    ticket: &Overdue,
    target: SlaTarget,
    priority: Priority,
    recipients: Vec<Uuid>,
) -> Vec<NewEvent> {
    let data = NotificationData {
        number: Some(ticket.number),
        subject: ticket.subject.clone(),
        by: None,
        message_id: None,
        breach: Some(target),
        priority: Some(priority),
    };
    recipients
        .into_iter()
        .map(|recipient| {
            NewEvent::notification(
                recipient,
                ticket.id,
                None,
                NotificationKind::SlaBreach,
                data.clone(),
            )
        })
        .collect()
}

impl Notifications<'_> {
    /// Notifications for the staff an internal note mentions.
    pub(crate) async fn for_mentions(
        self,
        ticket: &Ticket,
        message_id: Uuid,
        body: &str,
        actor: &User,
    ) -> Result<Vec<NewEvent>, ServiceError> {
        let handles = mentions(body);
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let staff = self.service.store.users().active_staff().await?;
        let data = about(ticket, actor, Some(message_id));
        Ok(staff
            .iter()
            .filter(|user| user.id != actor.id)
            .filter(|user| {
                let local = user.email.split('@').next().unwrap_or_default();
                handles
                    .iter()
                    .any(|handle| *handle == user.email || handle == local)
            })
            .map(|user| {
                NewEvent::notification(
                    user.id,
                    ticket.id,
                    Some(actor.id),
                    NotificationKind::Mentioned,
                    data.clone(),
                )
            })
            .collect())
    }

    /// Notifications for the staff who want to hear of every new ticket.
    pub(crate) async fn for_new_ticket(
        self,
        ticket_id: Uuid,
        subject: &str,
        actor: &User,
    ) -> Result<Vec<NewEvent>, ServiceError> {
        let listeners = self
            .service
            .store
            .users()
            .staff_notified_of_new_tickets()
            .await?;
        let data = NotificationData {
            number: None,
            subject: subject.to_owned(),
            by: Some(by(actor)),
            message_id: None,
            breach: None,
            priority: None,
        };
        Ok(listeners
            .into_iter()
            .filter(|listener| *listener != actor.id)
            .map(|listener| {
                NewEvent::notification(
                    listener,
                    ticket_id,
                    Some(actor.id),
                    NotificationKind::NewTicket,
                    data.clone(),
                )
            })
            .collect())
    }

    /// A page of the caller's notifications, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        self,
        actor: &Principal,
        unread_only: bool,
        page: PageRequest<Uuid>,
    ) -> Result<Page<Notification>, ServiceError> {
        let rows = self
            .service
            .store
            .notifications()
            .list(actor.user.id, unread_only, page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |notification| {
            notification.id
        }))
    }

    /// Marks one of the caller's notifications read.
    ///
    /// # Errors
    /// `NotFound` for a notification that is not the caller's.
    pub async fn mark_read(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        if self
            .service
            .store
            .notifications()
            .mark_read(actor.user.id, id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("notification"))
        }
    }

    /// Marks all of the caller's notifications read; how many were unread.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_all_read(self, actor: &Principal) -> Result<u64, ServiceError> {
        Ok(self
            .service
            .store
            .notifications()
            .mark_all_read(actor.user.id)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_are_at_words() {
        assert_eq!(
            mentions("ping @Ana, and @bob@example.com. Not me@x or @"),
            ["ana", "bob@example.com"]
        );
        assert!(mentions("no mentions here").is_empty());
    }
}
