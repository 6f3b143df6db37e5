//! Notifications: who is told what, and the user's inbox.
//!
//! - `assigned`: a ticket was assigned to you (by someone else);
//! - `customer_replied`: the customer replied on a ticket assigned to you;
//! - `new_ticket`: a ticket was opened (staff who opted in with `notify_new_tickets`);
//! - `mentioned`: an internal note names you as `@local-part` of your email (or the whole
//!   email).
//!
//! Each is stored and logged in the same transaction as the change that caused it, so it is
//! pushed live and never lost.

use growdesk_domain::{Notification, Ticket, User};
use growdesk_store::NewEvent;
use serde_json::json;
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::{Principal, Service, ServiceError};

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

fn about(ticket: &Ticket, actor: &User) -> serde_json::Value {
    json!({"number": ticket.number, "subject": ticket.subject, "by": {"id": actor.id, "name": actor.name}})
}

/// The notification for the new assignee of `ticket`, unless they assigned it to themselves.
pub(crate) fn assigned(ticket: &Ticket, assignee: Option<Uuid>, actor: &User) -> Option<NewEvent> {
    let assignee = assignee
        .filter(|assignee| *assignee != actor.id && Some(*assignee) != ticket.assignee_id)?;
    Some(NewEvent::notification(
        assignee,
        ticket.id,
        Some(actor.id),
        "assigned",
        about(ticket, actor),
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
    let mut data = about(ticket, actor);
    data["message_id"] = json!(message_id);
    Some(NewEvent::notification(
        assignee,
        ticket.id,
        Some(actor.id),
        "customer_replied",
        data,
    ))
}

impl Service {
    /// Notifications for the staff an internal note mentions.
    pub(crate) async fn mention_notifications(
        &self,
        ticket: &Ticket,
        message_id: Uuid,
        body: &str,
        actor: &User,
    ) -> Result<Vec<NewEvent>, ServiceError> {
        let handles = mentions(body);
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let staff = self.store.active_staff().await?;
        let mut data = about(ticket, actor);
        data["message_id"] = json!(message_id);
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
                    "mentioned",
                    data.clone(),
                )
            })
            .collect())
    }

    /// Notifications for the staff who want to hear of every new ticket.
    pub(crate) async fn new_ticket_notifications(
        &self,
        ticket_id: Uuid,
        subject: &str,
        actor: &User,
    ) -> Result<Vec<NewEvent>, ServiceError> {
        let listeners = self.store.staff_notified_of_new_tickets().await?;
        let data = json!({"subject": subject, "by": {"id": actor.id, "name": actor.name}});
        Ok(listeners
            .into_iter()
            .filter(|listener| *listener != actor.id)
            .map(|listener| {
                NewEvent::notification(
                    listener,
                    ticket_id,
                    Some(actor.id),
                    "new_ticket",
                    data.clone(),
                )
            })
            .collect())
    }

    /// A page of the caller's notifications, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_notifications(
        &self,
        actor: &Principal,
        unread_only: bool,
        page: PageRequest<Uuid>,
    ) -> Result<Page<Notification>, ServiceError> {
        let rows = self
            .store
            .list_notifications(actor.user.id, unread_only, page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |notification| {
            notification.id
        }))
    }

    /// Marks one of the caller's notifications read.
    ///
    /// # Errors
    /// `NotFound` for a notification that is not the caller's.
    pub async fn mark_notification_read(
        &self,
        actor: &Principal,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        if self.store.mark_notification_read(actor.user.id, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("notification"))
        }
    }

    /// Marks all of the caller's notifications read; how many were unread.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_all_notifications_read(
        &self,
        actor: &Principal,
    ) -> Result<u64, ServiceError> {
        Ok(self
            .store
            .mark_all_notifications_read(actor.user.id)
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
