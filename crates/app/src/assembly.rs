//! Building the store and the service from settings: open and migrate the database, load the
//! signing key, and turn each setting into the rule or limit the service applies.

use std::sync::Arc;
use std::time::Duration;

use growdesk_service::addresses::AddressGrouping;
use growdesk_service::auth::tokens::TokenKeys;
use growdesk_service::email::{EmailRules, NoSockets, Presence, parse_public_url};
use growdesk_service::rate_limit::{AttemptLimits, WidgetLimits};
use growdesk_service::system::SlaTargets;
use growdesk_service::{AccountRules, AttachmentRules, Service, ServiceParts, WebhookRules};
use growdesk_store::{FileStore, PoolSettings, Store};

use crate::StartError;
use crate::config::Settings;
use crate::signing_key::{self, KeySource};

/// Opens the configured database and applies its migrations.
///
/// # Errors
/// An unusable URL, or a database that cannot be reached or migrated.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let store = Store::connect(
        settings.database_url.as_str(),
        PoolSettings {
            max_connections: settings.db_max_connections,
            timeout: Duration::from_secs(settings.db_timeout_secs),
        },
    )?;
    store.migrate().await.map_err(StartError::Migrate)?;
    store
        .users()
        .normalise_stored_emails()
        .await
        .map_err(StartError::Migrate)?;
    Ok(store)
}

/// Where attachments' bytes are kept: `attachments/` in the data directory.
pub fn attachment_files(settings: &Settings) -> FileStore {
    FileStore::new(settings.data_dir.join("attachments"))
}

/// The service over a migrated store, with its signing key, and where that key came from; for
/// a process without sockets, so nobody counts as connected and widget visitors are mailed.
///
/// # Errors
/// See `StartError`.
pub async fn build_service(settings: &Settings) -> Result<(Service, KeySource), StartError> {
    build_service_with(settings, Arc::new(NoSockets)).await
}

/// As `build_service`, with `presence` telling who has a socket open (the server's hub).
///
/// # Errors
/// See `StartError`.
pub(crate) async fn build_service_with(
    settings: &Settings,
    presence: Arc<dyn Presence>,
) -> Result<(Service, KeySource), StartError> {
    let public_url = parse_public_url(&settings.public_url).map_err(StartError::PublicUrl)?;
    let store = open_store(settings).await?;
    let (secret, key_source) =
        signing_key::load_or_create(settings.jwt_secret.as_ref(), &settings.data_dir)?;
    let keys = TokenKeys::new(
        signing_key::key_bytes(&secret),
        Duration::from_secs(settings.access_token_ttl_secs),
    )?;
    let addresses = AddressGrouping::new(settings.rate_limit_ipv6_prefix);
    let attempt_limits = AttemptLimits::new(
        settings.auth_attempts_per_ip_per_minute,
        settings.login_attempts_per_account_per_minute,
        addresses,
    );
    let account_rules = AccountRules {
        allow_registration: settings.allow_registration,
        session_ttl: Duration::from_secs(settings.session_ttl_days.saturating_mul(24 * 60 * 60)),
        refresh_reuse_grace: Duration::from_secs(settings.refresh_reuse_grace_secs),
    };
    let attachments = AttachmentRules {
        files: attachment_files(settings),
        max_bytes: settings.attachment_max_bytes,
    };
    let sla = SlaTargets::parse(
        &settings.sla_first_response_hours,
        &settings.sla_resolution_hours,
    )
    .map_err(StartError::SlaTargets)?;
    let widget_limits = WidgetLimits::new(
        settings.widget_requests_per_ip_per_minute,
        settings.widget_requests_per_widget_per_minute,
        addresses,
    );
    Ok((
        Service::new(ServiceParts {
            store,
            keys,
            attempt_limits,
            account_rules,
            attachments,
            widget_limits,
            webhook_rules: WebhookRules {
                allow_private_targets: settings.webhook_allow_private_targets,
            },
            sla,
            email: EmailRules {
                public_url,
                presence,
            },
        }),
        key_source,
    ))
}
