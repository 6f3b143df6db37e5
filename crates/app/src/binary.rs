//! What both binaries do around their command: settings, logging, the runtime, the exit code.

use std::future::Future;
use std::process::ExitCode;

use crate::config::{CommonArgs, Settings};
use crate::telemetry;

/// Loads the settings from every layer (`extra` holds the binary's own flags), starts logging,
/// warns about unknown `GROWDESK_*` variables, runs `command` on a multi-threaded runtime, and
/// turns its outcome into the exit code. Errors go to standard error, prefixed with `program`.
pub fn run_binary<Command, Outcome>(
    program: &str,
    common: &CommonArgs,
    extra: impl serde::Serialize,
    command: Command,
) -> ExitCode
where
    Command: FnOnce(Settings) -> Outcome,
    Outcome: Future<Output = Result<(), String>>,
{
    let (settings, unknown) = match common.settings(extra) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{program}: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&settings.log_level, settings.log_format);
    for name in unknown {
        tracing::warn!(variable = %name, "unknown GROWDESK_ variable ignored (a typo?)");
    }
    let outcome = tokio::runtime::Runtime::new()
        .map_err(|error| format!("cannot start the async runtime: {error}"))
        .and_then(|runtime| runtime.block_on(command(settings)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("{program}: {message}");
            ExitCode::FAILURE
        }
    }
}
