//! `growdesk-sync`: the sync server. Imports, exports, scheduled maintenance and webhook
//! delivery run here, apart from the API server; today it applies migrations.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use growdesk_service::config::CommonArgs;
use growdesk_service::startup::open_store;
use growdesk_service::telemetry;

/// GrowDesk sync server: imports, exports, maintenance and webhooks, against the same database
/// as growdesk-server.
#[derive(Debug, Parser)]
#[command(name = "growdesk-sync", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations, then exit.
    Migrate,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let no_extra_flags = std::collections::BTreeMap::<String, String>::new();
    let (settings, unknown) = match cli.common.settings(no_extra_flags) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("growdesk-sync: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&settings.log_level, settings.log_format);
    for name in unknown {
        tracing::warn!(variable = %name, "unknown GROWDESK_ variable ignored (a typo?)");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("growdesk-sync: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Migrate => {
                let store = open_store(&settings).await?;
                tracing::info!(database = ?settings.database_url, "migrations applied");
                store.close().await;
                Ok::<(), growdesk_service::startup::StartupError>(())
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("growdesk-sync: {error}");
            ExitCode::FAILURE
        }
    }
}
