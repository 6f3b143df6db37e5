//! Widget use cases: the admin's registry of sites, and everything a visitor on those sites
//! does — open a conversation, read and answer it, see published FAQs.
//!
//! A visitor is known only by the visitor token issued with their first ticket: it is bound to
//! its widget and grants exactly the tickets opened with it. An email typed into the widget
//! proves nothing; an identity hash (HMAC-SHA256 of the normalised email — as `Email` keeps it
//! — with the widget's identity secret, computed by the site's backend) proves it, and then the
//! visitor may also see that customer's earlier tickets. A visitor is never staff: a staff
//! address is refused, and a visitor speaks with a customer's rights whatever the account's
//! role becomes.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_domain::{
    Color, Email, Faq, Message, MessageBody, PersonName, Priority, Role, Subject, Ticket,
    TicketSource, ValidationErrors, Widget, WidgetSettings,
};
use growdesk_store::{
    FaqFilter, FeedEvent, TicketFilter, TicketSort, Visitor as StoredVisitor, VisitorScope,
    WidgetFields,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;

use crate::messages::MessageDraft;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize};
use crate::tickets::{OpenTicket, TicketPosition};
use crate::{Principal, Service, ServiceError, idempotency, search};

/// Longest page URL and user agent kept with a widget ticket.
const MAX_CONTEXT_LEN: usize = 2_000;
/// FAQs one widget search returns.
const FAQ_PAGE: u32 = 50;

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

/// What a visitor types to open a conversation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VisitorTicketDraft {
    pub name: String,
    pub email: String,
    pub message: String,
    pub subject: Option<String>,
    pub page_url: Option<String>,
    pub user_agent: Option<String>,
    /// Hex HMAC-SHA256 of the normalised email (trimmed, NFKC, lower-cased) with the widget's
    /// identity secret.
    pub identity_hash: Option<String>,
}

/// A visitor, as their token names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    pub visitor_id: Uuid,
    pub widget_id: Uuid,
    /// The customer the visitor's first conversation was filed under.
    pub account_id: Uuid,
    /// The customer whose identity the visitor proved.
    pub identity_user_id: Option<Uuid>,
    /// When the token expires.
    pub expires_at: i64,
}

impl Visitor {
    fn scope(&self) -> VisitorScope {
        VisitorScope {
            visitor_id: self.visitor_id,
            identity_user_id: self.identity_user_id,
        }
    }

    /// The accounts the visitor speaks for: their access ends with either's.
    pub fn accounts(&self) -> Vec<Uuid> {
        self.identity_user_id
            .into_iter()
            .chain([self.account_id])
            .collect()
    }

    /// Whether the visitor may see `ticket`.
    pub fn sees(&self, ticket: &Ticket) -> bool {
        ticket.visitor_id == Some(self.visitor_id)
            || self
                .identity_user_id
                .is_some_and(|identity| ticket.requester.id == identity)
    }

    /// Whether the visitor receives a logged event: public events of tickets they may see.
    pub fn receives(&self, feed: &FeedEvent) -> bool {
        let event = &feed.event;
        event.recipient_id.is_none()
            && !event.internal
            && (feed.visitor_id == Some(self.visitor_id)
                || (self.identity_user_id.is_some() && feed.requester_id == self.identity_user_id))
    }
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

/// Whether `hash` is the hex HMAC-SHA256 of `identity` under `secret`, compared in constant time.
fn identity_proven(secret: &str, identity: &str, hash: &str) -> bool {
    let Ok(expected) = hex::decode(hash.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(identity.as_bytes());
    mac.verify_slice(&expected).is_ok()
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
    errors.check("settings.color", Color::parse(&settings.color));
    if !matches!(settings.position.as_str(), "right" | "left") {
        errors.add("settings.position", "must be right or left");
    }
    for (field, text) in [
        ("settings.brand_name", &settings.brand_name),
        ("settings.welcome_message", &settings.welcome_message),
        ("settings.offline_message", &settings.offline_message),
    ] {
        if text.chars().count() > 500 {
            errors.add(field, "must be at most 500 characters");
        }
    }
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

impl Service {
    /// Every widget (admin).
    ///
    /// # Errors
    /// `Forbidden` unless admin.
    pub async fn list_widgets(&self, actor: &Principal) -> Result<Vec<Widget>, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        Ok(self.store.list_widgets().await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn get_widget(&self, actor: &Principal, id: Uuid) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        self.store
            .widget(id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `Validation`.
    pub async fn create_widget(
        &self,
        actor: &Principal,
        input: WidgetInput,
    ) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        let fields = widget_fields(input, None)?;
        self.check_widget_category(&fields).await?;
        Ok(self.store.create_widget(&new_key(), &fields).await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`; `Validation`.
    pub async fn update_widget(
        &self,
        actor: &Principal,
        id: Uuid,
        input: WidgetInput,
        regenerate_key: bool,
    ) -> Result<Widget, ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        let current = self
            .store
            .widget(id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let fields = widget_fields(input, Some(&current))?;
        self.check_widget_category(&fields).await?;
        let key = regenerate_key.then(new_key);
        self.store
            .update_widget(id, key.as_deref(), &fields)
            .await?
            .ok_or(ServiceError::NotFound("widget"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn delete_widget(&self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageWidgets)?;
        if self.store.delete_widget(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("widget"))
        }
    }

    async fn check_widget_category(&self, fields: &WidgetFields) -> Result<(), ServiceError> {
        match fields.default_category_id {
            Some(category) if self.store.category(category).await?.is_none() => {
                Err(ValidationErrors::single("default_category_id", "is not a category").into())
            }
            _ => Ok(()),
        }
    }

    /// The widget a page names with its key, if it is active and the page's origin (when the
    /// browser sent one) is one of the widget's.
    ///
    /// # Errors
    /// `NotFound` for an unknown key; `Forbidden` for an inactive widget or another origin.
    pub async fn widget_for_key(
        &self,
        key: &str,
        origin: Option<&str>,
    ) -> Result<Widget, ServiceError> {
        let widget = self
            .store
            .widget_by_key(key)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        if !widget.active {
            return Err(ServiceError::Forbidden("this widget is inactive"));
        }
        if origin.is_some_and(|origin| {
            !widget
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin)
        }) {
            return Err(ServiceError::Forbidden("this site may not use this widget"));
        }
        Ok(widget)
    }

    /// Whether any active widget allows `origin` (CORS preflights carry no key).
    ///
    /// # Errors
    /// The database failed.
    pub async fn any_widget_allows(&self, origin: &str) -> Result<bool, ServiceError> {
        Ok(self.store.any_widget_allows(origin).await?)
    }

    /// Published FAQs, searched with `q`. Reads only.
    ///
    /// # Errors
    /// The database failed.
    pub async fn widget_faqs(&self, q: Option<&str>) -> Result<Vec<Faq>, ServiceError> {
        let filter = FaqFilter {
            published: Some(true),
            category_id: None,
            terms: q.map(search::terms).unwrap_or_default(),
        };
        Ok(self.store.list_faqs(&filter, None, FAQ_PAGE).await?)
    }

    /// The visitor a token names, on this widget, while the accounts it speaks for are active.
    ///
    /// # Errors
    /// `Unauthenticated` for a token that is invalid, expired, for another widget, or of a
    /// deactivated account.
    pub async fn visitor(&self, widget: &Widget, token: &str) -> Result<Visitor, ServiceError> {
        let refused = || ServiceError::Unauthenticated("invalid or expired visitor token");
        let claims = self
            .keys
            .verify_visitor(token)
            .filter(|claims| claims.wid == widget.id)
            .ok_or_else(refused)?;
        let visitor = self
            .store
            .active_visitor(claims.sub)
            .await?
            .filter(|visitor| visitor.widget_id == widget.id)
            .ok_or_else(refused)?;
        if let Some(identity) = claims.idn
            && identity != visitor.user_id
            && !self
                .store
                .user(identity)
                .await?
                .is_some_and(|user| user.active)
        {
            return Err(refused());
        }
        Ok(Visitor {
            visitor_id: visitor.id,
            widget_id: widget.id,
            account_id: visitor.user_id,
            identity_user_id: claims.idn,
            expires_at: claims.exp,
        })
    }

    /// Opens a conversation from the widget: a ticket filed under the customer with the typed
    /// email (created when new), and a visitor token for it — the same visitor's when `visitor`
    /// is given.
    ///
    /// # Errors
    /// `Validation`; `Unauthenticated` for a missing or wrong identity hash when the widget
    /// enforces identity; `RateLimited`.
    pub async fn widget_open_ticket(
        &self,
        widget: &Widget,
        visitor: Option<Visitor>,
        draft: VisitorTicketDraft,
        ip: IpAddr,
        idempotency_key: Option<&str>,
    ) -> Result<(Ticket, String), ServiceError> {
        self.widget_limits.check(ip, widget.id)?;
        let mut errors = ValidationErrors::default();
        let name = errors.check("name", PersonName::parse(&draft.name));
        let email = errors.check("email", Email::parse(&draft.email));
        let message = errors.check("message", MessageBody::parse(&draft.message));
        let subject = match &draft.subject {
            Some(subject) => errors.check("subject", Subject::parse(subject)),
            None => name.as_ref().and_then(|name| {
                Subject::parse(&format!("Chat with {}", name.clone().into_inner())).ok()
            }),
        };
        for (field, value) in [
            ("page_url", &draft.page_url),
            ("user_agent", &draft.user_agent),
        ] {
            if value
                .as_ref()
                .is_some_and(|value| value.chars().count() > MAX_CONTEXT_LEN)
            {
                errors.add(
                    field,
                    format!("must be at most {MAX_CONTEXT_LEN} characters"),
                );
            }
        }
        let (name, email, message, subject) =
            errors.into_result(|| (name, email, message, subject))?;
        let (Some(name), Some(email), Some(message), Some(subject)) =
            (name, email, message, subject)
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        // The requester may be created below, before the key can be claimed.
        idempotency::check_key(idempotency_key)?;
        let proven = match (&widget.identity_secret, &draft.identity_hash) {
            (Some(secret), Some(hash)) => identity_proven(secret, email.as_str(), hash),
            _ => false,
        };
        if widget.enforce_identity && !proven {
            return Err(ServiceError::Unauthenticated(
                "this site requires a valid identity hash of the normalised email",
            ));
        }
        let requester = self
            .customer_for_email(
                email.as_str(),
                Some(&name.clone().into_inner()),
                "requester",
            )
            .await?;
        // A visitor is never staff: a staff address typed (or even proven) in a widget would
        // file the conversation under that account and speak for it.
        if requester.role.is_staff() {
            return Err(ValidationErrors::single(
                "email",
                "belongs to a staff account; staff answer from the help desk",
            )
            .into());
        }
        // The key is scoped to the widget, not to a visitor: a retry whose first answer was
        // lost carries no token yet, and must find the first ticket rather than make a second
        // visitor. The fingerprint names the returning visitor, so no other visitor's retry
        // can replay it.
        let claim = idempotency::claim(
            requester.id,
            idempotency_key
                .map(|key| format!("widget:{}:{key}", widget.id))
                .as_deref(),
            "widget_ticket",
            &(&draft, visitor.map(|visitor| visitor.visitor_id)),
        )?;
        // A returning visitor keeps their id (and any identity they proved before).
        let (visitor_id, new_visitor, proven_before) = match visitor {
            Some(visitor) => (visitor.visitor_id, None, visitor.identity_user_id),
            None => {
                let id = Uuid::now_v7();
                let new_visitor = StoredVisitor {
                    id,
                    widget_id: widget.id,
                    user_id: requester.id,
                };
                (id, Some(new_visitor), None)
            }
        };
        let ticket = OpenTicket {
            actor: &requester,
            requester_id: requester.id,
            subject: subject.into_inner(),
            description: message.into_inner(),
            priority: widget.default_priority,
            category_id: widget.default_category_id,
            tags: Vec::new(),
            source: TicketSource::Widget,
            visitor_id: Some(visitor_id),
            new_visitor,
            context: serde_json::json!({"widget_id": widget.id, "page_url": draft.page_url, "user_agent": draft.user_agent, "identity_verified": proven}),
        };
        let ticket = self.open_ticket(ticket, claim.as_ref()).await?;
        // A replayed retry answers with the visitor the first request recorded.
        let visitor_id = ticket.visitor_id.ok_or(ServiceError::NotFound("visitor"))?;
        let identity_user_id = if proven {
            Some(requester.id)
        } else {
            proven_before
        };
        let token = self
            .keys
            .issue_visitor(visitor_id, widget.id, identity_user_id)
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        Ok((ticket, token))
    }

    /// A page of the visitor's tickets, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visitor_tickets(
        &self,
        visitor: &Visitor,
        page: PageRequest<TicketPosition>,
    ) -> Result<Page<Ticket>, ServiceError> {
        let filter = TicketFilter {
            visitor: Some(visitor.scope()),
            ..TicketFilter::default()
        };
        let cursor = page
            .after
            .map(|position| position.cursor(TicketSort::CreatedAt, true))
            .transpose()
            .map_err(|reason| ValidationErrors::single("cursor", reason))?;
        let rows = self
            .store
            .list_tickets(&filter, TicketSort::CreatedAt, true, cursor, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |ticket| {
            TicketPosition::of(ticket, TicketSort::CreatedAt, true)
        }))
    }

    /// A ticket the visitor may see.
    ///
    /// # Errors
    /// `NotFound` for any other.
    pub async fn visitor_ticket(
        &self,
        visitor: &Visitor,
        ticket_id: Uuid,
    ) -> Result<Ticket, ServiceError> {
        self.store
            .ticket(ticket_id)
            .await?
            .filter(|ticket| visitor.sees(ticket))
            .ok_or(ServiceError::NotFound("ticket"))
    }

    /// The requester of a ticket the visitor may see, as the principal their messages are
    /// written by — with a customer's rights whatever the account's role: a browser that never
    /// signed in must not read internal notes or answer as staff because the account was
    /// promoted after the conversation began.
    async fn speaking_for(
        &self,
        visitor: &Visitor,
        ticket_id: Uuid,
    ) -> Result<Principal, ServiceError> {
        let ticket = self.visitor_ticket(visitor, ticket_id).await?;
        let mut user = self
            .store
            .user(ticket.requester.id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))?;
        if !user.active {
            return Err(ServiceError::Forbidden(
                "this conversation's account is deactivated",
            ));
        }
        user.role = Role::Customer;
        let access_expires_at = time::OffsetDateTime::from_unix_timestamp(visitor.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Ok(Principal {
            user,
            session_id: visitor.visitor_id,
            access_expires_at,
        })
    }

    /// A page of a visitor's ticket's public messages, oldest first.
    ///
    /// # Errors
    /// `NotFound` for a ticket the visitor may not see.
    pub async fn visitor_messages(
        &self,
        visitor: &Visitor,
        ticket_id: Uuid,
        page: PageRequest<Uuid>,
    ) -> Result<Page<Message>, ServiceError> {
        let requester = self.speaking_for(visitor, ticket_id).await?;
        self.list_messages(&requester, ticket_id, page).await
    }

    /// Posts the visitor's reply, as the ticket's requester.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` for a closed ticket; `Validation`; `RateLimited`.
    pub async fn visitor_post_message(
        &self,
        visitor: &Visitor,
        ticket_id: Uuid,
        body: String,
        ip: IpAddr,
        idempotency_key: Option<&str>,
    ) -> Result<Message, ServiceError> {
        self.widget_limits.check(ip, visitor.widget_id)?;
        let requester = self.speaking_for(visitor, ticket_id).await?;
        let key = idempotency_key.map(|key| format!("widget:{}:{key}", visitor.visitor_id));
        self.post_message(
            &requester,
            ticket_id,
            MessageDraft {
                body,
                internal: false,
                files: Vec::new(),
            },
            key.as_deref(),
        )
        .await
    }

    /// The events a visitor's socket missed after `after`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn visitor_missed_events(
        &self,
        visitor: &Visitor,
        after: i64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, ServiceError> {
        Ok(self
            .store
            .visitor_events_after(visitor.scope(), after, limit)
            .await?)
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

    #[test]
    fn identity_hashes_are_hmac_sha256() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"site-secret-0123456789").unwrap();
        mac.update(b"ana@example.com");
        let hash = hex::encode(mac.finalize().into_bytes());
        assert!(identity_proven(
            "site-secret-0123456789",
            "ana@example.com",
            &hash
        ));
        assert!(!identity_proven(
            "site-secret-0123456789",
            "eve@example.com",
            &hash
        ));
        assert!(!identity_proven(
            "another-secret-000000",
            "ana@example.com",
            &hash
        ));
        assert!(!identity_proven(
            "site-secret-0123456789",
            "ana@example.com",
            "not hex"
        ));
    }
}
