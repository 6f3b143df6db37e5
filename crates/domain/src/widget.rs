//! Chat widgets: the sites that embed GrowDesk, and how the widget looks there.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Priority;

/// How a widget looks and greets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetSettings {
    /// Shown in the widget's header.
    #[schema(max_length = 500)]
    pub brand_name: String,
    /// `#rrggbb`.
    #[schema(
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*#[0-9a-fA-F]{6}[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub color: String,
    #[schema(max_length = 500)]
    pub welcome_message: String,
    /// `right` or `left` bottom corner.
    #[schema(pattern = "^(right|left)$")]
    pub position: String,
    /// Shown when no agent is online.
    #[schema(max_length = 500)]
    pub offline_message: String,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            brand_name: "Support".to_owned(),
            color: "#2563eb".to_owned(),
            welcome_message: "Hi! How can we help?".to_owned(),
            position: "right".to_owned(),
            offline_message:
                "We're away right now. Leave a message and we'll reply here and by email."
                    .to_owned(),
        }
    }
}

/// A registered widget (admin view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Widget {
    pub id: Uuid,
    /// Public key the embedding page sends as `X-Widget-Key`; regenerable.
    pub key: String,
    pub name: String,
    /// Exact origins (`https://shop.example.com`) allowed to use the widget.
    pub allowed_origins: Vec<String>,
    pub settings: WidgetSettings,
    /// HMAC-SHA256 key the site's backend uses for identity hashes; `null` when unused.
    pub identity_secret: Option<String>,
    /// Refuse visitors without a valid identity hash.
    pub enforce_identity: bool,
    pub active: bool,
    pub default_category_id: Option<Uuid>,
    pub default_priority: Priority,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
