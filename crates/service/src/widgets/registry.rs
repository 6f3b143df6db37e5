//! The admin's registry of widgets: the sites that may embed the help desk, their look, their
//! identity secret and where their tickets go.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_domain::{PersonName, Priority, ValidationErrors, Widget, WidgetSettings};
use growdesk_store::widgets::WidgetFields;
use rand::RngCore;
use uuid::Uuid;

use super::Widgets;
use crate::policy::{Action, authorize};
use crate::{Principal, ServiceError};

/// A widget's fields to create or change; `None` keeps the current (or default) value.
#[derive(Debug, Clone, Default)]
pub struct WidgetInput {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub settings: Option<WidgetSettings>,
    /// `Some(None)` removes the secret (and with it identity verification).
    pub identity_secret: Option<Option<String>>,
    pub enforce_identity: Option<bool>,
    pub active: Option<bool>,
    pub default_category_id: Option<Option<Uuid>>,
    pub default_priority: Option<Priority>,
}

/// A new public widget key: `wk_` and 144 random bits.
fn new_key() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    format!("wk_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// An origin as browsers send it: scheme, host and optional port, nothing else.
fn check_origin(origin: &str) -> Result<String, String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("{origin:?} must start with https:// or http://"))?;
    // The characters alone let through `http://[` or `http://a:b:c`, which no browser sends as
    // an origin: the text must also be exactly what a URL parser calls that URL's origin.
    let valid = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && url::Url::parse(&origin).is_ok_and(|url| url.origin().ascii_serialization() == origin);
    if valid {
        Ok(origin)
    } else {
        Err(format!(
            "{origin:?} must be scheme://host[:port], without path or wildcard"
        ))
    }
}

fn widget_fields(
    input: WidgetInput,
    current: Option<&Widget>,
) -> Result<WidgetFields, ServiceError> {
    let mut errors = ValidationErrors::default();
    let name = match (&input.name, current) {
        (Some(name), _) => errors
            .check("name", PersonName::parse(name))
            .map(PersonName::into_inner)
            .unwrap_or_default(),
        (None, Some(current)) => current.name.clone(),
        (None, None) => {
            errors.add("name", "is required");
            String::new()
        }
    };
    let allowed_origins = match input.allowed_origins {
        Some(origins) => origins
            .iter()
            .filter_map(|origin| errors.check("allowed_origins", check_origin(origin)))
            .collect(),
        None => current
            .map(|c| c.allowed_origins.clone())
            .unwrap_or_default(),
    };
    let settings = input
        .settings
        .or_else(|| current.map(|c| c.settings.clone()))
        .unwrap_or_default();
    settings.validate(&mut errors);
    let identity_secret = match input.identity_secret {
        Some(Some(secret)) if secret.chars().count() < 16 => {
            errors.add("identity_secret", "must be at least 16 characters");
            None
        }
        Some(secret) => secret,
        None => current.and_then(|c| c.identity_secret.clone()),
    };
    let enforce_identity = input
        .enforce_identity
        .or(current.map(|c| c.enforce_identity))
        .unwrap_or(false);
    if enforce_identity && identity_secret.is_none() {
        errors.add("enforce_identity", "needs an identity_secret");
    }
    let fields = WidgetFields {
        name,
        allowed_origins,
        settings,
        identity_secret,
        enforce_identity,
        active: input.active.or(current.map(|c| c.active)).unwrap_or(true),
        default_category_id: input
            .default_category_id
            .unwrap_or(current.and_then(|c| c.default_category_id)),
        default_priority: input
            .default_priority
            .or(current.map(|c| c.default_priority))
            .unwrap_or_default(),
    };
    Ok(errors.into_result(|| fields)?)
}

impl Widgets<'_> {
    /// Every widget (admin).
    ///
    /// # Errors
    /// `Forbidden` unless admin.
    pub async fn list(self, actor: &Principal) -> Result<Vec<Widget>, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        Ok(self.service.store.widgets().list().await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        self.service
            .store
            .widgets()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `Validation`.
    pub async fn create(
        self,
        actor: &Principal,
        input: WidgetInput,
    ) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        let fields = widget_fields(input, None)?;
        self.check_category(&fields).await?;
        Ok(self
            .service
            .store
            .widgets()
            .create(&new_key(), &fields)
            .await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`; `Validation`.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        input: WidgetInput,
        regenerate_key: bool,
    ) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        let current = self
            .service
            .store
            .widgets()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let fields = widget_fields(input, Some(&current))?;
        self.check_category(&fields).await?;
        let key = regenerate_key.then(new_key);
        self.service
            .store
            .widgets()
            .update(id, key.as_deref(), &fields)
            .await?
            .ok_or(ServiceError::NotFound("widget"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        if self.service.store.widgets().delete(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("widget"))
        }
    }

    async fn check_category(self, fields: &WidgetFields) -> Result<(), ServiceError> {
        match fields.default_category_id {
            Some(category)
                if self
                    .service
                    .store
                    .categories()
                    .get(category)
                    .await?
                    .is_none() =>
            {
                Err(ValidationErrors::single("default_category_id", "is not a category").into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact() {
        assert_eq!(
            check_origin("https://Shop.Example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            check_origin("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        for bad in [
            "shop.example.com",
            "https://*.example.com",
            "https://example.com/path",
            "ftp://x",
            "https://",
            "http://[",
            "http://a:b:c",
            "http://[::1",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
