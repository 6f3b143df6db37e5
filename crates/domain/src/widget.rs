//! Chat widgets: the sites that embed GrowDesk, and how the widget looks there.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Color, Priority, ValidationErrors};

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
    #[serde(deserialize_with = "offline_message_of_today")]
    pub offline_message: String,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            brand_name: "Support".to_owned(),
            color: "#2563eb".to_owned(),
            welcome_message: "Hi! How can we help?".to_owned(),
            position: "right".to_owned(),
            offline_message: default_offline_message(),
        }
    }
}

impl WidgetSettings {
    /// Adds to `errors` what is wrong with these settings, each under `settings.<field>`: the
    /// colour must be `#rrggbb`, the position `right` or `left`, each text at most 500
    /// characters.
    pub fn validate(&self, errors: &mut ValidationErrors) {
        errors.check("settings.color", Color::parse(&self.color));
        if !matches!(self.position.as_str(), "right" | "left") {
            errors.add("settings.position", "must be right or left");
        }
        for (field, text) in [
            ("settings.brand_name", &self.brand_name),
            ("settings.welcome_message", &self.welcome_message),
            ("settings.offline_message", &self.offline_message),
        ] {
            if text.chars().count() > 500 {
                errors.add(field, "must be at most 500 characters");
            }
        }
    }

    /// The colour of text on the widget's colour (its header, launcher and buttons): black or
    /// white, whichever reaches WCAG AA contrast (`Color::text_color`).
    pub fn text_color(&self) -> &'static str {
        Color::parse(&self.color).map_or("#ffffff", |color| color.text_color())
    }
}

/// What the widget says when no agent is online. It promises only the channels GrowDesk can
/// answer through: the widget itself, as there is no outgoing mail yet. When a mailbox can be
/// configured, this is the one place that learns to promise email too.
fn default_offline_message() -> String {
    "We're away right now. Leave a message and we'll reply here.".to_owned()
}

/// The default offline message of older versions, stored with every widget created then. It
/// promised a reply by email, which GrowDesk cannot send.
const RETIRED_DEFAULT_OFFLINE_MESSAGE: &str =
    "We're away right now. Leave a message and we'll reply here and by email.";

/// Reads an offline message, replacing the retired default (a widget saved by an older version,
/// an export of one) with today's, so no widget keeps a promise nobody configured.
fn offline_message_of_today<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let message = String::deserialize(deserializer)?;
    Ok(if message == RETIRED_DEFAULT_OFFLINE_MESSAGE {
        default_offline_message()
    } else {
        message
    })
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
