//! Email as GrowDesk speaks it: reading what customers send, writing what we send, and the IMAP
//! and SMTP conversations that carry both.

pub mod inbound;
