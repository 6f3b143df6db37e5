//! The composition root both binaries share: settings from every layer, logging, signals, and
//! the one place the store, the service, the socket hub and the router are built from them.
//!
//! `growdesk-service` holds the use cases and rules and `growdesk-http` the routes; neither
//! reads a setting, a file or a signal. This crate does, and hands them what they need.

mod assembly;
mod binary;
#[cfg(feature = "testkit")]
pub mod command_line;
pub mod config;
mod error;
pub mod private_file;
mod server;
mod signals;
pub mod signing_key;
mod telemetry;

pub use assembly::{attachment_files, build_service, open_store};
pub use binary::run_binary;
pub use error::StartError;
pub use server::App;
pub use signals::cancel_on_shutdown_signal;
