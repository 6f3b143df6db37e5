//! The names a `GROWDESK_*` variable may carry, and those that look like ours but name
//! nothing: most likely typos, worth a warning.

use crate::config::Settings;
use crate::config::load::Environment;

/// The prefix every environment variable of ours carries.
pub const ENV_PREFIX: &str = "GROWDESK_";

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
    "public_url",
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

/// The setting a variable names: its name without our prefix, lower-cased, if it is one.
pub(super) fn setting_named_by(variable: &str) -> Option<String> {
    let key = variable.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
    KNOWN_KEYS.contains(&key.as_str()).then_some(key)
}

impl Settings {
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

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::Serialized;

    use crate::config::load::tests::environment;

    use super::*;

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
    fn typos_are_found() {
        let variables = environment(&[
            ("GROWDESK_DATABSE_URL", "x"),
            ("GROWDESK_ADDR", "y"),
            ("GROWDESK_CONFIG", "z"),
            ("GROWDESK_ZENDESK_TOKEN", "t"),
            ("GROWDESK_FRESHDESK_API_KEY", "k"),
        ]);
        assert_eq!(
            Settings::unknown_variables(&variables),
            vec!["GROWDESK_DATABSE_URL"]
        );
    }
}
