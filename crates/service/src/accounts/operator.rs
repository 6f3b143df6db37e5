//! The operator's account commands, run at the command line with the server's own access: the
//! first admin, accounts created and passwords reset without a token.

use growdesk_domain::{Email, Password, Role, User, ValidationErrors};
use growdesk_store::users::UserChanges;
use secrecy::{ExposeSecret as _, SecretString};

use super::{NewAccount, Operator};
use crate::ServiceError;
use crate::auth::tokens::new_refresh_token;

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

impl Operator<'_> {
    /// Creates an account for the operator at the command line, who has the server's own
    /// access and needs no token.
    ///
    /// # Errors
    /// `Validation`; `Conflict` for a taken email.
    pub async fn create_user(self, input: NewAccount) -> Result<User, ServiceError> {
        let user = self.service.accounts().insert(input).await?;
        tracing::info!(user_id = %user.id, role = %user.role, "user created from the command line");
        Ok(user)
    }

    /// Sets a new password on the account with this email for the operator at the command
    /// line, and signs the user out everywhere (a reset usually means the old one leaked).
    ///
    /// # Errors
    /// `Validation` for a bad email or password; `NotFound` when no account has the email.
    pub async fn reset_password(self, email: &str, password: &str) -> Result<User, ServiceError> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(email));
        let password = errors.check("password", Password::parse(password));
        let (Some(email), Some(password)) = errors.into_result(|| (email, password))? else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let account = self
            .service
            .store
            .users()
            .credentials_by_email(email.as_str())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let password_hash = self.service.hasher.hash(&password).await?;
        let user = self
            .service
            .store
            .users()
            .update(
                account.user.id,
                UserChanges {
                    password_hash: Some(password_hash),
                    bump_token_version: true,
                    ..UserChanges::default()
                },
            )
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let ended = self
            .service
            .store
            .sessions()
            .revoke_all(user.id, None)
            .await?;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset from the command line");
        Ok(user)
    }

    /// Makes sure an active admin exists, creating one when none does: from the configured
    /// email and password, or with a random password to print once.
    ///
    /// # Errors
    /// `Validation` for a configured email or password that is not acceptable.
    pub async fn bootstrap_admin(
        self,
        email: Option<&str>,
        password: Option<&SecretString>,
    ) -> Result<AdminBootstrap, ServiceError> {
        if self.service.store.users().has_active_admin().await? {
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
        let user = match self.service.accounts().insert(account).await {
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
}
