//! `StartError`: every reason a binary could not start, each message saying what to fix.

use std::net::SocketAddr;
use std::path::PathBuf;

use growdesk_http::InvalidCorsOrigin;
use growdesk_service::ServiceError;
use growdesk_service::auth::tokens::SecretError;
use growdesk_store::{ConnectError, StoreError};

/// Why a binary could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration file {0} does not exist")]
    MissingConfigFile(PathBuf),
    #[error("invalid configuration: {0}")]
    InvalidConfig(#[source] Box<figment::Error>),
    #[error("cannot open the database: {0}")]
    Connect(#[from] ConnectError),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] StoreError),
    #[error("cannot read or create the signing key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("GROWDESK_JWT_SECRET is refused: {0}")]
    Secret(#[from] SecretError),
    #[error("cannot listen for SIGINT and SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(#[source] ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    CorsOrigin(#[from] InvalidCorsOrigin),
    #[error("invalid service-level targets: {0}")]
    SlaTargets(String),
    #[error("invalid public_url: {0}")]
    PublicUrl(String),
}
