//! Settings: built-in defaults, then an optional TOML file, then `GROWDESK_*` environment
//! variables, then command-line flags, each layer overriding the one before.

mod flags;
mod keys;
mod load;
mod settings;

pub use flags::CommonArgs;
pub use keys::{ENV_PREFIX, KNOWN_KEYS};
pub use load::Environment;
pub use settings::{DatabaseUrl, LogFormat, ScheduledImport, Settings};
