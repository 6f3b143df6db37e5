//! Who a widget's visitor is: the widget a page names, the visitor its token names, and what
//! that visitor may see.

use growdesk_domain::{Faq, Ticket, Widget};
use growdesk_store::{events::FeedEvent, faqs::FaqFilter, tickets::VisitorScope};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::Visitors;
use crate::{ServiceError, search};

/// FAQs one widget search returns.
const FAQ_PAGE: u32 = 50;

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
    pub(super) fn scope(&self) -> VisitorScope {
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

/// Whether `hash` is the hex HMAC-SHA256 of `identity` under `secret`, compared in constant time.
pub(super) fn identity_proven(secret: &str, identity: &str, hash: &str) -> bool {
    let Ok(expected) = hex::decode(hash.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(identity.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

impl Visitors<'_> {
    /// The widget a page names with its key, if it is active and the page's origin (when the
    /// browser sent one) is one of the widget's.
    ///
    /// # Errors
    /// `NotFound` for an unknown key; `Forbidden` for an inactive widget or another origin.
    pub async fn widget_for_key(
        self,
        key: &str,
        origin: Option<&str>,
    ) -> Result<Widget, ServiceError> {
        let widget = self
            .service
            .store
            .widgets()
            .by_key(key)
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
    pub async fn any_widget_allows(self, origin: &str) -> Result<bool, ServiceError> {
        Ok(self.service.store.widgets().any_allows(origin).await?)
    }

    /// Published FAQs, searched with `q`. Reads only.
    ///
    /// # Errors
    /// The database failed.
    pub async fn faqs(self, q: Option<&str>) -> Result<Vec<Faq>, ServiceError> {
        let filter = FaqFilter {
            published: Some(true),
            category_id: None,
            terms: q.map(search::terms).unwrap_or_default(),
        };
        Ok(self
            .service
            .store
            .faqs()
            .list(&filter, None, FAQ_PAGE)
            .await?)
    }

    /// The visitor a token names, on this widget, while the accounts it speaks for are active.
    ///
    /// # Errors
    /// `Unauthenticated` for a token that is invalid, expired, for another widget, or of a
    /// deactivated account.
    pub async fn visitor(self, widget: &Widget, token: &str) -> Result<Visitor, ServiceError> {
        let refused = || ServiceError::Unauthenticated("invalid or expired visitor token");
        let claims = self
            .service
            .keys
            .verify_visitor(token)
            .filter(|claims| claims.wid == widget.id)
            .ok_or_else(refused)?;
        let visitor = self
            .service
            .store
            .widgets()
            .active_visitor(claims.sub)
            .await?
            .filter(|visitor| visitor.widget_id == widget.id)
            .ok_or_else(refused)?;
        if let Some(identity) = claims.idn
            && identity != visitor.user_id
            && !self
                .service
                .store
                .users()
                .get(identity)
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
