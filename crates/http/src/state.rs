//! `AppState`: what every handler can reach.

use std::sync::Arc;

use growdesk_realtime::Hub;
use growdesk_realtime::session::SessionSettings;
use growdesk_service::Service;

use crate::metrics::Metrics;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: Arc<Metrics>,
    pub realtime: Arc<Realtime>,
}

/// What the socket route needs.
pub struct Realtime {
    pub hub: Hub,
    pub session: SessionSettings,
    /// Browser origins that may open sockets (the CORS list; `*` for any).
    pub allowed_origins: Vec<String>,
}
