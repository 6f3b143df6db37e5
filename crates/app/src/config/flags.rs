//! The settings flags both binaries accept, and the configuration file they name.

use std::path::{Path, PathBuf};

use figment::providers::Serialized;
use serde::Serialize;

use crate::StartError;
use crate::config::keys::ENV_PREFIX;
use crate::config::load::Environment;
use crate::config::{DatabaseUrl, LogFormat, Settings};

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
    pub fn settings(&self, extra: impl Serialize) -> Result<(Settings, Vec<String>), StartError> {
        let environment: Environment = std::env::vars().collect();
        let flags =
            figment::Figment::from(Serialized::defaults(self)).merge(Serialized::defaults(extra));
        let flags: figment::value::Dict = flags
            .extract()
            .map_err(|error| StartError::InvalidConfig(Box::new(error)))?;
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

#[cfg(test)]
mod tests {
    use crate::config::load::tests::environment;

    use super::*;

    #[test]
    fn the_config_file_comes_from_the_flag_or_a_non_empty_variable() {
        let empty = environment(&[("GROWDESK_CONFIG", "")]);
        assert_eq!(config_file(None, &empty), None);
        let set = environment(&[("GROWDESK_CONFIG", "/etc/growdesk.toml")]);
        assert_eq!(
            config_file(None, &set),
            Some(PathBuf::from("/etc/growdesk.toml"))
        );
        let flag = Path::new("given.toml");
        assert_eq!(config_file(Some(flag), &set), Some(flag.to_owned()));
    }

    #[test]
    fn debug_of_the_flags_and_settings_hides_a_password_parameter() {
        let args = CommonArgs {
            database_url: Some(DatabaseUrl::from(
                "postgres://app@db/growdesk?sslmode=require&password=hunter2".to_owned(),
            )),
            ..CommonArgs::default()
        };
        let settings = Settings::load(None, &environment(&[]), &args).unwrap();
        for shown in [format!("{args:?}"), format!("{settings:?}")] {
            assert!(
                shown.contains("postgres://app@db/growdesk?sslmode=require&password=***"),
                "{shown}"
            );
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
