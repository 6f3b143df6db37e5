//! `/api/users`: the admin's account management.

use axum::extract::State;
use axum::http::StatusCode;
use growdesk_domain::{Role, User};
use growdesk_service::accounts::{AccountChanges, NewAccount, UserQuery};
use growdesk_service::pagination::PageRequest;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::List;
use crate::schemas;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, deactivate_user))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListUsersQuery {
    /// Only users of this role.
    role: Option<Role>,
    /// Only active (`true`) or deactivated (`false`) users.
    active: Option<bool>,
    /// Case-insensitive text within the email or the name.
    q: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUserRequest {
    #[schema(schema_with = schemas::email)]
    email: String,
    /// Defaults to the part of the email before `@`.
    #[schema(schema_with = schemas::person_name_or_null)]
    name: Option<String>,
    role: Role,
    /// Omit to create an account that cannot sign in with a password yet.
    #[schema(schema_with = schemas::password_or_null)]
    password: Option<String>,
}

/// Fields to change; omitted ones stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    #[schema(schema_with = schemas::person_name_or_null)]
    name: Option<String>,
    /// Changing the role invalidates the user's access tokens.
    role: Option<Role>,
    /// `false` deactivates (signs the user out everywhere); `true` reactivates.
    active: Option<bool>,
    /// Sets a new password and signs the user out everywhere.
    #[schema(schema_with = schemas::password_or_null)]
    password: Option<String>,
}

/// List users (admin; agents list the active staff).
///
/// Filter by `role`, `active` and `q` (name or email, ignoring case); paged with `limit` and
/// `cursor`. Agents may list only active colleagues, one role at a time (`role=agent` or
/// `role=admin`, with `active=true`): whom they mention in notes and assign tickets to.
#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = [])), params(ListUsersQuery),
    responses(
        (status = 200, description = "A page of users, oldest first", body = List<User>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, nor staff listing the active staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<axum::Json<List<User>>, ApiError> {
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    let filter = UserQuery {
        role: query.role,
        active: query.active,
        q: query.q,
    };
    let page = state.service.accounts().list(&caller, filter, page).await?;
    Ok(axum::Json(page.into()))
}

/// Create a user of any role (admin).
///
/// The email is normalised as at sign-up; one already in use is 409.
#[utoipa::path(post, path = "/api/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, axum::Json<User>), ApiError> {
    let account = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
    };
    let user = state.service.accounts().create(&caller, account).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// One user (admin).
///
/// Deactivated users too, with `active: false`.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(state.service.accounts().get(&caller, id).await?))
}

/// Change a user (admin).
///
/// Name, role, active and password; omitted fields stay as they are. A role change, a deactivation
/// or a new password takes effect at once on the user's sessions; the last active admin cannot be
/// demoted or deactivated (409).
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no active admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<axum::Json<User>, ApiError> {
    let changes = AccountChanges {
        name: body.name,
        role: body.role,
        active: body.active,
        password: body.password,
    };
    Ok(axum::Json(
        state
            .service
            .accounts()
            .update(&caller, id, changes)
            .await?,
    ))
}

/// Deactivate a user (admin).
///
/// The account and its history stay; the user can no longer sign in and their tokens stop working
/// at once. The last active admin cannot be deactivated (409).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The deactivated user", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no active admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn deactivate_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(
        state.service.accounts().deactivate(&caller, id).await?,
    ))
}
