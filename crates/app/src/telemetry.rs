//! Logging set-up for both binaries: a tracing filter, text or JSON lines on standard error.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// sqlx warns of each database URL parameter it does not know with the parameter's value, which
/// may be a secret (`sslpassword`, `passfile`); that warning is never shown, whatever the level.
const QUIET_URL_PARSER: &str = "sqlx_postgres::options::parse=error";

/// Installs the global subscriber. `RUST_LOG`, when set, wins over the configured level.
pub(crate) fn init(level: &str, format: LogFormat) {
    let mut filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    if let Ok(quiet) = QUIET_URL_PARSER.parse() {
        filter = filter.add_directive(quiet);
    }
    // Colour codes are for a person at a terminal; in a file or a journal they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second call (tests building several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
