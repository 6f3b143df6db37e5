//! GrowDesk's domain: the models, enums and validated value types every other layer speaks in.
//!
//! Nothing here does I/O. Values are parsed once at the edge ("parse, don't validate"), so a
//! `Email` or `Password` that exists is known to be well-formed.

pub mod catalog;
pub mod conversation;
pub mod event;
pub mod mail;
pub mod notification;
pub mod text;
pub mod ticket;
pub mod user;
pub mod validation;
pub mod webhook;
pub mod widget;
pub mod workspace;

pub use catalog::{Category, Color, Faq};
pub use conversation::{Assignee, Attachment, Author, Message, Requester, Ticket};
pub use event::{Event, EventKind, NotificationCreated, TicketEvent};
pub use mail::{
    AfterImport, Delivery, DeliveryStatus as MailDeliveryStatus, ImapSettings, MailKind, Mailbox,
    MessageChannel, SmtpSettings, TransportSecurity, is_own_address,
};
pub use notification::{Actor, Notification, NotificationData, NotificationKind};
pub use text::fold_case;
pub use ticket::{
    MessageBody, Priority, SlaTarget, Subject, Tags, TicketSource, TicketStatus, TransitionError,
};
pub use user::{Email, Password, PersonName, Role, User, ValueError};
pub use validation::{FieldError, ValidationErrors};
pub use webhook::{DeliveryStatus, Webhook, WebhookDelivery};
pub use widget::{Widget, WidgetSettings};
