//! Settings: built-in defaults, then an optional TOML file, then `GROWDESK_*` environment
//! variables, then command-line flags, each layer overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use growdesk_store::redact::redact_url;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

use crate::addresses::TrustedProxies;

/// The prefix every environment variable of ours carries.
pub const ENV_PREFIX: &str = "GROWDESK_";

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
    #[serde(deserialize_with = "crate::addresses::ipv6_prefix")]
    pub rate_limit_ipv6_prefix: u8,
    /// Reverse proxies (CIDR networks or addresses; comma-separated in the environment) whose
    /// `Forwarded` / `X-Forwarded-For` name the client. Empty: every peer is the client.
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
        }
    }
}

/// The keys a `GROWDESK_*` variable may name, for the typo warning. Kept beside `Settings`;
/// a unit test checks that every one of them is accepted.
pub const KNOWN_KEYS: &[&str] = &[
    "database_url",
    "addr",
    "data_dir",
    "jwt_secret",
    "admin_email",
    "admin_password",
    "allow_registration",
    "log_format",
    "log_level",
    "cors_origins",
    "max_body_bytes",
    "request_timeout_secs",
    "shutdown_grace_secs",
    "header_read_timeout_secs",
    "db_max_connections",
    "db_timeout_secs",
    "access_token_ttl_secs",
    "session_ttl_days",
    "refresh_reuse_grace_secs",
    "auth_attempts_per_ip_per_minute",
    "login_attempts_per_account_per_minute",
    "attachment_max_bytes",
    "ws_ping_interval_secs",
    "ws_send_queue",
    "ws_max_connections_per_user",
    "ws_max_connections_per_ip",
    "realtime_poll_ms",
    "widget_requests_per_ip_per_minute",
    "widget_requests_per_widget_per_minute",
    "rate_limit_ipv6_prefix",
    "trusted_proxies",
    "auto_close_after_days",
    "sla_first_response_hours",
    "sla_resolution_hours",
    "webhook_allow_private_targets",
    "scheduled_imports",
];

/// Variables with our prefix that are not settings: the config-file path, the importers'
/// credentials (read by `growdesk-sync`'s flags) and the tests'.
const OTHER_VARIABLES: &[&str] = &[
    "config",
    "zendesk_token",
    "freshdesk_api_key",
    "test_database_url",
    "test_log",
];

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

pub(crate) fn list_or_comma_separated<'de, D: Deserializer<'de>>(
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

/// Command-line flags both binaries accept; each overrides its setting from every other layer.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct CommonArgs {
    /// A TOML configuration file (keys as in `GROWDESK_*`, lower-cased, without the prefix);
    /// default: GROWDESK_CONFIG, when set and not empty.
    // Not clap's `env`: it refuses an empty GROWDESK_CONFIG ("a value is required").
    #[arg(long, global = true, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<DatabaseUrl>,
    /// Data directory (SQLite file, signing key, stored files).
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Log filter, such as `info` or `debug`.
    #[arg(long, global = true, value_name = "FILTER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl CommonArgs {
    /// These flags with `later`'s given ones over them: a binary whose commands each take the
    /// flags (after the command's name) and also accepts them before it.
    #[must_use]
    pub fn overridden_by(self, later: &CommonArgs) -> CommonArgs {
        let later = later.clone();
        CommonArgs {
            config: later.config.or(self.config),
            database_url: later.database_url.or(self.database_url),
            data_dir: later.data_dir.or(self.data_dir),
            log_format: later.log_format.or(self.log_format),
            log_level: later.log_level.or(self.log_level),
        }
    }

    /// Settings from every layer of this process: defaults, the file, the environment, then
    /// these flags and `extra` flags of the binary's own; plus the unknown `GROWDESK_*` names.
    ///
    /// # Errors
    /// See `Settings::load`.
    pub fn settings(&self, extra: impl Serialize) -> Result<(Settings, Vec<String>), ConfigError> {
        let environment: Environment = std::env::vars().collect();
        let flags =
            figment::Figment::from(Serialized::defaults(self)).merge(Serialized::defaults(extra));
        let flags: figment::value::Dict = flags
            .extract()
            .map_err(|error| ConfigError::Invalid(Box::new(error)))?;
        let file = config_file(self.config.as_deref(), &environment);
        let settings = Settings::load(file.as_deref(), &environment, flags)?;
        Ok((settings, Settings::unknown_variables(&environment)))
    }
}

/// The configuration file: the flag's, else a non-empty `GROWDESK_CONFIG`.
fn config_file(flag: Option<&Path>, environment: &Environment) -> Option<PathBuf> {
    let variable = format!("{ENV_PREFIX}CONFIG");
    flag.map(Path::to_owned).or_else(|| {
        environment
            .iter()
            .find(|(name, value)| *name == variable && !value.is_empty())
            .map(|(_, value)| PathBuf::from(value))
    })
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// The environment a loader reads; a parameter so tests need not touch the process's own.
pub type Environment = Vec<(String, String)>;

impl Settings {
    /// Loads defaults ← `file` (if given) ← environment ← `overrides` (the command-line flags,
    /// already narrowed to those the user gave).
    ///
    /// `DATABASE_URL` is honoured as well as `GROWDESK_DATABASE_URL`; the prefixed one wins.
    /// A variable set to the empty string counts as not set.
    ///
    /// # Errors
    /// A named file that does not exist, or a value of the wrong type.
    pub fn load(
        file: Option<&Path>,
        environment: &Environment,
        overrides: impl Serialize,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::MissingFile(file.to_owned()));
            }
            figment = figment.merge(Toml::file(file));
        }
        // An empty variable is unset: `docker compose` passes `${VAR:-}` as an empty string.
        let environment = environment.iter().filter(|(_, value)| !value.is_empty());
        let plain: Vec<(String, String)> = environment
            .clone()
            .filter(|(name, _)| name == "DATABASE_URL")
            .map(|(_, value)| ("database_url".to_owned(), value.clone()))
            .collect();
        let prefixed: Vec<(String, String)> = environment
            .filter_map(|(name, value)| {
                let key = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
                KNOWN_KEYS
                    .contains(&key.as_str())
                    .then(|| (key, value.clone()))
            })
            .collect();
        figment = figment
            .merge(Serialized::defaults(as_strings(plain)))
            .merge(Serialized::defaults(as_strings(prefixed)))
            .merge(Serialized::defaults(overrides));
        figment
            .extract_lossy()
            .map_err(|error| ConfigError::Invalid(Box::new(error)))
    }

    /// `GROWDESK_*` variables that name no setting: most likely typos, worth a warning.
    pub fn unknown_variables(environment: &Environment) -> Vec<String> {
        environment
            .iter()
            .filter_map(|(name, _)| {
                let key = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
                let known =
                    KNOWN_KEYS.contains(&key.as_str()) || OTHER_VARIABLES.contains(&key.as_str());
                (!known).then(|| name.clone())
            })
            .collect()
    }
}

/// Environment values go in as text; figment converts them to each field's type on extraction,
/// so a numeric-looking secret stays a string while `GROWDESK_DB_MAX_CONNECTIONS=5` is a number.
fn as_strings(pairs: Vec<(String, String)>) -> figment::value::Dict {
    pairs
        .into_iter()
        .map(|(key, value)| (key, figment::value::Value::from(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn no_overrides() -> figment::value::Dict {
        figment::value::Dict::new()
    }

    #[test]
    fn defaults_need_nothing() {
        let settings = Settings::load(None, &env(&[]), no_overrides()).unwrap();
        assert_eq!(
            settings.database_url.as_str(),
            "sqlite://./data/growdesk.db"
        );
        assert_eq!(settings.addr.to_string(), "127.0.0.1:8080");
        assert!(settings.allow_registration);
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("growdesk.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:9000\"\nlog_level = \"debug\"\ncors_origins = [\"https://a.example\"]\n").unwrap();
        let environment = env(&[
            ("DATABASE_URL", "postgres://plain@db/x"),
            ("GROWDESK_LOG_LEVEL", "warn"),
            ("GROWDESK_ALLOW_REGISTRATION", "false"),
            ("GROWDESK_DB_MAX_CONNECTIONS", "5"),
            ("GROWDESK_JWT_SECRET", "12345678901234567890123456789012"),
        ]);
        let mut overrides = figment::value::Dict::new();
        overrides.insert("db_max_connections".into(), 7.into());
        let settings = Settings::load(Some(&file), &environment, overrides).unwrap();
        assert_eq!(settings.addr.to_string(), "0.0.0.0:9000", "from the file");
        assert_eq!(settings.log_level, "warn", "environment beats the file");
        assert_eq!(settings.cors_origins, vec!["https://a.example"]);
        assert_eq!(settings.database_url.as_str(), "postgres://plain@db/x");
        assert!(!settings.allow_registration);
        assert_eq!(settings.db_max_connections, 7, "flags beat the environment");
        let secret = settings.jwt_secret.unwrap();
        assert_eq!(secret.expose_secret(), "12345678901234567890123456789012");
    }

    #[test]
    fn prefixed_database_url_wins_and_lists_split_on_commas() {
        let environment = env(&[
            ("GROWDESK_DATABASE_URL", "sqlite://other.db"),
            ("DATABASE_URL", "postgres://ignored"),
            (
                "GROWDESK_CORS_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ]);
        let settings = Settings::load(None, &environment, no_overrides()).unwrap();
        assert_eq!(settings.database_url.as_str(), "sqlite://other.db");
        assert_eq!(
            settings.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn bad_values_and_missing_files_are_reported() {
        let environment = env(&[("GROWDESK_DB_MAX_CONNECTIONS", "many")]);
        assert!(Settings::load(None, &environment, no_overrides()).is_err());
        let missing = Settings::load(
            Some(Path::new("/nonexistent/growdesk.toml")),
            &env(&[]),
            no_overrides(),
        );
        assert!(matches!(missing, Err(ConfigError::MissingFile(_))));
    }

    #[test]
    fn trusted_proxies_and_ipv6_prefix_are_read_and_checked() {
        let environment = env(&[
            ("GROWDESK_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
            ("GROWDESK_RATE_LIMIT_IPV6_PREFIX", "56"),
        ]);
        let settings = Settings::load(None, &environment, no_overrides()).unwrap();
        assert!(settings.trusted_proxies.contains([10, 1, 2, 3].into()));
        assert!(settings.trusted_proxies.contains([192, 0, 2, 7].into()));
        assert!(!settings.trusted_proxies.contains([192, 0, 2, 8].into()));
        assert_eq!(settings.rate_limit_ipv6_prefix, 56);
        let defaults = Settings::load(None, &env(&[]), no_overrides()).unwrap();
        assert!(defaults.trusted_proxies.is_empty());
        assert_eq!(defaults.rate_limit_ipv6_prefix, 64);

        let bad_network = env(&[("GROWDESK_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0/8")]);
        let error = Settings::load(None, &bad_network, no_overrides())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"10.0.0/8\"") && error.contains("CIDR"),
            "{error}"
        );
        let long_prefix = env(&[("GROWDESK_RATE_LIMIT_IPV6_PREFIX", "129")]);
        let error = Settings::load(None, &long_prefix, no_overrides())
            .unwrap_err()
            .to_string();
        assert!(error.contains("0 to 128"), "{error}");
    }

    #[test]
    fn every_known_key_is_a_setting() {
        for key in KNOWN_KEYS {
            let mut dict = figment::value::Dict::new();
            dict.insert((*key).to_owned(), figment::value::Value::from("x"));
            let error = Figment::from(Serialized::defaults(Settings::default()))
                .merge(Serialized::defaults(dict))
                .extract::<Settings>()
                .err();
            // A wrong-typed value is fine; an unknown field would mean the list is stale.
            if let Some(error) = error {
                assert!(
                    !error.to_string().contains("unknown field"),
                    "{key}: {error}"
                );
            }
        }
    }

    #[test]
    fn empty_variables_mean_unset() {
        let mut everything_empty: Environment = KNOWN_KEYS
            .iter()
            .map(|key| {
                (
                    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase()),
                    String::new(),
                )
            })
            .collect();
        everything_empty.push(("DATABASE_URL".to_owned(), String::new()));
        let settings = Settings::load(None, &everything_empty, no_overrides()).unwrap();
        assert_eq!(
            serde_json::to_value(&settings).unwrap(),
            serde_json::to_value(Settings::default()).unwrap()
        );
        assert!(settings.jwt_secret.is_none() && settings.admin_password.is_none());

        let plain_under_empty_prefixed = env(&[
            ("GROWDESK_DATABASE_URL", ""),
            ("DATABASE_URL", "postgres://plain@db/x"),
        ]);
        let settings = Settings::load(None, &plain_under_empty_prefixed, no_overrides()).unwrap();
        assert_eq!(settings.database_url.as_str(), "postgres://plain@db/x");
    }

    #[test]
    fn the_config_file_comes_from_the_flag_or_a_non_empty_variable() {
        let empty = env(&[("GROWDESK_CONFIG", "")]);
        assert_eq!(config_file(None, &empty), None);
        let set = env(&[("GROWDESK_CONFIG", "/etc/growdesk.toml")]);
        assert_eq!(
            config_file(None, &set),
            Some(PathBuf::from("/etc/growdesk.toml"))
        );
        let flag = Path::new("given.toml");
        assert_eq!(config_file(Some(flag), &set), Some(flag.to_owned()));
    }

    #[test]
    fn typos_are_found() {
        let environment = env(&[
            ("GROWDESK_DATABSE_URL", "x"),
            ("GROWDESK_ADDR", "y"),
            ("GROWDESK_CONFIG", "z"),
            ("GROWDESK_ZENDESK_TOKEN", "t"),
            ("GROWDESK_FRESHDESK_API_KEY", "k"),
        ]);
        assert_eq!(
            Settings::unknown_variables(&environment),
            vec!["GROWDESK_DATABSE_URL"]
        );
    }

    #[test]
    fn debug_hides_secrets_and_database_passwords() {
        let environment = env(&[
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
        let settings = Settings::load(None, &environment, no_overrides()).unwrap();
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

    #[test]
    fn debug_of_the_flags_and_settings_hides_a_password_parameter() {
        let args = CommonArgs {
            database_url: Some(DatabaseUrl::from(
                "postgres://app@db/growdesk?sslmode=require&password=hunter2".to_owned(),
            )),
            ..CommonArgs::default()
        };
        let settings = Settings::load(None, &env(&[]), &args).unwrap();
        for shown in [format!("{args:?}"), format!("{settings:?}")] {
            assert!(
                shown.contains("postgres://app@db/growdesk?sslmode=require&password=***"),
                "{shown}"
            );
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
