//! Building a `Service` from settings: open and migrate the database, load the signing key;
//! and listening for the signals that stop a long-running command. Shared by the server and
//! the sync binary.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use growdesk_store::{ConnectError, FileStore, PoolSettings, Store, StoreError};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::addresses::AddressGrouping;
use crate::auth::signing_key::{self, KeyFileError, KeySource};
use crate::auth::tokens::{SecretError, TokenKeys};
use crate::config::{CommonArgs, Settings};
use crate::rate_limit::{AttemptLimits, WidgetLimits};
use crate::{AccountRules, AttachmentRules, Service, telemetry};

/// Why the service could not be built. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Connect(#[from] ConnectError),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] StoreError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("GROWDESK_JWT_SECRET is refused: {0}")]
    Secret(#[from] SecretError),
    #[error("cannot listen for SIGINT and SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
}

/// Opens the configured database and applies its migrations.
///
/// # Errors
/// An unusable URL, or a database that cannot be reached or migrated.
pub async fn open_store(settings: &Settings) -> Result<Store, StartupError> {
    let store = Store::connect(
        settings.database_url.as_str(),
        PoolSettings {
            max_connections: settings.db_max_connections,
            timeout: Duration::from_secs(settings.db_timeout_secs),
        },
    )?;
    store.migrate().await.map_err(StartupError::Migrate)?;
    store
        .normalise_stored_emails()
        .await
        .map_err(StartupError::Migrate)?;
    Ok(store)
}

/// Where attachments' bytes are kept: `attachments/` in the data directory.
pub fn attachment_files(settings: &Settings) -> FileStore {
    FileStore::new(settings.data_dir.join("attachments"))
}

/// The service over a migrated store, with its signing key, and where that key came from.
///
/// # Errors
/// See `StartupError`.
pub async fn build_service(settings: &Settings) -> Result<(Service, KeySource), StartupError> {
    let store = open_store(settings).await?;
    let (secret, key_source) =
        signing_key::load_or_create(settings.jwt_secret.as_ref(), &settings.data_dir)?;
    let keys = TokenKeys::new(
        signing_key::key_bytes(&secret),
        Duration::from_secs(settings.access_token_ttl_secs),
    )?;
    let addresses = AddressGrouping::new(settings.rate_limit_ipv6_prefix);
    let limits = AttemptLimits::new(
        settings.auth_attempts_per_ip_per_minute,
        settings.login_attempts_per_account_per_minute,
        addresses,
    );
    let rules = AccountRules {
        allow_registration: settings.allow_registration,
        session_ttl: Duration::from_secs(settings.session_ttl_days.saturating_mul(24 * 60 * 60)),
        refresh_reuse_grace: Duration::from_secs(settings.refresh_reuse_grace_secs),
    };
    let attachments = AttachmentRules {
        files: attachment_files(settings),
        max_bytes: settings.attachment_max_bytes,
    };
    let widget_limits = WidgetLimits::new(
        settings.widget_requests_per_ip_per_minute,
        settings.widget_requests_per_widget_per_minute,
        addresses,
    );
    Ok((
        Service::new(
            store,
            keys,
            limits,
            rules,
            attachments,
            widget_limits,
            crate::WebhookRules {
                allow_private_targets: settings.webhook_allow_private_targets,
            },
        ),
        key_source,
    ))
}

/// What both binaries do around their command: load the settings from every layer (`extra`
/// holds the binary's own flags), start logging, warn about unknown `GROWDESK_*` variables,
/// run `command` on a multi-threaded runtime, and turn its outcome into the exit code. Errors
/// go to standard error, prefixed with `program`.
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

/// A token cancelled when the process is asked to stop: SIGINT (Ctrl-C) or SIGTERM. The
/// handlers are registered before this returns, not when a task first runs: until then either
/// signal would kill the process, so whatever tells the world the process is up (a banner, a
/// readiness log line, an accepting listener) must come after this call.
///
/// # Errors
/// The operating system refused a handler.
pub fn cancel_on_shutdown_signal() -> Result<CancellationToken, StartupError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(StartupError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(StartupError::Signals)?;
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
