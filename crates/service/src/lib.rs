//! The service layer: GrowDesk's use cases and rules — who may do what, sign-in and sessions,
//! accounts — independent of HTTP and of SQL.
//!
//! `Service` is the one entry point the HTTP layer and the sync binary call; it hands out one
//! small handle per resource (`tickets()`, `messages()`, `sessions()`, `accounts()`,
//! `operator()`, `catalog()`, `widgets()`, `visitors()`, `webhooks()`, `notifications()`), each
//! holding that resource's use cases. Every refusal is a `ServiceError`, which the HTTP layer
//! maps to a status once.

pub mod accounts;
pub mod addresses;
pub mod auth;
pub mod canned_replies;
pub mod catalog;
pub mod email;
mod error;
pub mod global_address;
mod idempotency;
pub mod imports;
pub mod mailboxes;
pub mod messages;
pub mod notifications;
pub mod pagination;
pub mod policy;
pub mod rate_limit;
mod search;
pub mod system;
pub mod tickets;
pub mod views;
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

/// What the service is assembled from: one store, the token keys, and the rules and limits
/// taken from the settings.
pub struct ServiceParts {
    pub store: Store,
    pub keys: TokenKeys,
    /// Sign-in and sign-up attempts per address and per account.
    pub attempt_limits: AttemptLimits,
    pub account_rules: AccountRules,
    pub attachments: AttachmentRules,
    /// Widget requests per address and per widget.
    pub widget_limits: WidgetLimits,
    pub webhook_rules: WebhookRules,
    /// The service-level targets the dashboard measures open work against.
    pub sla: system::SlaTargets,
    /// The base of links in mail, and who is connected (widget visitors are mailed when away).
    pub email: email::EmailRules,
}

/// GrowDesk's use cases over one store, handed out by resource (`tickets()`, `messages()`,
/// `accounts()`, …). Cheap to clone.
#[derive(Clone)]
pub struct Service {
    pub(crate) store: Store,
    pub(crate) keys: TokenKeys,
    pub(crate) hasher: PasswordHasher,
    pub(crate) limits: AttemptLimits,
    pub(crate) rules: AccountRules,
    pub(crate) attachments: AttachmentRules,
    pub(crate) widget_limits: WidgetLimits,
    pub(crate) webhook_rules: WebhookRules,
    pub(crate) sla: system::SlaTargets,
    pub(crate) email_rules: email::EmailRules,
}

impl Service {
    /// Assembles the service from its parts.
    pub fn new(parts: ServiceParts) -> Self {
        Self {
            store: parts.store,
            keys: parts.keys,
            hasher: PasswordHasher::owasp(),
            limits: parts.attempt_limits,
            rules: parts.account_rules,
            attachments: parts.attachments,
            widget_limits: parts.widget_limits,
            webhook_rules: parts.webhook_rules,
            sla: parts.sla,
            email_rules: parts.email,
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
