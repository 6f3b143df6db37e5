//! Widget use cases: the admin's registry of sites, and everything a visitor on those sites
//! does — open a conversation, read and answer it, see published FAQs.
//!
//! A visitor is known only by the visitor token issued with their first ticket: it is bound to
//! its widget and grants exactly the tickets opened with it. An email typed into the widget
//! proves nothing; an identity hash (HMAC-SHA256 of the normalised email — as `Email` keeps it
//! — with the widget's identity secret, computed by the site's backend) proves it, and then the
//! visitor may also see that customer's earlier tickets. A visitor is never staff: a staff
//! address is refused, and a visitor speaks with a customer's rights whatever the account's
//! role becomes.

use crate::Service;

mod conversation;
mod registry;
mod visitor;

pub use conversation::VisitorTicketDraft;
pub use registry::WidgetInput;
pub use visitor::Visitor;

/// The admin's registry of widgets; from [`Service::widgets`].
#[derive(Clone, Copy)]
pub struct Widgets<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The admin's registry of widgets.
    pub fn widgets(&self) -> Widgets<'_> {
        Widgets { service: self }
    }
}

/// What a widget's visitors do: open a conversation, read and answer it, see FAQs; from [`Service::visitors`].
#[derive(Clone, Copy)]
pub struct Visitors<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// What a widget's visitors do: open a conversation, read and answer it, see FAQs.
    pub fn visitors(&self) -> Visitors<'_> {
        Visitors { service: self }
    }
}
