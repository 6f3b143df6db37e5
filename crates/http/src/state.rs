//! `AppState`: what every handler can reach.

use std::sync::Arc;

use growdesk_service::Service;

use crate::metrics::Metrics;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: Arc<Metrics>,
}
