//! Realtime: WebSocket sessions, the hub that fans events out to them, and the relay that
//! feeds the hub from the event log — so every instance delivers every change, in order,
//! exactly once, to exactly those who may see it.
//!
//! - `relay` tails the log (woken by this process's commits, by PostgreSQL `NOTIFY`, and by a
//!   poll for other processes on SQLite) and publishes each event to the hub.
//! - `hub` holds the open sockets: a broadcast channel of signals, connection caps, presence,
//!   and revocation (closing a user's sockets when their session ends).
//! - `session` runs one socket: authentication happened before the upgrade; it sends what the
//!   client missed since its last event id, then live events it may see, and takes chat,
//!   typing and subscription frames.
//! - `frames` is the wire format (JSON), documented in the OpenAPI components.

pub mod frames;
pub mod hub;
pub mod relay;
pub mod session;

pub use hub::{Hub, HubLimits, Registration, RegistrationRefused};
