//! Category and FAQ use cases.

use growdesk_domain::{Category, Color, Faq, ValidationErrors};
use growdesk_store::{
    StoreError,
    categories::{CategoryDeletion, CategoryFields},
    faqs::{FaqCursor, FaqFields, FaqFilter},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize};
use crate::{Principal, Service, ServiceError, search};

/// Category and FAQ use cases; from [`Service::catalog`].
#[derive(Clone, Copy)]
pub struct Catalog<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// Category and FAQ use cases.
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { service: self }
    }
}

/// Longest category name.
const MAX_NAME: usize = 100;
/// Longest category description, FAQ question and FAQ answer.
const MAX_DESCRIPTION: usize = 1_000;
const MAX_QUESTION: usize = 500;
const MAX_ANSWER: usize = 20_000;

/// Fields of a category to create or change; `None` keeps the current (or default) value.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub active: Option<bool>,
    pub position: Option<i32>,
}

/// Fields of a FAQ to create or change; `None` keeps the current (or default) value, and
/// `category_id: Some(None)` removes the category.
#[derive(Debug, Clone, Default)]
pub struct FaqInput {
    pub question: Option<String>,
    pub answer: Option<String>,
    pub category_id: Option<Option<Uuid>>,
    pub published: Option<bool>,
    pub position: Option<i32>,
}

/// Filters of the staff FAQ list.
#[derive(Debug, Clone, Default)]
pub struct FaqQuery {
    pub published: Option<bool>,
    pub category_id: Option<Uuid>,
    pub q: Option<String>,
}

/// A position in the FAQ list.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FaqPosition {
    position: i32,
    id: Uuid,
}

/// Trims `raw` and checks its length (`required`: not empty).
fn text(
    errors: &mut ValidationErrors,
    field: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let value = raw.trim();
    if required && value.is_empty() {
        errors.add(field, "must not be empty");
    } else if value.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        errors.add(field, "must not contain control characters");
    }
    value.to_owned()
}

fn name_taken(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict => {
            ValidationErrors::single("name", "is already used by another category").into()
        }
        other => other.into(),
    }
}

fn unknown_category(error: StoreError) -> ServiceError {
    match error {
        StoreError::MissingReference => {
            ValidationErrors::single("category_id", "is not a category").into()
        }
        other => other.into(),
    }
}

impl Catalog<'_> {
    /// Every category, in display order; customers see active ones only.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_categories(self, actor: &Principal) -> Result<Vec<Category>, ServiceError> {
        let active_only = authorize(actor, Action::WorkQueue).is_err();
        Ok(self.service.store.categories().list(active_only).await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `Validation`, including a name already used (case aside).
    pub async fn create_category(
        self,
        actor: &Principal,
        input: CategoryInput,
    ) -> Result<Category, ServiceError> {
        authorize(actor, Action::ManageCategories)?;
        let fields = category_fields(input, None)?;
        self.service
            .store
            .categories()
            .create(fields)
            .await
            .map_err(name_taken)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`; `Validation`.
    pub async fn update_category(
        self,
        actor: &Principal,
        id: Uuid,
        input: CategoryInput,
    ) -> Result<Category, ServiceError> {
        authorize(actor, Action::ManageCategories)?;
        let current = self
            .service
            .store
            .categories()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("category"))?;
        let fields = category_fields(input, Some(&current))?;
        self.service
            .store
            .categories()
            .update(id, fields)
            .await
            .map_err(name_taken)?
            .ok_or(ServiceError::NotFound("category"))
    }

    /// Deletes a category. When tickets use it, `reassign_to` must name another category for
    /// them; otherwise the answer is a conflict.
    ///
    /// # Errors
    /// `Forbidden` unless admin; `NotFound`; `Conflict` when in use; `Validation` for a bad
    /// `reassign_to`.
    pub async fn delete_category(
        self,
        actor: &Principal,
        id: Uuid,
        reassign_to: Option<Uuid>,
    ) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageCategories)?;
        if let Some(target) = reassign_to {
            let valid =
                target != id && self.service.store.categories().get(target).await?.is_some();
            if !valid {
                return Err(ValidationErrors::single(
                    "reassign_to",
                    "must be another existing category",
                )
                .into());
            }
        }
        let deletion = self
            .service
            .store
            .categories()
            .delete(id, reassign_to, actor.user.id)
            .await
            .map_err(|error| match error {
                StoreError::MissingReference => {
                    ValidationErrors::single("reassign_to", "must be another existing category")
                        .into()
                }
                other => ServiceError::from(other),
            })?;
        match deletion {
            CategoryDeletion::Deleted { .. } => Ok(()),
            CategoryDeletion::NotFound => Err(ServiceError::NotFound("category")),
            CategoryDeletion::InUse { tickets } => Err(ServiceError::Conflict(format!(
                "{tickets} ticket(s) use this category; pass ?reassign_to=<category id> to move them"
            ))),
        }
    }

    /// A page of FAQs for staff, with filters and search.
    ///
    /// # Errors
    /// `Forbidden` for customers.
    pub async fn list_faqs(
        self,
        actor: &Principal,
        query: FaqQuery,
        page: PageRequest<FaqPosition>,
    ) -> Result<Page<Faq>, ServiceError> {
        authorize(actor, Action::ManageFaqs)?;
        let filter = FaqFilter {
            published: query.published,
            category_id: query.category_id,
            terms: query.q.as_deref().map(search::terms).unwrap_or_default(),
        };
        let after = page.after.map(|position| FaqCursor {
            position: position.position,
            id: position.id,
        });
        let rows = self
            .service
            .store
            .faqs()
            .list(&filter, after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |faq| FaqPosition {
            position: faq.position,
            id: faq.id,
        }))
    }

    /// # Errors
    /// `Forbidden` for customers; `NotFound`.
    pub async fn get_faq(self, actor: &Principal, id: Uuid) -> Result<Faq, ServiceError> {
        authorize(actor, Action::ManageFaqs)?;
        self.service
            .store
            .faqs()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("faq"))
    }

    /// # Errors
    /// `Forbidden` for customers; `Validation`.
    pub async fn create_faq(self, actor: &Principal, input: FaqInput) -> Result<Faq, ServiceError> {
        authorize(actor, Action::ManageFaqs)?;
        let fields = faq_fields(input, None)?;
        self.service
            .store
            .faqs()
            .create(fields)
            .await
            .map_err(unknown_category)
    }

    /// # Errors
    /// `Forbidden` for customers; `NotFound`; `Validation`.
    pub async fn update_faq(
        self,
        actor: &Principal,
        id: Uuid,
        input: FaqInput,
    ) -> Result<Faq, ServiceError> {
        authorize(actor, Action::ManageFaqs)?;
        let current = self
            .service
            .store
            .faqs()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("faq"))?;
        let fields = faq_fields(input, Some(&current))?;
        self.service
            .store
            .faqs()
            .update(id, fields)
            .await
            .map_err(unknown_category)?
            .ok_or(ServiceError::NotFound("faq"))
    }

    /// # Errors
    /// `Forbidden` for customers; `NotFound`.
    pub async fn delete_faq(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageFaqs)?;
        if self.service.store.faqs().delete(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("faq"))
        }
    }
}

fn category_fields(
    input: CategoryInput,
    current: Option<&Category>,
) -> Result<CategoryFields, ServiceError> {
    let mut errors = ValidationErrors::default();
    let name = match (&input.name, current) {
        (Some(name), _) => text(&mut errors, "name", name, MAX_NAME, true),
        (None, Some(current)) => current.name.clone(),
        (None, None) => {
            errors.add("name", "is required");
            String::new()
        }
    };
    let description = match (&input.description, current) {
        (Some(description), _) => text(
            &mut errors,
            "description",
            description,
            MAX_DESCRIPTION,
            false,
        ),
        (None, current) => current.map(|c| c.description.clone()).unwrap_or_default(),
    };
    let color = match (&input.color, current) {
        (Some(color), _) => errors
            .check("color", Color::parse(color))
            .map(Color::into_inner)
            .unwrap_or_default(),
        (None, Some(current)) => current.color.clone(),
        (None, None) => Color::DEFAULT.to_owned(),
    };
    let fields = CategoryFields {
        name,
        description,
        color,
        active: input.active.or(current.map(|c| c.active)).unwrap_or(true),
        position: input.position.or(current.map(|c| c.position)).unwrap_or(0),
    };
    Ok(errors.into_result(|| fields)?)
}

fn faq_fields(input: FaqInput, current: Option<&Faq>) -> Result<FaqFields, ServiceError> {
    let mut errors = ValidationErrors::default();
    let mut required = |field: &str,
                        given: &Option<String>,
                        existing: Option<&String>,
                        max: usize| match (given, existing) {
        (Some(value), _) => text(&mut errors, field, value, max, true),
        (None, Some(existing)) => existing.clone(),
        (None, None) => {
            errors.add(field, "is required");
            String::new()
        }
    };
    let question = required(
        "question",
        &input.question,
        current.map(|f| &f.question),
        MAX_QUESTION,
    );
    let answer = required(
        "answer",
        &input.answer,
        current.map(|f| &f.answer),
        MAX_ANSWER,
    );
    let fields = FaqFields {
        question,
        answer,
        category_id: input
            .category_id
            .unwrap_or(current.and_then(|f| f.category_id)),
        published: input
            .published
            .or(current.map(|f| f.published))
            .unwrap_or(false),
        position: input.position.or(current.map(|f| f.position)).unwrap_or(0),
    };
    Ok(errors.into_result(|| fields)?)
}
