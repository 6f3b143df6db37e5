//! Ticket use cases: open, read, list and search, change under the workflow's rules, assign,
//! delete, the event log, the dashboard's counts and each agent's read marks.

use crate::Service;

mod change;
mod deliveries;
mod list;
mod open;
mod reads;

pub use change::TicketChanges;
pub(crate) use change::{set_status, status_changed};
pub use deliveries::DeliveryPosition;
pub use list::{SlaFigures, Stats, TicketPosition, TicketQuery};
pub use open::TicketDraft;

/// Ticket use cases; from [`Service::tickets`].
#[derive(Clone, Copy)]
pub struct Tickets<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// Ticket use cases.
    pub fn tickets(&self) -> Tickets<'_> {
        Tickets { service: self }
    }
}
