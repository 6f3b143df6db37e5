//! The mail a ticket caused, for staff to see whether each reached the requester.

use growdesk_domain::{Delivery, ValidationErrors};
use growdesk_store::Stamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Tickets;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize, visible};
use crate::{Principal, ServiceError};

/// A position in a ticket's mail: when the mail was queued (Unix microseconds), and its id.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DeliveryPosition {
    at: i64,
    id: Uuid,
}

impl DeliveryPosition {
    fn of(delivery: &Delivery) -> Self {
        Self {
            at: Stamp::from(delivery.created_at).unix_micros(),
            id: delivery.mail_id,
        }
    }
}

impl Tickets<'_> {
    /// A page of a ticket's mails (replies, acknowledgements, resolved notices), newest first;
    /// staff only.
    ///
    /// # Errors
    /// `NotFound` for a missing ticket or one the caller may not see; `Forbidden` for customers;
    /// `Validation` for a cursor whose time no mail can have.
    pub async fn deliveries(
        self,
        actor: &Principal,
        id: Uuid,
        page: PageRequest<DeliveryPosition>,
    ) -> Result<Page<Delivery>, ServiceError> {
        // Decide visibility first: a foreign ticket is not found, not forbidden.
        visible(actor, self.service.store.tickets().get(id).await?)?;
        authorize(actor, Action::WorkQueue)?;
        let after = match page.after {
            Some(position) => Some((
                Stamp::from_unix_micros(position.at).ok_or_else(|| {
                    ValidationErrors::single("cursor", "is not a cursor this list issued")
                })?,
                position.id,
            )),
            None => None,
        };
        let rows = self
            .service
            .store
            .mail()
            .page_of_ticket(id, after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, DeliveryPosition::of))
    }
}
