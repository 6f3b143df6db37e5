//! Ticket use cases: open, read, list and search, change under the workflow's rules, assign,
//! delete, the event log and the dashboard's counts.

mod change;
mod list;
mod open;

pub use change::TicketChanges;
pub(crate) use change::set_status;
pub use list::{Stats, TicketPosition, TicketQuery};
pub(crate) use open::OpenTicket;
pub use open::TicketDraft;
