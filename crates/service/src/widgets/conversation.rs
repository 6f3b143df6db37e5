//! A visitor's conversations: opening one from the widget, reading and answering it, and the
//! events their socket missed.

use std::net::IpAddr;

use growdesk_domain::event::WidgetContext;
use growdesk_domain::{
    Email, Message, MessageBody, MessageChannel, PersonName, Role, Subject, Tags, Ticket,
    TicketSource, ValidationErrors, Widget,
};
use growdesk_store::{
    events::{FeedEvent, Span},
    tickets::{NewTicket, TicketFilter, TicketSort},
    widgets::Visitor as StoredVisitor,
};
use serde::Serialize;
use uuid::Uuid;

use super::Visitors;
use super::visitor::{Visitor, identity_proven};
use crate::messages::MessageDraft;
use crate::pagination::{Page, PageRequest};
use crate::tickets::TicketPosition;
use crate::{Principal, ServiceError, idempotency, policy};

/// Longest page URL and user agent kept with a widget ticket.
const MAX_CONTEXT_LEN: usize = 2_000;

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

impl Visitors<'_> {
    /// Opens a conversation from the widget: a ticket filed under the customer with the typed
    /// email (created when new), and a visitor token for it — the same visitor's when `visitor`
    /// is given.
    ///
    /// # Errors
    /// `Validation`; `Unauthenticated` for a missing or wrong identity hash when the widget
    /// enforces identity; `RateLimited`.
    pub async fn open_ticket(
        self,
        widget: &Widget,
        visitor: Option<Visitor>,
        draft: VisitorTicketDraft,
        ip: IpAddr,
        idempotency_key: Option<&str>,
    ) -> Result<(Ticket, String), ServiceError> {
        self.service.widget_limits.check(ip, widget.id)?;
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
            .service
            .tickets()
            .customer_for_email(
                email.as_str(),
                Some(&name.clone().into_inner()),
                "requester",
            )
            .await?;
        if !policy::may_write_as_visitor(&requester) {
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
        let ticket = NewTicket {
            id: Uuid::now_v7(),
            subject,
            priority: widget.default_priority,
            category_id: widget.default_category_id,
            requester_id: requester.id,
            source: TicketSource::Widget,
            tags: Tags::default(),
            actor_id: requester.id,
            description: message,
            extra_events: Vec::new(),
            visitor_id: Some(visitor_id),
            context: Some(WidgetContext {
                widget_id: widget.id,
                page_url: draft.page_url.clone(),
                user_agent: draft.user_agent.clone(),
                identity_verified: proven,
            }),
            channel: MessageChannel::Widget,
            mailbox_id: None,
            attachments: Vec::new(),
            notes: Vec::new(),
            mail: Vec::new(),
            inbound: None,
        };
        let ticket = self
            .service
            .tickets()
            .open(ticket, &requester, new_visitor.as_ref(), claim.as_ref())
            .await?;
        // A replayed retry answers with the visitor the first request recorded.
        let visitor_id = ticket.visitor_id.ok_or(ServiceError::NotFound("visitor"))?;
        let identity_user_id = if proven {
            Some(requester.id)
        } else {
            proven_before
        };
        let token = self
            .service
            .keys
            .issue_visitor(visitor_id, widget.id, identity_user_id)
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        Ok((ticket, token))
    }

    /// A page of the visitor's tickets, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn tickets(
        self,
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
            .service
            .store
            .tickets()
            .list(&filter, TicketSort::CreatedAt, true, cursor, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |ticket| {
            TicketPosition::of(ticket, TicketSort::CreatedAt, true)
        }))
    }

    /// A ticket the visitor may see.
    ///
    /// # Errors
    /// `NotFound` for any other.
    pub async fn ticket(self, visitor: &Visitor, ticket_id: Uuid) -> Result<Ticket, ServiceError> {
        self.service
            .store
            .tickets()
            .get(ticket_id)
            .await?
            .filter(|ticket| visitor.sees(ticket))
            .ok_or(ServiceError::NotFound("ticket"))
    }

    /// The requester of a ticket the visitor may see, as the principal their messages are
    /// written by — with a customer's rights whatever the account's role: a browser that never
    /// signed in must not read internal notes or answer as staff because the account was
    /// promoted after the conversation began.
    async fn speaking_for(
        self,
        visitor: &Visitor,
        ticket_id: Uuid,
    ) -> Result<Principal, ServiceError> {
        let ticket = self.ticket(visitor, ticket_id).await?;
        let mut user = self
            .service
            .store
            .users()
            .get(ticket.requester.id)
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
    pub async fn messages(
        self,
        visitor: &Visitor,
        ticket_id: Uuid,
        page: PageRequest<Uuid>,
    ) -> Result<Page<Message>, ServiceError> {
        let requester = self.speaking_for(visitor, ticket_id).await?;
        self.service
            .messages()
            .list(&requester, ticket_id, page)
            .await
    }

    /// Posts the visitor's reply, as the ticket's requester.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` for a closed ticket; `Validation`; `RateLimited`.
    pub async fn post_message(
        self,
        visitor: &Visitor,
        ticket_id: Uuid,
        body: String,
        ip: IpAddr,
        idempotency_key: Option<&str>,
    ) -> Result<Message, ServiceError> {
        self.service.widget_limits.check(ip, visitor.widget_id)?;
        let requester = self.speaking_for(visitor, ticket_id).await?;
        let key = idempotency_key.map(|key| format!("widget:{}:{key}", visitor.visitor_id));
        self.service
            .messages()
            .post_by(
                &requester,
                ticket_id,
                MessageDraft {
                    body,
                    internal: false,
                    files: Vec::new(),
                },
                key.as_deref(),
                MessageChannel::Widget,
            )
            .await
    }

    /// The events of `span` a visitor's socket missed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn missed_events(
        self,
        visitor: &Visitor,
        span: Span,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, ServiceError> {
        Ok(self
            .service
            .store
            .events()
            .visitor_after(visitor.scope(), span, limit)
            .await?)
    }
}
