//! `growdesk-server`: reads the configuration, starts the API server, and offers the operator's
//! commands (create a user, print the OpenAPI document).

use std::io::Read as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use growdesk_domain::Role;
use growdesk_http::App;
use growdesk_service::accounts::{AdminBootstrap, NewAccount};
use growdesk_service::auth::signing_key::KeySource;
use growdesk_service::config::{CommonArgs, Settings};
use growdesk_service::startup::{build_service, run_binary};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// mimalloc gives freed memory back to the system. With glibc's allocator every thread that
/// verified a password kept its 19 MiB Argon2 buffer in its own arena: 128 concurrent sign-ins
/// left the server holding 440 MiB (growdesk-bench, sign_in at 128 clients). Its `override`
/// feature makes it C's `malloc` too, for SQLite: sqlx copies every column of every row with
/// SQLite's allocator on a connection's thread and frees it on a runtime thread, and glibc's
/// arena locks took a quarter of a ticket page's CPU (perf); 6–8 % more pages per second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GrowDesk help-desk API server. Runs on SQLite with no set-up; set DATABASE_URL for PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "growdesk-server", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, global = true, value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve,
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = parse_role, default_value = "agent")]
        role: Role,
    },
    /// Print the OpenAPI document (what api/openapi.json holds).
    Openapi,
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
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        print!("{}", growdesk_http::openapi::openapi_json());
        return ExitCode::SUCCESS;
    }
    let flags = ServerFlags { addr: cli.addr };
    run_binary(
        "growdesk-server",
        &cli.common,
        flags,
        |settings| async move {
            match cli.command {
                Some(Command::CreateUser { email, name, role }) => {
                    create_user(&settings, email, name, role).await
                }
                Some(Command::Serve | Command::Openapi) | None => serve(&settings).await,
            }
        },
    )
}

async fn serve(settings: &Settings) -> Result<(), String> {
    tracing::info!(database = ?settings.database_url, addr = %settings.addr, "starting");
    let app = App::build(settings)
        .await
        .map_err(|error| error.to_string())?;
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
    print_sign_in_help(&base, &app.admin);
    tracing::info!(%base, "listening");

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run(shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

/// Tells the operator how to sign in. A generated password goes to standard output once and
/// never to the log, which may be shipped elsewhere.
fn print_sign_in_help(base: &str, admin: &AdminBootstrap) {
    println!("GrowDesk is running at {base} (API docs: {base}/api/docs).");
    let (email, password) = match admin {
        AdminBootstrap::Present => ("<email>", "<password>"),
        AdminBootstrap::Created { email } => {
            println!("First admin created: {email}");
            (email.as_str(), "<GROWDESK_ADMIN_PASSWORD>")
        }
        AdminBootstrap::CreatedWithPassword { email, password } => {
            println!("First admin created: {email}");
            println!("Its password, shown this once: {password}");
            println!(
                "Change it with PATCH /api/auth/me, or set GROWDESK_ADMIN_EMAIL and GROWDESK_ADMIN_PASSWORD before the first start."
            );
            (email.as_str(), password.as_str())
        }
    };
    println!("Sign in:");
    println!(
        "  curl -s {base}/api/auth/login -H 'content-type: application/json' -d '{{\"email\":\"{email}\",\"password\":\"{password}\"}}'"
    );
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    growdesk_service::startup::shutdown_signal().await;
    shutdown.cancel();
}

async fn create_user(
    settings: &Settings,
    email: String,
    name: Option<String>,
    role: Role,
) -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|error| format!("cannot read the password from standard input: {error}"))?;
    let password = input.lines().next().unwrap_or_default().to_owned();
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
        .create_user_as_operator(account)
        .await
        .map_err(|error| match error {
            growdesk_service::ServiceError::Validation(errors) => errors
                .fields()
                .iter()
                .map(|field| format!("{} {}", field.field, field.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
    service.store().close().await;
    println!("created {} {} ({})", user.role, user.email, user.id);
    Ok(())
}
