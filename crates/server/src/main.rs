//! `growdesk-server`: reads the configuration, starts the API server, and offers the operator's
//! commands (create a user, reset a password, print the OpenAPI document, check a running
//! server's health).

mod first_start;
mod healthcheck;

use std::io::{IsTerminal as _, Read as _};
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use growdesk_app::config::{CommonArgs, Settings};
use growdesk_app::signing_key::KeySource;
use growdesk_app::{App, build_service, cancel_on_shutdown_signal, run_binary};
use growdesk_domain::Role;
use growdesk_service::accounts::{NewAccount, generated_password};
use serde::Serialize;

/// mimalloc gives freed memory back to the system. With glibc's allocator every thread that
/// verified a password kept its 19 MiB Argon2 buffer in its own arena: 128 concurrent sign-ins
/// left the server holding 440 MiB (growdesk-bench, sign_in at 128 clients). Its `override`
/// feature makes it C's `malloc` too, for SQLite: sqlx copies every column of every row with
/// SQLite's allocator on a connection's thread and frees it on a runtime thread, and glibc's
/// arena locks took a quarter of a ticket page's CPU (perf); 6–8 % more pages per second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GrowDesk help-desk API server. Runs on SQLite with no set-up; set DATABASE_URL for PostgreSQL.
///
/// With no command it serves. The settings flags may come before a command or after it.
#[derive(Debug, Parser)]
#[command(name = "growdesk-server", version)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The settings flags, and where to listen.
#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve(ServeArgs),
    /// Create a user; the password is read from standard input (its first line).
    CreateUser {
        #[command(flatten)]
        common: CommonArgs,
        /// The new user's email, also their sign-in name.
        #[arg(long)]
        email: String,
        /// The name shown to others (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// admin, agent or customer.
        #[arg(long, value_parser = parse_role, default_value = "agent")]
        role: Role,
    },
    /// Set a new password for an account and sign it out everywhere. The password is read
    /// from standard input (its first line), or generated with --generate.
    ResetPassword {
        #[command(flatten)]
        common: CommonArgs,
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Generate a password and show it; only when standard output is a terminal, so that it
        /// never lands in a log.
        #[arg(long)]
        generate: bool,
    },
    /// Print the OpenAPI document (what api/openapi.json holds).
    Openapi,
    /// Exit 0 when the server at the configured address answers GET /api/health with 200, 1
    /// otherwise: the Docker image's HEALTHCHECK.
    Healthcheck(ServeArgs),
}

/// The command line's definition. The settings flags belong to each command that reads
/// settings, not to all: `openapi --help` would otherwise offer a database URL it never uses.
fn cli_command() -> clap::Command {
    Cli::command().mut_args(|arg| arg.global(false))
}

#[derive(Serialize)]
struct ServerFlags {
    #[serde(skip_serializing_if = "Option::is_none")]
    addr: Option<SocketAddr>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse().map_err(|error| format!("{error}"))
}

fn main() -> ExitCode {
    // One TLS provider for the whole process (PostgreSQL connections over TLS).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::from_arg_matches_mut(&mut cli_command().get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let Cli {
        serve: outer,
        command,
    } = cli;
    let (common, addr) = match &command {
        Some(Command::Openapi) => {
            print!("{}", growdesk_http::openapi::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Serve(own) | Command::Healthcheck(own)) => (
            outer.common.overridden_by(&own.common),
            own.addr.or(outer.addr),
        ),
        Some(Command::CreateUser { common, .. } | Command::ResetPassword { common, .. }) => {
            (outer.common.overridden_by(common), None)
        }
        None => (outer.common, outer.addr),
    };
    if addr.is_none() && outer.addr.is_some() {
        eprintln!("growdesk-server: --addr belongs to serve, not to this command");
        return ExitCode::FAILURE;
    }
    run_binary(
        "growdesk-server",
        &common,
        ServerFlags { addr },
        |settings| async move {
            match command {
                Some(Command::CreateUser {
                    email, name, role, ..
                }) => create_user(&settings, email, name, role).await,
                Some(Command::ResetPassword {
                    email, generate, ..
                }) => reset_password(&settings, &email, generate).await,
                Some(Command::Healthcheck(_)) => healthcheck::probe(settings.addr).await,
                Some(Command::Serve(_) | Command::Openapi) | None => serve(&settings).await,
            }
        },
    )
}

async fn serve(settings: &Settings) -> Result<(), String> {
    tracing::info!(database = ?settings.database_url, addr = %settings.addr, "starting");
    let shutdown = cancel_on_shutdown_signal().map_err(|error| error.to_string())?;
    let app = tokio::select! {
        built = App::build(settings) => built.map_err(|error| error.to_string())?,
        () = shutdown.cancelled() => return Ok(()),
    };
    let base = format!("http://{}", app.local_addr());
    match &app.key_source {
        KeySource::Generated(path) => {
            tracing::info!(path = %path.display(), "generated a new token signing key")
        }
        KeySource::Loaded(path) => {
            tracing::info!(path = %path.display(), "loaded the token signing key")
        }
        KeySource::Configured => tracing::info!("using the configured token signing key"),
    }
    first_start::tell_how_to_sign_in(&base, &app.admin, &settings.data_dir)?;
    tracing::info!(%base, "listening");
    app.run(shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

async fn create_user(
    settings: &Settings,
    email: String,
    name: Option<String>,
    role: Role,
) -> Result<(), String> {
    let password = password_from_stdin()?;
    let (service, _) = build_service(settings)
        .await
        .map_err(|error| error.to_string())?;
    let account = NewAccount {
        email,
        name,
        role,
        password: Some(password),
    };
    let user = service
        .operator()
        .create_user(account)
        .await
        .map_err(operator_message)?;
    service.store().close().await;
    println!("created {} {} ({})", user.role, user.email, user.id);
    Ok(())
}

/// Sets a new password on the account with `email`. A generated one is shown on a terminal
/// only, and the choice is made before anything changes, so it cannot end up in a log.
async fn reset_password(settings: &Settings, email: &str, generate: bool) -> Result<(), String> {
    let password = if generate {
        if !std::io::stdout().is_terminal() {
            return Err(
                "--generate shows the password, so standard output must be a terminal; \
                 pipe a password to standard input instead"
                    .to_owned(),
            );
        }
        generated_password()
    } else {
        password_from_stdin()?
    };
    let (service, _) = build_service(settings)
        .await
        .map_err(|error| error.to_string())?;
    let user = service
        .operator()
        .reset_password(email, &password)
        .await
        .map_err(operator_message)?;
    service.store().close().await;
    println!(
        "reset the password of {} ({}); every session of theirs ended",
        user.email, user.id
    );
    if generate {
        println!("New password, shown this once: {password}");
    }
    Ok(())
}

/// The first line of standard input, where the operator's commands read a password from.
fn password_from_stdin() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|error| format!("cannot read the password from standard input: {error}"))?;
    Ok(input.lines().next().unwrap_or_default().to_owned())
}

/// What the operator is told of a refused command: each refused field, or the error.
fn operator_message(error: growdesk_service::ServiceError) -> String {
    match error {
        growdesk_service::ServiceError::Validation(errors) => errors
            .fields()
            .iter()
            .map(|field| format!("{} {}", field.field, field.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use growdesk_app::command_line::{arguments_of, arguments_without_help};

    use super::*;

    #[test]
    fn every_argument_of_every_command_is_explained() {
        assert_eq!(arguments_without_help(&cli_command()), Vec::<String>::new());
    }

    #[test]
    fn each_command_offers_only_the_flags_it_uses() {
        let command = cli_command();
        assert_eq!(arguments_of(&command, &["openapi"]), ["help"]);
        for settings_reader in [&["serve"][..], &["create-user"], &["reset-password"]] {
            let offered = arguments_of(&command, settings_reader);
            assert!(offered.iter().any(|id| id == "database_url"), "{offered:?}");
            assert_eq!(
                offered.iter().any(|id| id == "addr"),
                settings_reader == ["serve"],
                "{settings_reader:?}: {offered:?}"
            );
        }
    }
}
