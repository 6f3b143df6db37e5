//! Opening a ticket: a customer's own, one staff open on a user's behalf (a new customer
//! created for a new email), and the widget's, all stored through `open_ticket`.

use growdesk_domain::{
    MessageBody, Priority, Role, Subject, Tags, Ticket, TicketSource, User, ValidationErrors,
};
use growdesk_store::{
    idempotency::{Created, IdempotencyClaim},
    tickets::NewTicket,
    widgets::Visitor,
};
use serde::Serialize;
use uuid::Uuid;

use super::Tickets;
use crate::accounts::NewAccount;
use crate::policy::sees_internal;
use crate::{Principal, ServiceError, idempotency};

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

impl Tickets<'_> {
    /// Opens a ticket. Customers open their own; staff may open one on behalf of a user given
    /// by id or by email (creating a customer for a new email).
    ///
    /// # Errors
    /// `Validation` for bad fields or unknown references; `Forbidden` for requester fields
    /// from a customer.
    pub async fn create(
        self,
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
        let ticket = NewTicket {
            id: Uuid::now_v7(),
            subject,
            priority: draft.priority.unwrap_or_default(),
            category_id: draft.category_id,
            requester_id,
            source,
            tags,
            actor_id: actor.user.id,
            description,
            extra_events: Vec::new(),
            visitor_id: None,
            context: None,
            channel: source.into(),
            mailbox_id: None,
            attachments: Vec::new(),
            notes: Vec::new(),
            mail: Vec::new(),
            inbound: None,
        };
        self.open(ticket, &actor.user, None, claim.as_ref()).await
    }

    /// Stores a validated ticket opened by `opener` with its notifications, and a widget's
    /// `new_visitor` (named by the ticket's `visitor_id`) only if the ticket is stored,
    /// honouring an idempotency claim.
    pub(crate) async fn open(
        self,
        mut new: NewTicket,
        opener: &User,
        new_visitor: Option<&Visitor>,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Ticket, ServiceError> {
        new.extra_events = self
            .service
            .notifications()
            .for_new_ticket(new.id, new.subject.as_str(), opener)
            .await?;
        let id = match self
            .service
            .store
            .tickets()
            .create_with_visitor(new, new_visitor, claim)
            .await?
        {
            Created::New(id) => {
                tracing::info!(ticket_id = %id, by = %opener.id, "ticket opened");
                id
            }
            Created::Replayed(id) => id,
            Created::KeyReused => return Err(idempotency::reused()),
        };
        self.service
            .store
            .tickets()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))
    }

    async fn requester_for(
        self,
        actor: &Principal,
        draft: &TicketDraft,
    ) -> Result<Uuid, ServiceError> {
        if let Some(id) = draft.requester_id {
            return match self.service.store.users().get(id).await? {
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
        self,
        email: &str,
        name: Option<&str>,
        field: &str,
    ) -> Result<User, ServiceError> {
        let email_field = format!("{field}_email");
        let parsed = growdesk_domain::Email::parse(email)
            .map_err(|error| ValidationErrors::single(&email_field, error.to_string()))?;
        if let Some(existing) = self
            .service
            .store
            .users()
            .credentials_by_email(parsed.as_str())
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
        match self.service.operator().create_user(account).await {
            Ok(user) => Ok(user),
            // Created by a concurrent request a moment ago.
            Err(ServiceError::Conflict(_)) => self
                .service
                .store
                .users()
                .credentials_by_email(parsed.as_str())
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
        self,
        id: Uuid,
        errors: &mut ValidationErrors,
    ) -> Result<(), ServiceError> {
        match self.service.store.categories().get(id).await? {
            Some(category) if category.active => {}
            Some(_) => errors.add("category_id", "is an inactive category"),
            None => errors.add("category_id", "is not a category"),
        }
        Ok(())
    }
}
