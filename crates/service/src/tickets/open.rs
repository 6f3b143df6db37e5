//! Opening a ticket: a customer's own, one staff open on a user's behalf (a new customer
//! created for a new email), and the widget's, all stored through `open_ticket`.

use growdesk_domain::{
    MessageBody, Priority, Role, Subject, Tags, Ticket, TicketSource, User, ValidationErrors,
};
use growdesk_store::{Created, IdempotencyClaim, NewTicket, Visitor};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::NewAccount;
use crate::policy::sees_internal;
use crate::{Principal, Service, ServiceError, idempotency};

/// A ticket to open.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketDraft {
    pub subject: String,
    /// The first message.
    pub description: String,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub source: Option<TicketSource>,
    /// Staff only: open it for this existing user…
    pub requester_id: Option<Uuid>,
    /// …or for this email, creating a customer when it is new.
    pub requester_email: Option<String>,
    /// The new customer's name (with `requester_email`).
    pub requester_name: Option<String>,
}

/// A validated ticket about to be stored.
pub(crate) struct OpenTicket<'a> {
    pub(crate) actor: &'a growdesk_domain::User,
    pub(crate) requester_id: Uuid,
    pub(crate) subject: String,
    pub(crate) description: String,
    pub(crate) priority: Priority,
    pub(crate) category_id: Option<Uuid>,
    pub(crate) tags: Vec<String>,
    pub(crate) source: TicketSource,
    pub(crate) visitor_id: Option<Uuid>,
    /// A widget's new visitor (named by `visitor_id`), recorded only if the ticket is.
    pub(crate) new_visitor: Option<Visitor>,
    pub(crate) context: serde_json::Value,
}

impl Service {
    /// Opens a ticket. Customers open their own; staff may open one on behalf of a user given
    /// by id or by email (creating a customer for a new email).
    ///
    /// # Errors
    /// `Validation` for bad fields or unknown references; `Forbidden` for requester fields
    /// from a customer.
    pub async fn create_ticket(
        &self,
        actor: &Principal,
        draft: TicketDraft,
        idempotency_key: Option<&str>,
    ) -> Result<Ticket, ServiceError> {
        let staff = sees_internal(actor);
        if !staff
            && (draft.requester_id.is_some()
                || draft.requester_email.is_some()
                || draft.requester_name.is_some())
        {
            return Err(ServiceError::Forbidden(
                "customers open tickets for themselves",
            ));
        }
        let mut errors = ValidationErrors::default();
        let subject = errors.check("subject", Subject::parse(&draft.subject));
        let description = errors.check("description", MessageBody::parse(&draft.description));
        let tags = errors.check("tags", Tags::parse(&draft.tags));
        let source = draft.source.unwrap_or(if staff {
            TicketSource::Api
        } else {
            TicketSource::Web
        });
        if source == TicketSource::Import && !staff {
            errors.add("source", "only staff may mark a ticket as imported");
        }
        if draft.requester_id.is_some() && draft.requester_email.is_some() {
            errors.add(
                "requester_email",
                "give requester_id or requester_email, not both",
            );
        }
        if let Some(category) = draft.category_id {
            self.check_category(category, &mut errors).await?;
        }
        let claim = idempotency::claim(actor.user.id, idempotency_key, "create_ticket", &draft)?;
        let (subject, description, tags) = errors.into_result(|| (subject, description, tags))?;
        let (Some(subject), Some(description), Some(tags)) = (subject, description, tags) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let requester_id = self.requester_for(actor, &draft).await?;
        let ticket = OpenTicket {
            actor: &actor.user,
            requester_id,
            subject: subject.into_inner(),
            description: description.into_inner(),
            priority: draft.priority.unwrap_or_default(),
            category_id: draft.category_id,
            tags: tags.into_inner(),
            source,
            visitor_id: None,
            new_visitor: None,
            context: serde_json::Value::Null,
        };
        self.open_ticket(ticket, claim.as_ref()).await
    }

    /// Stores a validated ticket with its notifications, honouring an idempotency claim.
    pub(crate) async fn open_ticket(
        &self,
        ticket: OpenTicket<'_>,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Ticket, ServiceError> {
        let id = Uuid::now_v7();
        let extra_events = self
            .new_ticket_notifications(id, &ticket.subject, ticket.actor)
            .await?;
        let new = NewTicket {
            id,
            extra_events,
            subject: ticket.subject,
            priority: ticket.priority,
            category_id: ticket.category_id,
            requester_id: ticket.requester_id,
            source: ticket.source,
            tags: ticket.tags,
            actor_id: ticket.actor.id,
            description: ticket.description,
            visitor_id: ticket.visitor_id,
            context: ticket.context,
        };
        let id = match self
            .store
            .create_ticket_with_visitor(new, ticket.new_visitor.as_ref(), claim)
            .await?
        {
            Created::New(id) => {
                tracing::info!(ticket_id = %id, by = %ticket.actor.id, "ticket opened");
                id
            }
            Created::Replayed(id) => id,
            Created::KeyReused => return Err(idempotency::reused()),
        };
        self.store
            .ticket(id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))
    }

    async fn requester_for(
        &self,
        actor: &Principal,
        draft: &TicketDraft,
    ) -> Result<Uuid, ServiceError> {
        if let Some(id) = draft.requester_id {
            return match self.store.user(id).await? {
                Some(user) if user.active => Ok(user.id),
                _ => Err(ValidationErrors::single("requester_id", "is not an active user").into()),
            };
        }
        match &draft.requester_email {
            Some(email) => self
                .customer_for_email(email, draft.requester_name.as_deref(), "requester")
                .await
                .map(|user| user.id),
            None => Ok(actor.user.id),
        }
    }

    /// The active user with `email`, or a new customer with it (named `name`). Errors name
    /// `{field}_email` and `{field}_name`.
    pub(crate) async fn customer_for_email(
        &self,
        email: &str,
        name: Option<&str>,
        field: &str,
    ) -> Result<User, ServiceError> {
        let email_field = format!("{field}_email");
        let parsed = growdesk_domain::Email::parse(email)
            .map_err(|error| ValidationErrors::single(&email_field, error.to_string()))?;
        if let Some(existing) = self
            .store
            .user_credentials_by_email(parsed.as_str())
            .await?
        {
            return if existing.user.active {
                Ok(existing.user)
            } else {
                Err(ValidationErrors::single(&email_field, "belongs to a deactivated user").into())
            };
        }
        let account = NewAccount {
            email: email.to_owned(),
            name: name.map(str::to_owned),
            role: Role::Customer,
            password: None,
        };
        match self.create_user_as_operator(account).await {
            Ok(user) => Ok(user),
            // Created by a concurrent request a moment ago.
            Err(ServiceError::Conflict(_)) => self
                .store
                .user_credentials_by_email(parsed.as_str())
                .await?
                .map(|credentials| credentials.user)
                .ok_or_else(|| {
                    ServiceError::Conflict("the requester could not be created".to_owned())
                }),
            Err(ServiceError::Validation(errors)) => {
                let message = errors
                    .fields()
                    .first()
                    .map_or_else(String::new, |field| field.message.clone());
                Err(ValidationErrors::single(&format!("{field}_name"), message).into())
            }
            Err(other) => Err(other),
        }
    }

    pub(super) async fn check_category(
        &self,
        id: Uuid,
        errors: &mut ValidationErrors,
    ) -> Result<(), ServiceError> {
        match self.store.category(id).await? {
            Some(category) if category.active => {}
            Some(_) => errors.add("category_id", "is an inactive category"),
            None => errors.add("category_id", "is not a category"),
        }
        Ok(())
    }
}
