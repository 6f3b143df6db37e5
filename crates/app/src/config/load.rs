//! Merging the layers: defaults, the file, the environment, then the flags.

use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::Serialize;

use crate::StartError;
use crate::config::Settings;
use crate::config::keys::setting_named_by;

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
    ) -> Result<Self, StartError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(StartError::MissingConfigFile(file.to_owned()));
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
            .filter_map(|(name, value)| Some((setting_named_by(name)?, value.clone())))
            .collect();
        figment = figment
            .merge(Serialized::defaults(as_strings(plain)))
            .merge(Serialized::defaults(as_strings(prefixed)))
            .merge(Serialized::defaults(overrides));
        figment
            .extract_lossy()
            .map_err(|error| StartError::InvalidConfig(Box::new(error)))
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
pub(super) mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::config::{ENV_PREFIX, KNOWN_KEYS};

    pub(crate) fn environment(pairs: &[(&str, &str)]) -> Environment {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    pub(crate) fn no_overrides() -> figment::value::Dict {
        figment::value::Dict::new()
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("growdesk.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:9000\"\nlog_level = \"debug\"\ncors_origins = [\"https://a.example\"]\n").unwrap();
        let variables = environment(&[
            ("DATABASE_URL", "postgres://plain@db/x"),
            ("GROWDESK_LOG_LEVEL", "warn"),
            ("GROWDESK_ALLOW_REGISTRATION", "false"),
            ("GROWDESK_DB_MAX_CONNECTIONS", "5"),
            ("GROWDESK_JWT_SECRET", "12345678901234567890123456789012"),
        ]);
        let mut overrides = figment::value::Dict::new();
        overrides.insert("db_max_connections".into(), 7.into());
        let settings = Settings::load(Some(&file), &variables, overrides).unwrap();
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
        let variables = environment(&[
            ("GROWDESK_DATABASE_URL", "sqlite://other.db"),
            ("DATABASE_URL", "postgres://ignored"),
            (
                "GROWDESK_CORS_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ]);
        let settings = Settings::load(None, &variables, no_overrides()).unwrap();
        assert_eq!(settings.database_url.as_str(), "sqlite://other.db");
        assert_eq!(
            settings.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn bad_values_and_missing_files_are_reported() {
        let variables = environment(&[("GROWDESK_DB_MAX_CONNECTIONS", "many")]);
        assert!(Settings::load(None, &variables, no_overrides()).is_err());
        let missing = Settings::load(
            Some(Path::new("/nonexistent/growdesk.toml")),
            &environment(&[]),
            no_overrides(),
        );
        assert!(matches!(missing, Err(StartError::MissingConfigFile(_))));
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

        let plain_under_empty_prefixed = environment(&[
            ("GROWDESK_DATABASE_URL", ""),
            ("DATABASE_URL", "postgres://plain@db/x"),
        ]);
        let settings = Settings::load(None, &plain_under_empty_prefixed, no_overrides()).unwrap();
        assert_eq!(settings.database_url.as_str(), "postgres://plain@db/x");
    }
}
