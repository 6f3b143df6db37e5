//! Each staff member's read marks: opening a ticket marks it read for them, and the ticket list
//! and the ticket say whether someone else has written in public since (`Ticket::unread`).

use uuid::Uuid;

use super::Tickets;
use crate::policy::{Action, authorize, visible};
use crate::{Principal, ServiceError};

impl Tickets<'_> {
    /// Marks a ticket read by the caller up to its latest event (staff only); marking it again
    /// changes nothing.
    ///
    /// # Errors
    /// `NotFound` for a missing ticket or one the caller may not see; `Forbidden` for customers.
    pub async fn mark_read(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        // Decide visibility first: a foreign ticket is not found, not forbidden.
        visible(actor, self.service.store.tickets().get(id).await?)?;
        authorize(actor, Action::WorkQueue)?;
        self.service
            .store
            .tickets()
            .mark_read(id, actor.user.id)
            .await?;
        Ok(())
    }
}
