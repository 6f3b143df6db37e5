//! Account use cases: registration, sign-in, token refresh and sign-out, the caller's own
//! profile, the admin's user management, and the first admin.

use std::net::IpAddr;

use growdesk_domain::{Email, Password, PersonName, Role, User, ValidationErrors};
use growdesk_store::{
    NewSession, NewUser, RotateOutcome, Stamp, StoreError, UserChanges, UserCredentials, UserFilter,
};
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::auth::tokens::{new_refresh_token, refresh_token_hash};
use crate::pagination::{Page, PageRequest};
use crate::policy::{Action, authorize};
use crate::{Principal, Service, ServiceError};

/// The one answer to every failed sign-in, whatever failed.
const INVALID_CREDENTIALS: &str = "invalid email or password";
/// The one answer to every unusable token.
const INVALID_TOKEN: &str = "invalid or expired token";

/// A fresh pair of tokens and the user they are for.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: User,
}

/// A customer signing themselves up.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub password: String,
    /// Defaults to the part of the email before `@`.
    pub name: Option<String>,
}

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

/// What the start-up check did about the first admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// An active admin already exists.
    Present,
    /// Created from the configured email and password.
    Created { email: String },
    /// Created with a random password, to be shown once to the operator.
    CreatedWithPassword { email: String, password: String },
}

/// A random password for an account whose owner is shown it once: as long and as random as
/// a refresh token.
pub fn generated_password() -> String {
    new_refresh_token()
}

/// The address used for the first admin when none is configured.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@growdesk.local";

impl Service {
    /// Signs a customer up and signs them in.
    ///
    /// # Errors
    /// `Forbidden` when registration is switched off, `Validation` for bad fields, `Conflict`
    /// when the email is taken, `RateLimited` after too many attempts from this address.
    pub async fn register(
        &self,
        input: Registration,
        ip: IpAddr,
    ) -> Result<SignedIn, ServiceError> {
        if !self.rules.allow_registration {
            return Err(ServiceError::Forbidden("self-registration is switched off"));
        }
        self.limits.check_ip(ip)?;
        let user = self
            .insert_account(NewAccount {
                email: input.email,
                name: input.name,
                role: Role::Customer,
                password: Some(input.password),
            })
            .await?;
        tracing::info!(user_id = %user.id, "customer registered");
        let credentials = self.credentials(user.id).await?;
        self.open_session(credentials).await
    }

    /// Checks an email and password and opens a session.
    ///
    /// # Errors
    /// `Unauthenticated` with the same message for an unknown email, a wrong password or a
    /// deactivated account; `RateLimited` after too many attempts from this address or on this
    /// account.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<SignedIn, ServiceError> {
        self.limits.check_ip(ip)?;
        let email = Email::parse(email)
            .map_err(|error| ValidationErrors::single("email", error.to_string()))?;
        // No stored password is longer, and hashing megabytes would be a cheap way to burn CPU.
        if password.chars().count() > Password::MAX_LEN {
            let message = format!("must be at most {} characters", Password::MAX_LEN);
            return Err(ValidationErrors::single("password", message).into());
        }
        self.limits.check_account(email.as_str())?;
        let found = self.store.user_credentials_by_email(email.as_str()).await?;
        let stored_hash = found
            .as_ref()
            .filter(|credentials| credentials.user.active)
            .and_then(|credentials| credentials.password_hash.as_deref());
        let verified = self.hasher.verify(password, stored_hash).await?;
        match found {
            Some(credentials) if verified => {
                tracing::info!(user_id = %credentials.user.id, %ip, "sign-in succeeded");
                self.open_session(credentials).await
            }
            _ => {
                tracing::warn!(%ip, "sign-in failed");
                Err(ServiceError::Unauthenticated(INVALID_CREDENTIALS))
            }
        }
    }

    /// Exchanges a refresh token for a new pair. Presenting a spent token revokes its whole
    /// session: either the client or a thief replayed it, and the session cannot be trusted.
    /// Within `refresh_reuse_grace` of the exchange that spent it, though, it is the same client
    /// asking twice (several tabs of one browser refreshing at once; the OAuth 2.0 security BCP
    /// allows for it): the session is kept and the duplicate told to use the pair the first
    /// exchange stored, which no response can repeat since only its hash is kept.
    ///
    /// # Errors
    /// `Conflict` for a duplicate within the grace window; `Unauthenticated` for an unknown,
    /// spent, expired or revoked token.
    pub async fn refresh(&self, refresh_token: &str, ip: IpAddr) -> Result<SignedIn, ServiceError> {
        self.limits.check_ip(ip)?;
        let old_hash = refresh_token_hash(refresh_token)
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let next = new_refresh_token();
        let next_hash =
            refresh_token_hash(&next).ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let outcome = self
            .store
            .rotate_refresh_token(&old_hash, &next_hash, self.session_end())
            .await?;
        match outcome {
            RotateOutcome::Rotated {
                session_id,
                user_id,
            } => {
                let credentials = self.credentials(user_id).await?;
                self.signed_in(credentials, session_id, next)
            }
            RotateOutcome::Reused {
                session_id,
                user_id,
                spent_at,
            } => {
                let since_spent = Stamp::now().into_inner() - spent_at.into_inner();
                if since_spent < self.rules.refresh_reuse_grace {
                    tracing::info!(%user_id, %session_id, %ip, "refresh token exchanged twice at once; session kept");
                    return Err(ServiceError::Conflict(
                        "this refresh token was exchanged a moment ago by another request; \
                         use the tokens that request received"
                            .to_owned(),
                    ));
                }
                self.store.revoke_session(user_id, session_id).await?;
                tracing::warn!(%user_id, %session_id, %ip, "refresh token reused; session revoked");
                Err(ServiceError::Unauthenticated(INVALID_TOKEN))
            }
            RotateOutcome::Rejected => Err(ServiceError::Unauthenticated(INVALID_TOKEN)),
        }
    }

    /// Ends the caller's session: its refresh tokens and access tokens stop working at once.
    ///
    /// # Errors
    /// The database failed.
    pub async fn logout(&self, actor: &Principal) -> Result<(), ServiceError> {
        self.store
            .revoke_session(actor.user.id, actor.session_id)
            .await?;
        tracing::info!(user_id = %actor.user.id, session_id = %actor.session_id, "signed out");
        Ok(())
    }

    /// The caller behind an access token. The token must be well signed and current, its
    /// session live, its user active and its token version the user's current one.
    ///
    /// # Errors
    /// `Unauthenticated` for any token that fails one of those checks.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, ServiceError> {
        let claims = self
            .keys
            .verify(access_token)
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let principal = self
            .store
            .session_principal(claims.sub, claims.sid)
            .await?
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let credentials = principal.credentials;
        if principal.session_revoked
            || !credentials.user.active
            || credentials.token_version != claims.ver
        {
            return Err(ServiceError::Unauthenticated(INVALID_TOKEN));
        }
        let access_expires_at = time::OffsetDateTime::from_unix_timestamp(claims.exp)
            .map_err(|_| ServiceError::Unauthenticated(INVALID_TOKEN))?;
        Ok(Principal {
            user: credentials.user,
            session_id: claims.sid,
            access_expires_at,
        })
    }

    /// Changes the caller's name or password. A new password needs the current one and ends
    /// every other session of the caller.
    ///
    /// # Errors
    /// `Validation` for bad fields or a wrong current password; `RateLimited` after repeated
    /// wrong current passwords.
    pub async fn update_profile(
        &self,
        actor: &Principal,
        changes: ProfileChanges,
    ) -> Result<User, ServiceError> {
        if changes.notify_new_tickets.is_some() && !actor.user.role.is_staff() {
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
                self.limits.check_account(&actor.user.email)?;
                let stored = self.credentials(actor.user.id).await?.password_hash;
                if !self.hasher.verify(current, stored.as_deref()).await? {
                    return Err(ValidationErrors::single("current_password", "is incorrect").into());
                }
                Some(self.hasher.hash(password).await?)
            }
            _ => None,
        };
        let password_changed = password_hash.is_some();
        let user = self
            .store
            .update_user(
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
                .store
                .revoke_user_sessions(user.id, Some(actor.session_id))
                .await?;
            tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
        }
        Ok(user)
    }

    /// One page of users.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin.
    pub async fn list_users(
        &self,
        actor: &Principal,
        query: UserQuery,
        page: PageRequest<Uuid>,
    ) -> Result<Page<User>, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        let filter = UserFilter {
            role: query.role,
            active: query.active,
            query: query
                .q
                .map(|q| q.trim().to_owned())
                .filter(|q| !q.is_empty()),
        };
        let rows = self
            .store
            .list_users(&filter, page.after, page.limit + 1)
            .await?;
        Ok(Page::from_rows(rows, page.limit, |user| user.id))
    }

    /// One user.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `NotFound`.
    pub async fn get_user(&self, actor: &Principal, id: Uuid) -> Result<User, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        self.store
            .user(id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Creates an account of any role.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `Validation`; `Conflict` for a taken email.
    pub async fn create_user(
        &self,
        actor: &Principal,
        input: NewAccount,
    ) -> Result<User, ServiceError> {
        authorize(actor, Action::ManageUsers)?;
        let user = self.insert_account(input).await?;
        tracing::info!(user_id = %user.id, role = %user.role, by = %actor.user.id, "user created");
        Ok(user)
    }

    /// Creates an account for the operator at the command line, who has the server's own
    /// access and needs no token.
    ///
    /// # Errors
    /// `Validation`; `Conflict` for a taken email.
    pub async fn create_user_as_operator(&self, input: NewAccount) -> Result<User, ServiceError> {
        let user = self.insert_account(input).await?;
        tracing::info!(user_id = %user.id, role = %user.role, "user created from the command line");
        Ok(user)
    }

    /// Sets a new password on the account with this email for the operator at the command
    /// line, and signs the user out everywhere (a reset usually means the old one leaked).
    ///
    /// # Errors
    /// `Validation` for a bad email or password; `NotFound` when no account has the email.
    pub async fn reset_password_as_operator(
        &self,
        email: &str,
        password: &str,
    ) -> Result<User, ServiceError> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(email));
        let password = errors.check("password", Password::parse(password));
        let (Some(email), Some(password)) = errors.into_result(|| (email, password))? else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let account = self
            .store
            .user_credentials_by_email(email.as_str())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let password_hash = self.hasher.hash(&password).await?;
        let user = self
            .store
            .update_user(
                account.user.id,
                UserChanges {
                    password_hash: Some(password_hash),
                    bump_token_version: true,
                    ..UserChanges::default()
                },
            )
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let ended = self.store.revoke_user_sessions(user.id, None).await?;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset from the command line");
        Ok(user)
    }

    /// Changes an account. Role changes and deactivation invalidate the user's tokens at once;
    /// a new password signs them out everywhere. The last active admin cannot be demoted or
    /// deactivated, so an installation never locks itself out.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an admin; `NotFound`; `Validation`; `Conflict` for the
    /// last admin.
    pub async fn update_user(
        &self,
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
            .store
            .user(id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let loses_admin = current.role == Role::Admin
            && current.active
            && (changes.role.is_some_and(|role| role != Role::Admin)
                || changes.active == Some(false));
        if loses_admin {
            self.ensure_another_admin(id).await?;
        }
        let password_hash = match password {
            Some(password) => Some(self.hasher.hash(&password).await?),
            None => None,
        };
        let signs_out = password_hash.is_some() || changes.active == Some(false);
        let bump = signs_out || changes.role.is_some_and(|role| role != current.role);
        let user = self
            .store
            .update_user(
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
            self.store.revoke_user_sessions(id, None).await?;
        }
        tracing::info!(user_id = %id, by = %actor.user.id, "user updated");
        Ok(user)
    }

    /// Deactivates an account: the user can no longer sign in, and their tokens stop working at
    /// once. History stays.
    ///
    /// # Errors
    /// As `update_user`.
    pub async fn deactivate_user(&self, actor: &Principal, id: Uuid) -> Result<User, ServiceError> {
        self.update_user(
            actor,
            id,
            AccountChanges {
                active: Some(false),
                ..AccountChanges::default()
            },
        )
        .await
    }

    /// Makes sure an active admin exists, creating one when none does: from the configured
    /// email and password, or with a random password to print once.
    ///
    /// # Errors
    /// `Validation` for a configured email or password that is not acceptable.
    pub async fn bootstrap_admin(
        &self,
        email: Option<&str>,
        password: Option<&SecretString>,
    ) -> Result<AdminBootstrap, ServiceError> {
        if self.store.has_active_admin().await? {
            return Ok(AdminBootstrap::Present);
        }
        let email = email.unwrap_or(DEFAULT_ADMIN_EMAIL).to_owned();
        let (password, generated) = match password {
            Some(password) => (password.expose_secret().to_owned(), false),
            None => (generated_password(), true),
        };
        let account = NewAccount {
            email: email.clone(),
            name: Some("Administrator".to_owned()),
            role: Role::Admin,
            password: Some(password.clone()),
        };
        let user = match self.insert_account(account).await {
            Ok(user) => user,
            // Another instance created it between our check and insert, or the address belongs
            // to a deactivated admin or a non-admin: say so rather than touch that account.
            Err(ServiceError::Conflict(_)) => {
                return Err(ServiceError::Conflict(
                    "the admin email belongs to an existing account that is not an active admin"
                        .to_owned(),
                ));
            }
            Err(error) => return Err(error),
        };
        tracing::info!(user_id = %user.id, "first admin created");
        Ok(if generated {
            AdminBootstrap::CreatedWithPassword {
                email: user.email,
                password,
            }
        } else {
            AdminBootstrap::Created { email: user.email }
        })
    }

    async fn ensure_another_admin(&self, leaving: Uuid) -> Result<(), ServiceError> {
        let admins = UserFilter {
            role: Some(Role::Admin),
            active: Some(true),
            query: None,
        };
        let others = self.store.list_users(&admins, None, 2).await?;
        if others.iter().any(|admin| admin.id != leaving) {
            Ok(())
        } else {
            Err(ServiceError::Conflict(
                "the last active admin cannot be demoted or deactivated".to_owned(),
            ))
        }
    }

    async fn insert_account(&self, input: NewAccount) -> Result<User, ServiceError> {
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
            Some(password) => Some(self.hasher.hash(&password).await?),
            None => None,
        };
        let created = self
            .store
            .create_user(NewUser {
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

    async fn credentials(&self, user_id: Uuid) -> Result<UserCredentials, ServiceError> {
        self.store
            .user_credentials(user_id)
            .await?
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))
    }

    fn session_end(&self) -> Stamp {
        Stamp::now().saturating_add(self.rules.session_ttl)
    }

    async fn open_session(&self, credentials: UserCredentials) -> Result<SignedIn, ServiceError> {
        let session_id = Uuid::now_v7();
        let refresh_token = new_refresh_token();
        let token_hash = refresh_token_hash(&refresh_token)
            .ok_or(ServiceError::Internal("refresh token".into()))?;
        let expires_at = self.session_end();
        self.store
            .create_session(NewSession {
                id: session_id,
                user_id: credentials.user.id,
                expires_at,
                token_hash,
                token_expires_at: expires_at,
            })
            .await?;
        self.signed_in(credentials, session_id, refresh_token)
    }

    fn signed_in(
        &self,
        credentials: UserCredentials,
        session_id: Uuid,
        refresh_token: String,
    ) -> Result<SignedIn, ServiceError> {
        let user = credentials.user;
        let access_token = self
            .keys
            .issue(user.id, user.role, session_id, credentials.token_version)
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        Ok(SignedIn {
            access_token,
            refresh_token,
            expires_in: self.keys.access_ttl().as_secs(),
            user,
        })
    }
}
