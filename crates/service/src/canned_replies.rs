//! Canned replies: an agent keeps texts to insert into replies, for themselves, or, as an admin,
//! for every agent.
//!
//! Placeholders (`{{requester.name}}`, `{{ticket.number}}`, `{{agent.name}}`) are stored as
//! written and filled in by the client when it inserts a reply into its composer: the client
//! has the ticket and the agent at hand, and the agent edits the text before sending it, so a
//! server-side rendering would add a round trip for nothing.

use growdesk_domain::workspace::{CannedReply, Shortcut, Title};
use growdesk_domain::{MessageBody, ValidationErrors, fold_case};
use growdesk_store::canned_replies::ReplyFields;
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize, authorize_keeping, sees_kept};
use crate::views::TitlePosition;
use crate::{Principal, Service, ServiceError};

/// Canned reply use cases; from [`Service::canned_replies`].
#[derive(Clone, Copy)]
pub struct CannedReplies<'a> {
    service: &'a Service,
}

impl Service {
    /// Canned reply use cases.
    pub fn canned_replies(&self) -> CannedReplies<'_> {
        CannedReplies { service: self }
    }
}

/// A reply's fields to create or change; `None` keeps the current value (`title` and `body`
/// are required to create one), and `shortcut: Some(None)` removes the shortcut.
#[derive(Debug, Clone, Default)]
pub struct ReplyInput {
    pub title: Option<String>,
    pub body: Option<String>,
    pub shortcut: Option<Option<String>>,
}

impl CannedReplies<'_> {
    /// The caller's own replies and the shared ones, by title; with `prefix`, only those whose
    /// title or shortcut starts with it, case aside.
    ///
    /// # Errors
    /// `Forbidden` for customers.
    pub async fn list(
        self,
        actor: &Principal,
        prefix: Option<&str>,
        page: PageRequest<TitlePosition>,
    ) -> Result<Page<CannedReply>, ServiceError> {
        authorize(actor, Action::KeepPersonal)?;
        // A prefix longer than any title matches none; the API documents the same bound.
        if prefix.is_some_and(|prefix| prefix.chars().count() > Title::MAX_LEN) {
            let limit = format!("must be at most {} characters", Title::MAX_LEN);
            return Err(ValidationErrors::single("prefix", limit).into());
        }
        let prefix = prefix
            .map(|prefix| fold_case(prefix.trim()))
            .filter(|prefix| !prefix.is_empty());
        let after = page.after.map(TitlePosition::cursor);
        let rows = self
            .service
            .store
            .canned_replies()
            .list(
                actor.user.id,
                prefix.as_deref(),
                after.as_ref(),
                page.limit + 1,
            )
            .await?;
        Ok(Page::from_rows(rows, page.limit, |reply| {
            TitlePosition::of(&reply.title, reply.id)
        }))
    }

    /// # Errors
    /// `Forbidden` for customers; `NotFound` for a reply that is missing or another's own.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<CannedReply, ServiceError> {
        authorize(actor, Action::KeepPersonal)?;
        self.service
            .store
            .canned_replies()
            .get(id)
            .await?
            .filter(|reply| sees_kept(actor, reply.owner_id))
            .ok_or(ServiceError::NotFound("canned reply"))
    }

    /// # Errors
    /// `Forbidden` for customers, and for agents sharing a reply; `Validation`.
    pub async fn create(
        self,
        actor: &Principal,
        shared: bool,
        input: ReplyInput,
    ) -> Result<CannedReply, ServiceError> {
        let owner = (!shared).then_some(actor.user.id);
        authorize_keeping(actor, owner)?;
        let fields = reply_fields(input, None)?;
        Ok(self
            .service
            .store
            .canned_replies()
            .create(owner, &fields)
            .await?)
    }

    /// # Errors
    /// As `get`; `Forbidden` for an agent changing a shared reply; `Validation`.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        input: ReplyInput,
    ) -> Result<CannedReply, ServiceError> {
        let reply = self.get(actor, id).await?;
        authorize_keeping(actor, reply.owner_id)?;
        let fields = reply_fields(input, Some(reply))?;
        self.service
            .store
            .canned_replies()
            .update(id, &fields)
            .await?
            .ok_or(ServiceError::NotFound("canned reply"))
    }

    /// # Errors
    /// As `get`; `Forbidden` for an agent deleting a shared reply.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        let reply = self.get(actor, id).await?;
        authorize_keeping(actor, reply.owner_id)?;
        if self.service.store.canned_replies().delete(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("canned reply"))
        }
    }
}

/// `input` over `current` (if any), checked field by field.
fn reply_fields(
    input: ReplyInput,
    current: Option<CannedReply>,
) -> Result<ReplyFields, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let (title, body, shortcut) = match current {
        Some(reply) => (
            input.title.or(Some(reply.title)),
            input.body.or(Some(reply.body)),
            input.shortcut.unwrap_or(reply.shortcut),
        ),
        None => (input.title, input.body, input.shortcut.flatten()),
    };
    let mut required = |field: &str, value: Option<String>| {
        if value.is_none() {
            errors.add(field, "is required");
        }
        value
    };
    let title = required("title", title);
    let body = required("body", body);
    let title = title.and_then(|title| errors.check("title", Title::parse(&title)));
    let body = body.and_then(|body| errors.check("body", MessageBody::parse(&body)));
    let shortcut = match shortcut {
        Some(shortcut) => errors
            .check("shortcut", Shortcut::parse(&shortcut))
            .map(Some),
        None => Some(None),
    };
    match (title, body, shortcut) {
        (Some(title), Some(body), Some(shortcut)) if errors.fields().is_empty() => {
            Ok(ReplyFields {
                title,
                body,
                shortcut,
            })
        }
        _ => Err(errors),
    }
}
