//! Saved views: an agent keeps ticket filters by name, for themselves, or, as an admin, for
//! every agent.

use growdesk_domain::ValidationErrors;
use growdesk_domain::fold_case;
use growdesk_domain::workspace::{SavedView, Title, ViewFilter};
use growdesk_store::views::TitleCursor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize, authorize_keeping, sees_kept};
use crate::{Principal, Service, ServiceError};

/// Saved view use cases; from [`Service::views`].
#[derive(Clone, Copy)]
pub struct Views<'a> {
    service: &'a Service,
}

impl Service {
    /// Saved view use cases.
    pub fn views(&self) -> Views<'_> {
        Views { service: self }
    }
}

/// A view to keep; `name` is required, but checked here with the other fields.
#[derive(Debug, Clone, Default)]
pub struct NewView {
    pub name: Option<String>,
    /// For every agent (admins only), rather than for the caller.
    pub shared: bool,
    pub filter: ViewFilter,
}

/// Changes to a view; `None` keeps the field as it is.
#[derive(Debug, Clone, Default)]
pub struct ViewChanges {
    pub name: Option<String>,
    pub filter: Option<ViewFilter>,
}

/// A position in the list of views or of canned replies: the folded name or title, the id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TitlePosition {
    key: String,
    id: Uuid,
}

impl TitlePosition {
    pub(crate) fn of(title: &str, id: Uuid) -> Self {
        Self {
            key: fold_case(title),
            id,
        }
    }

    pub(crate) fn cursor(self) -> TitleCursor {
        TitleCursor {
            key: self.key,
            id: self.id,
        }
    }
}

impl Views<'_> {
    /// The caller's own views and the shared ones, by name.
    ///
    /// # Errors
    /// `Forbidden` for customers.
    pub async fn list(
        self,
        actor: &Principal,
        page: PageRequest<TitlePosition>,
    ) -> Result<Page<SavedView>, ServiceError> {
        authorize(actor, Action::KeepPersonal)?;
        let after = page.after.map(TitlePosition::cursor);
        let rows = self
            .service
            .store
            .views()
            .list(actor.user.id, after.as_ref(), page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |view| {
            TitlePosition::of(&view.name, view.id)
        }))
    }

    /// # Errors
    /// `Forbidden` for customers; `NotFound` for a view that is missing or another's own.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<SavedView, ServiceError> {
        authorize(actor, Action::KeepPersonal)?;
        self.service
            .store
            .views()
            .get(id)
            .await?
            .filter(|view| sees_kept(actor, view.owner_id))
            .ok_or(ServiceError::NotFound("view"))
    }

    /// # Errors
    /// `Forbidden` for customers, and for agents sharing a view; `Validation`.
    pub async fn create(self, actor: &Principal, view: NewView) -> Result<SavedView, ServiceError> {
        let owner = (!view.shared).then_some(actor.user.id);
        authorize_keeping(actor, owner)?;
        let mut errors = ValidationErrors::default();
        let name = match view.name {
            Some(name) => errors.check("name", Title::parse(&name)),
            None => {
                errors.add("name", "is required");
                None
            }
        };
        let filter = checked_filter(&mut errors, view.filter);
        let (Some(name), Some(filter)) = (name, filter) else {
            return Err(errors.into());
        };
        Ok(self
            .service
            .store
            .views()
            .create(owner, &name, &filter)
            .await?)
    }

    /// # Errors
    /// As `get`; `Forbidden` for an agent changing a shared view; `Validation`.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        changes: ViewChanges,
    ) -> Result<SavedView, ServiceError> {
        let view = self.get(actor, id).await?;
        authorize_keeping(actor, view.owner_id)?;
        let mut errors = ValidationErrors::default();
        let name = errors.check(
            "name",
            Title::parse(changes.name.as_deref().unwrap_or(&view.name)),
        );
        let filter = checked_filter(&mut errors, changes.filter.unwrap_or(view.filter));
        let (Some(name), Some(filter)) = (name, filter) else {
            return Err(errors.into());
        };
        self.service
            .store
            .views()
            .update(id, &name, &filter)
            .await?
            .ok_or(ServiceError::NotFound("view"))
    }

    /// # Errors
    /// As `get`; `Forbidden` for an agent deleting a shared view.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        let view = self.get(actor, id).await?;
        authorize_keeping(actor, view.owner_id)?;
        if self.service.store.views().delete(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("view"))
        }
    }
}

/// `filter`, validated, with its errors added to `errors`.
fn checked_filter(errors: &mut ValidationErrors, filter: ViewFilter) -> Option<ViewFilter> {
    match filter.validated() {
        Ok(filter) => Some(filter),
        Err(filter_errors) => {
            for field in filter_errors.fields() {
                errors.add(&field.field, field.message.clone());
            }
            None
        }
    }
}
