//! Listening for the signals that stop a long-running command.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::StartError;

/// A token cancelled when the process is asked to stop: SIGINT (Ctrl-C) or SIGTERM. The
/// handlers are registered before this returns, not when a task first runs: until then either
/// signal would kill the process, so whatever tells the world the process is up (a banner, a
/// readiness log line, an accepting listener) must come after this call.
///
/// # Errors
/// The operating system refused a handler.
pub fn cancel_on_shutdown_signal() -> Result<CancellationToken, StartError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(StartError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(StartError::Signals)?;
    let shutdown = CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received; shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
        }
        cancel.cancel();
    });
    Ok(shutdown)
}
