//! `/api/categories` and `/api/faqs`.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::{Category, Faq};
use growdesk_service::catalog::{CategoryInput, FaqInput, FaqPosition, FaqQuery};
use growdesk_service::pagination::PageRequest;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::{List, nullable, whole_i32};
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category, delete_category))
        .routes(routes!(list_faqs, create_faq))
        .routes(routes!(get_faq, update_faq, delete_faq))
}

/// A new category.
// Required fields are `Option`s all the same, so that a body missing one is answered by the
// service, which names every missing or invalid field at once, rather than by serde.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCategoryRequest {
    /// Unique regardless of case.
    #[schema(schema_with = schemas::category_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = schemas::category_description_or_null)]
    description: Option<String>,
    /// `#rrggbb`; default `#6b7280`.
    #[schema(
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#[0-9a-fA-F]{6}[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    color: Option<String>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "whole_i32")]
    position: Option<i32>,
}

impl From<CreateCategoryRequest> for CategoryInput {
    fn from(body: CreateCategoryRequest) -> Self {
        Self {
            name: body.name,
            description: body.description,
            color: body.color,
            active: body.active,
            position: body.position,
        }
    }
}

/// Changes to a category; omitted fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryRequest {
    /// Unique regardless of case.
    #[schema(schema_with = schemas::category_name_or_null)]
    name: Option<String>,
    #[schema(schema_with = schemas::category_description_or_null)]
    description: Option<String>,
    /// `#rrggbb`.
    #[schema(
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#[0-9a-fA-F]{6}[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    color: Option<String>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "whole_i32")]
    position: Option<i32>,
}

impl From<CategoryRequest> for CategoryInput {
    fn from(body: CategoryRequest) -> Self {
        Self {
            name: body.name,
            description: body.description,
            color: body.color,
            active: body.active,
            position: body.position,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteCategoryQuery {
    /// Move the category's tickets to this category first.
    reassign_to: Option<Uuid>,
}

/// Categories in display order.
///
/// Everyone signed in may read them; customers see active ones only.
#[utoipa::path(get, path = "/api/categories", tag = "categories", security(("bearer" = [])),
    responses(
        (status = 200, description = "The categories", body = List<Category>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_categories(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<List<Category>>, ApiError> {
    Ok(axum::Json(List::whole(
        state.service.catalog().list_categories(&caller).await?,
    )))
}

/// Create a category (admin).
///
/// Names are unique regardless of case (422 for a name in use).
#[utoipa::path(post, path = "/api/categories", tag = "categories", security(("bearer" = [])), request_body = CreateCategoryRequest,
    responses(
        (status = 201, description = "Created", body = Category),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a name in use", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_category(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateCategoryRequest>,
) -> Result<(StatusCode, axum::Json<Category>), ApiError> {
    let category = state
        .service
        .catalog()
        .create_category(&caller, body.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(category)))
}

/// Change a category (admin).
///
/// Only the fields sent change; a new name must not be another category's, regardless of case.
#[utoipa::path(patch, path = "/api/categories/{id}", tag = "categories", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CategoryRequest,
    responses(
        (status = 200, description = "Changed", body = Category),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a name in use", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_category(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CategoryRequest>,
) -> Result<axum::Json<Category>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .catalog()
            .update_category(&caller, id, body.into())
            .await?,
    ))
}

/// Delete a category (admin).
///
/// Tickets using it block the deletion (409) unless `reassign_to` names another category to move
/// them to.
#[utoipa::path(delete, path = "/api/categories/{id}", tag = "categories", security(("bearer" = [])),
    params(("id" = Uuid, Path), DeleteCategoryQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Tickets use it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad reassign_to", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_category(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DeleteCategoryQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .catalog()
        .delete_category(&caller, id, query.reassign_to)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new FAQ.
// Required fields are `Option`s all the same, so that a body missing one is answered by the
// service, which names every missing or invalid field at once, rather than by serde.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateFaqRequest {
    #[schema(schema_with = schemas::faq_question, required = true)]
    question: Option<String>,
    #[schema(schema_with = schemas::faq_answer, required = true)]
    answer: Option<String>,
    /// An existing category.
    category_id: Option<Uuid>,
    published: Option<bool>,
    #[serde(default, deserialize_with = "whole_i32")]
    position: Option<i32>,
}

impl From<CreateFaqRequest> for FaqInput {
    fn from(body: CreateFaqRequest) -> Self {
        Self {
            question: body.question,
            answer: body.answer,
            category_id: Some(body.category_id),
            published: body.published,
            position: body.position,
        }
    }
}

/// Changes to a FAQ; omitted fields stay and `category_id: null` removes the category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaqRequest {
    #[schema(schema_with = schemas::faq_question_or_null)]
    question: Option<String>,
    #[schema(schema_with = schemas::faq_answer_or_null)]
    answer: Option<String>,
    /// An existing category, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    category_id: Option<Option<Uuid>>,
    published: Option<bool>,
    #[serde(default, deserialize_with = "whole_i32")]
    position: Option<i32>,
}

impl From<FaqRequest> for FaqInput {
    fn from(body: FaqRequest) -> Self {
        Self {
            question: body.question,
            answer: body.answer,
            category_id: body.category_id,
            published: body.published,
            position: body.position,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListFaqsQuery {
    published: Option<bool>,
    category_id: Option<Uuid>,
    /// Words that must all appear in the question or answer (accents and case ignored).
    q: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// FAQs for staff, in display order.
///
/// Drafts included; filter by `published`, `category_id` and `q` (every word must appear, ignoring
/// case and accents).
#[utoipa::path(get, path = "/api/faqs", tag = "faqs", security(("bearer" = [])), params(ListFaqsQuery),
    responses(
        (status = 200, description = "The FAQs", body = List<Faq>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_faqs(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListFaqsQuery>,
) -> Result<axum::Json<List<Faq>>, ApiError> {
    let page = PageRequest::<FaqPosition>::parse(query.limit, query.cursor.as_deref())?;
    let filter = FaqQuery {
        published: query.published,
        category_id: query.category_id,
        q: query.q,
    };
    Ok(axum::Json(
        state
            .service
            .catalog()
            .list_faqs(&caller, filter, page)
            .await?
            .into(),
    ))
}

/// Create a FAQ (staff).
///
/// Its category, if given, must exist; an unpublished FAQ is a draft that the widget never shows.
#[utoipa::path(post, path = "/api/faqs", tag = "faqs", security(("bearer" = [])), request_body = CreateFaqRequest,
    responses(
        (status = 201, description = "Created", body = Faq),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_faq(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateFaqRequest>,
) -> Result<(StatusCode, axum::Json<Faq>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .service
                .catalog()
                .create_faq(&caller, body.into())
                .await?,
        ),
    ))
}

/// One FAQ (staff).
///
/// Drafts included.
#[utoipa::path(get, path = "/api/faqs/{id}", tag = "faqs", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The FAQ", body = Faq),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such FAQ", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_faq(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<Faq>, ApiError> {
    Ok(axum::Json(
        state.service.catalog().get_faq(&caller, id).await?,
    ))
}

/// Change a FAQ (staff).
///
/// Only the fields sent change; publishing it shows it on the widget.
#[utoipa::path(patch, path = "/api/faqs/{id}", tag = "faqs", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = FaqRequest,
    responses(
        (status = 200, description = "Changed", body = Faq),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such FAQ", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_faq(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FaqRequest>,
) -> Result<axum::Json<Faq>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .catalog()
            .update_faq(&caller, id, body.into())
            .await?,
    ))
}

/// Delete a FAQ (staff).
///
/// It disappears from the widget at once.
#[utoipa::path(delete, path = "/api/faqs/{id}", tag = "faqs", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such FAQ", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_faq(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.catalog().delete_faq(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
