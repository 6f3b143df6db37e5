//! The mail a ticket caused, for staff to see whether each reached the requester.

use growdesk_domain::Delivery;
use uuid::Uuid;

use super::Tickets;
use crate::policy::{Action, authorize, visible};
use crate::{Principal, ServiceError};

/// How many of a ticket's mails are shown: a ticket that mailed for days (a loop that ran until
/// it was stopped) must not make every read of it longer.
const DELIVERIES_SHOWN: u32 = 100;

impl Tickets<'_> {
    /// The newest `DELIVERIES_SHOWN` mails of a ticket (replies, acknowledgements, resolved
    /// notices), newest first; staff only.
    ///
    /// # Errors
    /// `NotFound` for a missing ticket or one the caller may not see; `Forbidden` for customers.
    pub async fn deliveries(
        self,
        actor: &Principal,
        id: Uuid,
    ) -> Result<Vec<Delivery>, ServiceError> {
        // Decide visibility first: a foreign ticket is not found, not forbidden.
        visible(actor, self.service.store.tickets().get(id).await?)?;
        authorize(actor, Action::WorkQueue)?;
        let mail = self.service.store.mail();
        Ok(mail.latest_of_ticket(id, DELIVERIES_SHOWN).await?)
    }
}
