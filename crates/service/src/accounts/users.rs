//! Users: the caller's own profile, and the admin's list, creation and changes of accounts
//! (never locking the installation out of its last admin).

use growdesk_domain::{Email, Password, PersonName, Role, User, ValidationErrors};
use growdesk_store::{
    StoreError,
    users::{NewUser, UserChanges, UserFilter},
};
use uuid::Uuid;

use super::Accounts;
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, allows, authorize, removes_an_admin};
use crate::{Principal, ServiceError};

/// Changes a user makes to their own account.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    /// Staff only: be notified of every new ticket.
    pub notify_new_tickets: Option<bool>,
    /// A new password; needs `current_password`.
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// An account an admin (or the operator) creates.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// `None` creates an account that cannot sign in with a password yet.
    pub password: Option<String>,
}

/// Changes an admin makes to an account.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Sets a new password and signs the user out everywhere.
    pub password: Option<String>,
}

/// Filters for the user list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

impl Accounts<'_> {
    /// Changes the caller's name or password. A new password needs the current one and ends
    /// every other session of the caller.
    ///
    /// # Errors
    /// `Validation` for bad fields or a wrong current password; `RateLimited` after repeated
    /// wrong current passwords.
    pub async fn update_profile(
        self,
        actor: &Principal,
        changes: ProfileChanges,
    ) -> Result<User, ServiceError> {
        if changes.notify_new_tickets.is_some()
            && !allows(actor.user.role, Action::FollowNewTickets)
        {
            return Err(ServiceError::Forbidden(
                "only staff are notified of new tickets",
            ));
        }
        let mut errors = ValidationErrors::default();
        let name = changes
            .name
            .as_deref()
            .and_then(|name| errors.check("name", PersonName::parse(name)));
        let password = changes
            .password
            .as_deref()
            .and_then(|password| errors.check("password", Password::parse(password)));
        if password.is_some() && changes.current_password.is_none() {
            errors.add("current_password", "is required to change the password");
        }
        errors.into_result(|| ())?;

        let password_hash = match (&password, &changes.current_password) {
            (Some(password), Some(current)) => {
                self.service.limits.check_account(&actor.user.email)?;
                let stored = self
                    .service
                    .sessions()
                    .credentials(actor.user.id)
                    .await?
                    .password_hash;
                if !self
                    .service
                    .hasher
                    .verify(current, stored.as_deref())
                    .await?
                {
                    return Err(ValidationErrors::single("current_password", "is incorrect").into());
                }
                Some(self.service.hasher.hash(password).await?)
            }
            _ => None,
        };
        let password_changed = password_hash.is_some();
        let user = self
            .service
            .store
            .users()
            .update(
                actor.user.id,
                UserChanges {
                    name: name.map(PersonName::into_inner),
                    password_hash,
                    notify_new_tickets: changes.notify_new_tickets,
                    ..UserChanges::default()
                },
            )
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if password_changed {
            let ended = self
                .service
                .store
                .sessions()
                .revoke_all(user.id, Some(actor.session_id))
                .await?;
            tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
        }
        Ok(user)
    }

    /// One page of users: any for an admin; for an agent, the active staff of one role only
    /// (`role` agent or admin, `active` true), the colleagues they mention and assign tickets to.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin, or staff asking for active staff.
    pub async fn list(
        self,
        actor: &Principal,
        query: UserQuery,
        page: PageRequest<Uuid>,
    ) -> Result<Page<User>, ServiceError> {
        let colleagues = query.active == Some(true) && query.role.is_some_and(Role::is_staff);
        authorize(
            actor,
            if colleagues {
                Action::WorkQueue
            } else {
                Action::ManageUsers
            },
        )?;
        let filter = UserFilter {
            role: query.role,
            active: query.active,
            query: query
                .q
                .map(|q| q.trim().to_owned())
                .filter(|q| !q.is_empty()),
        };
        let rows = self
            .service
            .store
            .users()
            .list(&filter, page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |user| user.id))
    }

    /// One user.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `NotFound`.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<User, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        self.service
            .store
            .users()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Creates an account of any role.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `Validation`; `Conflict` for a taken email.
    pub async fn create(self, actor: &Principal, input: NewAccount) -> Result<User, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        let user = self.insert(input).await?;
        tracing::info!(user_id = %user.id, role = %user.role, by = %actor.user.id, "user created");
        Ok(user)
    }

    /// Changes an account. Role changes and deactivation invalidate the user's tokens at once;
    /// a new password signs them out everywhere. The last active admin cannot be demoted or
    /// deactivated, so an installation never locks itself out.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `NotFound`; `Validation`; `Conflict` for the
    /// last admin.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        changes: AccountChanges,
    ) -> Result<User, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        let mut errors = ValidationErrors::default();
        let name = changes
            .name
            .as_deref()
            .and_then(|name| errors.check("name", PersonName::parse(name)));
        let password = changes
            .password
            .as_deref()
            .and_then(|password| errors.check("password", Password::parse(password)));
        errors.into_result(|| ())?;

        let current = self
            .service
            .store
            .users()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if removes_an_admin(&current, changes.role, changes.active) {
            self.ensure_another_admin(id).await?;
        }
        let password_hash = match password {
            Some(password) => Some(self.service.hasher.hash(&password).await?),
            None => None,
        };
        let signs_out = password_hash.is_some() || changes.active == Some(false);
        let bump = signs_out || changes.role.is_some_and(|role| role != current.role);
        let user = self
            .service
            .store
            .users()
            .update(
                id,
                UserChanges {
                    name: name.map(PersonName::into_inner),
                    role: changes.role,
                    active: changes.active,
                    password_hash,
                    bump_token_version: bump,
                    notify_new_tickets: None,
                },
            )
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if signs_out {
            self.service.store.sessions().revoke_all(id, None).await?;
        }
        tracing::info!(user_id = %id, by = %actor.user.id, "user updated");
        Ok(user)
    }

    /// Deactivates an account: the user can no longer sign in, and their tokens stop working at
    /// once. History stays.
    ///
    /// # Errors
    /// As `update_user`.
    pub async fn deactivate(self, actor: &Principal, id: Uuid) -> Result<User, ServiceError> {
        self.update(
            actor,
            id,
            AccountChanges {
                active: Some(false),
                ..AccountChanges::default()
            },
        )
        .await
    }

    async fn ensure_another_admin(self, leaving: Uuid) -> Result<(), ServiceError> {
        let admins = UserFilter {
            role: Some(Role::Admin),
            active: Some(true),
            query: None,
        };
        let others = self.service.store.users().list(&admins, None, 2).await?;
        if others.iter().any(|admin| admin.id != leaving) {
            Ok(())
        } else {
            Err(ServiceError::Conflict(
                "the last active admin cannot be demoted or deactivated".to_owned(),
            ))
        }
    }

    pub(super) async fn insert(self, input: NewAccount) -> Result<User, ServiceError> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(&input.email));
        let name = match input.name.as_deref() {
            Some(name) => errors.check("name", PersonName::parse(name)),
            None => email.as_ref().map(PersonName::from_email),
        };
        let password = input
            .password
            .as_deref()
            .and_then(|password| errors.check("password", Password::parse(password)));
        let (email, name) = errors.into_result(|| (email, name))?;
        let (Some(email), Some(name)) = (email, name) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let password_hash = match password {
            Some(password) => Some(self.service.hasher.hash(&password).await?),
            None => None,
        };
        let created = self
            .service
            .store
            .users()
            .create(NewUser {
                email: email.into_inner(),
                name: name.into_inner(),
                role: input.role,
                password_hash,
            })
            .await;
        match created {
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(
                "an account with this email already exists".to_owned(),
            )),
            other => Ok(other?),
        }
    }
}
