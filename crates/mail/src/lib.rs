//! Email as GrowDesk speaks it: reading what customers send, writing what we send, and the IMAP
//! and SMTP conversations that carry both.

pub mod imap;
pub mod inbound;
pub mod outbound;
pub mod smtp;
#[cfg(feature = "testkit")]
pub mod testkit;

mod error;

pub use error::{ImapError, MailError, SendError};
