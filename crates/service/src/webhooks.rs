//! Webhooks: the admin's subscriptions, the guard that keeps deliveries off internal networks,
//! and Standard Webhooks signing.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use growdesk_domain::webhook::is_webhook_event;
use growdesk_domain::{ValidationErrors, Webhook, WebhookDelivery};
use growdesk_store::webhooks::WebhookFields;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;
use uuid::Uuid;

use crate::global_address::not_global;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize};
use crate::{Principal, Service, ServiceError};

/// The admin's webhook subscriptions and their delivery log; from [`Service::webhooks`].
#[derive(Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The admin's webhook subscriptions and their delivery log.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { service: self }
    }
}

/// A webhook's fields as sent; on change, omitted ones stay.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// The addresses `url` reaches, refused when any of them is not globally reachable unicast
/// (see `global_address`; unless `allow_private`). Deliveries connect to exactly these, so a name that resolves differently
/// a moment later (DNS rebinding) cannot redirect them.
///
/// # Errors
/// Why the target is refused, in words for the admin.
pub async fn resolve_target(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().ok_or("has no host")?;
    let port = url.port_or_known_default().ok_or("has no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| format!("cannot be resolved: {error}"))?
        .collect();
    if addresses.is_empty() {
        return Err("resolves to no address".to_owned());
    }
    if !allow_private
        && let Some((address, reason)) = addresses
            .iter()
            .find_map(|address| Some((address.ip(), not_global(address.ip())?)))
    {
        return Err(format!(
            "points at {address}, which is not a public address: {reason}"
        ));
    }
    Ok(addresses)
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    format!("whsec_{}", BASE64.encode(rand::random::<[u8; 32]>()))
}

/// The `webhook-signature` header for message `id` sent at `timestamp` (Unix seconds):
/// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes.
///
/// # Errors
/// The secret is not `whsec_` and base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|error| format!("the webhook secret is not base64: {error}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|error| error.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

impl Webhooks<'_> {
    async fn fields(
        self,
        input: WebhookInput,
        current: Option<&Webhook>,
    ) -> Result<WebhookFields, ServiceError> {
        let mut errors = ValidationErrors::default();
        let url = input.url.or_else(|| current.map(|c| c.url.clone()));
        match url.as_deref().map(Url::parse) {
            None => errors.add("url", "is required"),
            Some(Err(error)) => errors.add("url", format!("is not a URL: {error}")),
            Some(Ok(parsed)) if !matches!(parsed.scheme(), "http" | "https") => {
                errors.add("url", "must be http or https");
            }
            Some(Ok(parsed)) => {
                if let Err(reason) =
                    resolve_target(&parsed, self.service.webhook_rules.allow_private_targets).await
                {
                    errors.add("url", reason);
                }
            }
        }
        let mut event_types = input
            .event_types
            .or_else(|| current.map(|c| c.event_types.clone()))
            .unwrap_or_default();
        event_types.sort();
        event_types.dedup();
        if event_types.is_empty() {
            errors.add("event_types", "name at least one event type, or `*`");
        }
        for event_type in event_types.iter().filter(|name| !is_webhook_event(name)) {
            errors.add(
                "event_types",
                format!("{event_type:?} is not an event type"),
            );
        }
        let active = input.active.or(current.map(|c| c.active)).unwrap_or(true);
        Ok(errors.into_result(|| WebhookFields {
            url: url.unwrap_or_default(),
            event_types,
            active,
        })?)
    }

    /// Every webhook (admin).
    ///
    /// # Errors
    /// `Forbidden` unless admin.
    pub async fn list(self, actor: &Principal) -> Result<Vec<Webhook>, ServiceError> {
        authorize(actor, Action::ManageWebhooks)?;
        Ok(self.service.store.webhooks().list().await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<Webhook, ServiceError> {
        authorize(actor, Action::ManageWebhooks)?;
        self.service
            .store
            .webhooks()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `Validation`, a non-public target included.
    pub async fn create(
        self,
        actor: &Principal,
        input: WebhookInput,
    ) -> Result<Webhook, ServiceError> {
        authorize(actor, Action::ManageWebhooks)?;
        let fields = self.fields(input, None).await?;
        Ok(self
            .service
            .store
            .webhooks()
            .create(&new_secret(), &fields)
            .await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`; `Validation`.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        input: WebhookInput,
    ) -> Result<Webhook, ServiceError> {
        let current = self.get(actor, id).await?;
        let fields = self.fields(input, Some(&current)).await?;
        self.service
            .store
            .webhooks()
            .update(id, &fields)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageWebhooks)?;
        if self.service.store.webhooks().delete(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("webhook"))
        }
    }

    /// A webhook's deliveries, newest first (admin).
    ///
    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn deliveries(
        self,
        actor: &Principal,
        id: Uuid,
        page: PageRequest<i64>,
    ) -> Result<Page<WebhookDelivery>, ServiceError> {
        self.get(actor, id).await?;
        let rows = self
            .service
            .store
            .webhooks()
            .deliveries(id, page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |delivery| delivery.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example from the Standard Webhooks specification's reference implementations.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
