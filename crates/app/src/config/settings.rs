//! What both binaries can be configured with, its defaults, and how each value is read from
//! the text of a file or a variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use growdesk_service::addresses::{MAX_IPV6_PREFIX, TrustedProxies};
use growdesk_store::redact::redact_url;
use secrecy::SecretString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// Everything both binaries can be configured with. `Debug` never shows secrets or the
/// database password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`; the scheme picks the backend.
    pub database_url: DatabaseUrl,
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Holds the SQLite file, the generated signing key and stored files.
    pub data_dir: PathBuf,
    /// HMAC key for access tokens; generated into the data directory when unset.
    #[serde(serialize_with = "never_serialized")]
    pub jwt_secret: Option<SecretString>,
    /// The first admin, created when no admin exists.
    pub admin_email: Option<String>,
    #[serde(serialize_with = "never_serialized")]
    pub admin_password: Option<SecretString>,
    /// Whether customers may sign themselves up.
    pub allow_registration: bool,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `growdesk_http=debug,info`.
    pub log_level: String,
    /// Origins allowed to call the API from a browser; `*` for any. Comma-separated in the
    /// environment.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout_secs: u64,
    /// How long in-flight requests may take to finish after SIGTERM before their connections
    /// are closed; under the usual 10 s an orchestrator waits before SIGKILL.
    pub shutdown_grace_secs: u64,
    /// Longest a client may take to send its request headers.
    pub header_read_timeout_secs: u64,
    pub db_max_connections: u32,
    /// The longest one database operation may take, waiting for a connection included, before
    /// the request gets 503.
    pub db_timeout_secs: u64,
    /// Lifetime of access tokens.
    pub access_token_ttl_secs: u64,
    /// Absolute lifetime of a sign-in session (and so of its refresh tokens).
    pub session_ttl_days: u64,
    /// Seconds after a refresh token is exchanged during which another exchange of it is a
    /// concurrent duplicate (409) rather than a replay that revokes the session.
    pub refresh_reuse_grace_secs: u64,
    /// Sign-in, registration and refresh attempts allowed per client IP per minute.
    pub auth_attempts_per_ip_per_minute: u32,
    /// Sign-in attempts allowed per account per minute.
    pub login_attempts_per_account_per_minute: u32,
    /// Most bytes of files attached to one message.
    pub attachment_max_bytes: usize,
    /// The server pings each socket this often; silent ones are dropped after two intervals.
    pub ws_ping_interval_secs: u64,
    /// Frames queued for a socket before its client counts as too slow and is disconnected.
    pub ws_send_queue: usize,
    pub ws_max_connections_per_user: usize,
    pub ws_max_connections_per_ip: usize,
    /// How often the relay looks for changes made by other processes (PostgreSQL also
    /// notifies at once).
    pub realtime_poll_ms: u64,
    /// Widget tickets and messages allowed per visitor address per minute.
    pub widget_requests_per_ip_per_minute: u32,
    /// Widget tickets and messages allowed per widget per minute.
    pub widget_requests_per_widget_per_minute: u32,
    /// Per-address limits count an IPv6 client with every address sharing this many leading
    /// bits (its /64 by default); an IPv4 client by its address.
    #[serde(deserialize_with = "ipv6_prefix")]
    pub rate_limit_ipv6_prefix: u8,
    /// Reverse proxies (CIDR networks or addresses; comma-separated in the environment) whose
    /// `Forwarded` / `X-Forwarded-For` name the client. Empty: every peer is the client.
    #[serde(deserialize_with = "trusted_proxies")]
    pub trusted_proxies: TrustedProxies,
    /// `growdesk-sync run` closes tickets resolved longer ago than this.
    pub auto_close_after_days: u64,
    /// First-response targets in hours per priority: `low=24,medium=8,high=4,urgent=1`.
    pub sla_first_response_hours: String,
    /// Resolution targets in hours per priority.
    pub sla_resolution_hours: String,
    /// Let webhooks point at loopback, private and link-local addresses (refused by default).
    pub webhook_allow_private_targets: bool,
    /// Imports `growdesk-sync run` repeats (`[[scheduled_imports]]` tables in the config file).
    pub scheduled_imports: Vec<ScheduledImport>,
    /// Where people reach the console from outside (an absolute `http(s)` URL): the base of
    /// the links in mail (password reset, unsubscribe).
    pub public_url: String,
}

/// An import `growdesk-sync run` repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledImport {
    /// Names the job (`import:<name>`) in logs and in `job_runs`.
    pub name: String,
    pub every_minutes: u64,
    /// What follows `growdesk-sync import`, such as `["zendesk", "--url", "https://acme.zendesk.com",
    /// "--email", "admin@acme.com"]` (secrets from their environment variables).
    pub args: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: DatabaseUrl("sqlite://./data/growdesk.db".to_owned()),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            jwt_secret: None,
            admin_email: None,
            admin_password: None,
            allow_registration: true,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            cors_origins: Vec::new(),
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 8,
            header_read_timeout_secs: 10,
            db_max_connections: 10,
            db_timeout_secs: 3,
            access_token_ttl_secs: 15 * 60,
            session_ttl_days: 30,
            refresh_reuse_grace_secs: 10,
            auth_attempts_per_ip_per_minute: 30,
            login_attempts_per_account_per_minute: 10,
            attachment_max_bytes: 10 * 1024 * 1024,
            ws_ping_interval_secs: 30,
            ws_send_queue: 256,
            ws_max_connections_per_user: 20,
            ws_max_connections_per_ip: 500,
            realtime_poll_ms: 500,
            widget_requests_per_ip_per_minute: 20,
            widget_requests_per_widget_per_minute: 600,
            rate_limit_ipv6_prefix: 64,
            trusted_proxies: TrustedProxies::default(),
            auto_close_after_days: 7,
            sla_first_response_hours: "low=24,medium=8,high=4,urgent=1".to_owned(),
            sla_resolution_hours: "low=168,medium=72,high=24,urgent=4".to_owned(),
            webhook_allow_private_targets: false,
            scheduled_imports: Vec::new(),
            public_url: "http://localhost:8080".to_owned(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A database URL whose `Debug` hides its credentials.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with its credentials replaced by `***`, fit for logs (see `redact_url`).
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn never_serialized<S: serde::Serializer>(
    _: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_none()
}

/// A list: a TOML array, or one comma-separated text (the environment).
fn list_or_comma_separated<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(deserializer)? {
        ListOrText::List(list) => list,
        ListOrText::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// The trusted proxies, as a list of entries or one comma-separated text.
fn trusted_proxies<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TrustedProxies, D::Error> {
    let entries = list_or_comma_separated(deserializer)?;
    TrustedProxies::from_entries(&entries).map_err(D::Error::custom)
}

/// An IPv6 prefix length, refusing one past 128.
fn ipv6_prefix<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    let prefix = u8::deserialize(deserializer)?;
    if prefix > MAX_IPV6_PREFIX {
        return Err(D::Error::custom(format!(
            "an IPv6 prefix length is 0 to {MAX_IPV6_PREFIX}, not {prefix}"
        )));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use crate::config::load::tests::{environment, no_overrides};

    use super::*;

    #[test]
    fn defaults_need_nothing() {
        let settings = Settings::load(None, &environment(&[]), no_overrides()).unwrap();
        assert_eq!(
            settings.database_url.as_str(),
            "sqlite://./data/growdesk.db"
        );
        assert_eq!(settings.addr.to_string(), "127.0.0.1:8080");
        assert!(settings.allow_registration);
    }

    #[test]
    fn trusted_proxies_and_ipv6_prefix_are_read_and_checked() {
        let variables = environment(&[
            ("GROWDESK_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
            ("GROWDESK_RATE_LIMIT_IPV6_PREFIX", "56"),
        ]);
        let settings = Settings::load(None, &variables, no_overrides()).unwrap();
        assert!(settings.trusted_proxies.contains([10, 1, 2, 3].into()));
        assert!(settings.trusted_proxies.contains([192, 0, 2, 7].into()));
        assert!(!settings.trusted_proxies.contains([192, 0, 2, 8].into()));
        assert_eq!(settings.rate_limit_ipv6_prefix, 56);
        let defaults = Settings::load(None, &environment(&[]), no_overrides()).unwrap();
        assert!(defaults.trusted_proxies.is_empty());
        assert_eq!(defaults.rate_limit_ipv6_prefix, 64);

        let bad_network = environment(&[("GROWDESK_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0/8")]);
        let error = Settings::load(None, &bad_network, no_overrides())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"10.0.0/8\"") && error.contains("CIDR"),
            "{error}"
        );
        let long_prefix = environment(&[("GROWDESK_RATE_LIMIT_IPV6_PREFIX", "129")]);
        let error = Settings::load(None, &long_prefix, no_overrides())
            .unwrap_err()
            .to_string();
        assert!(error.contains("0 to 128"), "{error}");
    }

    #[test]
    fn the_public_url_is_read_and_must_be_an_absolute_http_url() {
        use growdesk_service::email::parse_public_url;

        let defaults = Settings::load(None, &environment(&[]), no_overrides()).unwrap();
        assert_eq!(
            parse_public_url(&defaults.public_url).unwrap().as_str(),
            "http://localhost:8080/"
        );
        let variables = environment(&[("GROWDESK_PUBLIC_URL", "https://help.example.com/desk")]);
        let settings = Settings::load(None, &variables, no_overrides()).unwrap();
        assert_eq!(settings.public_url, "https://help.example.com/desk");
        assert!(parse_public_url(&settings.public_url).is_ok());
        for bad in [
            "help.example.com",
            "ftp://help.example.com",
            "/desk",
            "https://",
        ] {
            let variables = environment(&[("GROWDESK_PUBLIC_URL", bad)]);
            let settings = Settings::load(None, &variables, no_overrides()).unwrap();
            assert!(parse_public_url(&settings.public_url).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_secrets_and_database_passwords() {
        let variables = environment(&[
            (
                "GROWDESK_DATABASE_URL",
                "postgres://app:hunter2-password@db:5432/growdesk",
            ),
            (
                "GROWDESK_JWT_SECRET",
                "super-secret-signing-key-that-is-long",
            ),
            ("GROWDESK_ADMIN_PASSWORD", "admin-password-123"),
        ]);
        let settings = Settings::load(None, &variables, no_overrides()).unwrap();
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("postgres://app:***@db:5432/growdesk"),
            "{shown}"
        );
        for secret in [
            "hunter2-password",
            "super-secret-signing-key",
            "admin-password-123",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}
