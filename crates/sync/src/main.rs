//! `growdesk-sync`: the sync server. Imports, exports, scheduled maintenance and webhook
//! delivery run here, apart from the API server; today it applies migrations.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use growdesk_service::config::CommonArgs;
use growdesk_service::startup::{open_store, run_binary};

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
    run_binary(
        "growdesk-sync",
        &cli.common,
        no_extra_flags,
        |settings| async move {
            match cli.command {
                Command::Migrate => {
                    let store = open_store(&settings)
                        .await
                        .map_err(|error| error.to_string())?;
                    tracing::info!(database = ?settings.database_url, "migrations applied");
                    store.close().await;
                    Ok(())
                }
            }
        },
    )
}
