//! The service layer: GrowDesk's use cases and rules — who may do what, sign-in and sessions,
//! accounts — independent of HTTP and of SQL.
//!
//! `Service` is the one entry point the HTTP layer and the sync binary call. Every refusal is a
//! `ServiceError`, which the HTTP layer maps to a status once.

pub mod accounts;
pub mod addresses;
pub mod auth;
pub mod catalog;
mod error;
pub mod global_address;
mod idempotency;
pub mod messages;
pub mod notifications;
pub mod pagination;
pub mod policy;
pub mod rate_limit;
mod search;
pub mod tickets;
pub mod webhooks;
pub mod widgets;

use std::time::Duration;

use growdesk_domain::User;
use growdesk_store::{FileStore, Store};
use uuid::Uuid;

pub use error::ServiceError;

use crate::auth::passwords::PasswordHasher;
use crate::auth::tokens::TokenKeys;
use crate::rate_limit::{AttemptLimits, WidgetLimits};

/// The signed-in caller of a use case, as established from a valid access token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user as stored now (current role and state, not those in the token).
    pub user: User,
    /// The session the token was issued for.
    pub session_id: Uuid,
    /// When the access token expires (a socket opened with it closes then).
    pub access_expires_at: time::OffsetDateTime,
}

/// The rules that shape account use cases, taken from the settings.
#[derive(Debug, Clone)]
pub struct AccountRules {
    /// Whether customers may sign themselves up.
    pub allow_registration: bool,
    /// Absolute lifetime of a session.
    pub session_ttl: Duration,
    /// How long after a refresh token is exchanged another exchange of it counts as a concurrent
    /// duplicate (409, the session kept) rather than a replay (the session revoked).
    pub refresh_reuse_grace: Duration,
}

/// Where attachments go and how large they may be.
#[derive(Debug, Clone)]
pub struct AttachmentRules {
    pub files: FileStore,
    /// Most bytes of files on one message.
    pub max_bytes: usize,
}

/// Where webhooks may point.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookRules {
    /// Allow loopback, private and link-local targets (for tests and closed networks).
    pub allow_private_targets: bool,
}

/// GrowDesk's use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Store,
    keys: TokenKeys,
    hasher: PasswordHasher,
    limits: AttemptLimits,
    rules: AccountRules,
    attachments: AttachmentRules,
    widget_limits: WidgetLimits,
    webhook_rules: WebhookRules,
}

impl Service {
    /// Assembles the service from its parts.
    pub fn new(
        store: Store,
        keys: TokenKeys,
        limits: AttemptLimits,
        rules: AccountRules,
        attachments: AttachmentRules,
        widget_limits: WidgetLimits,
        webhook_rules: WebhookRules,
    ) -> Self {
        Self {
            store,
            keys,
            hasher: PasswordHasher::owasp(),
            limits,
            rules,
            attachments,
            widget_limits,
            webhook_rules,
        }
    }

    /// Most bytes of files on one message.
    pub fn attachment_limit(&self) -> usize {
        self.attachments.max_bytes
    }

    /// The store, for operational checks (readiness, metrics).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
