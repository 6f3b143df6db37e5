//! Sessions: signing up and in, exchanging a refresh token, signing out, and the caller behind
//! an access token.

use std::net::IpAddr;

use growdesk_domain::{Email, Password, Role, User, ValidationErrors};
use growdesk_store::{
    Stamp,
    sessions::{NewSession, RotateOutcome},
    users::UserCredentials,
};
use uuid::Uuid;

use super::NewAccount;
use super::Sessions;
use crate::auth::tokens::{new_refresh_token, refresh_token_hash};
use crate::{Principal, ServiceError};

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

impl Sessions<'_> {
    /// Signs a customer up and signs them in.
    ///
    /// # Errors
    /// `Forbidden` when registration is switched off, `Validation` for bad fields, `Conflict`
    /// when the email is taken, `RateLimited` after too many attempts from this address.
    pub async fn register(self, input: Registration, ip: IpAddr) -> Result<SignedIn, ServiceError> {
        if !self.service.rules.allow_registration {
            return Err(ServiceError::Forbidden("self-registration is switched off"));
        }
        self.service.limits.check_ip(ip)?;
        let user = self
            .service
            .accounts()
            .insert(NewAccount {
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
        self,
        email: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<SignedIn, ServiceError> {
        self.service.limits.check_ip(ip)?;
        let email = Email::parse(email)
            .map_err(|error| ValidationErrors::single("email", error.to_string()))?;
        // No stored password is longer, and hashing megabytes would be a cheap way to burn CPU.
        if password.chars().count() > Password::MAX_LEN {
            let message = format!("must be at most {} characters", Password::MAX_LEN);
            return Err(ValidationErrors::single("password", message).into());
        }
        self.service.limits.check_account(email.as_str())?;
        let found = self
            .service
            .store
            .users()
            .credentials_by_email(email.as_str())
            .await?;
        let stored_hash = found
            .as_ref()
            .filter(|credentials| credentials.user.active)
            .and_then(|credentials| credentials.password_hash.as_deref());
        let verified = self.service.hasher.verify(password, stored_hash).await?;
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
    pub async fn refresh(self, refresh_token: &str, ip: IpAddr) -> Result<SignedIn, ServiceError> {
        self.service.limits.check_ip(ip)?;
        let old_hash = refresh_token_hash(refresh_token)
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let next = new_refresh_token();
        let next_hash =
            refresh_token_hash(&next).ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let outcome = self
            .service
            .store
            .sessions()
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
                if since_spent < self.service.rules.refresh_reuse_grace {
                    tracing::info!(%user_id, %session_id, %ip, "refresh token exchanged twice at once; session kept");
                    return Err(ServiceError::Conflict(
                        "this refresh token was exchanged a moment ago by another request; \
                         use the tokens that request received"
                            .to_owned(),
                    ));
                }
                self.service
                    .store
                    .sessions()
                    .revoke(user_id, session_id)
                    .await?;
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
    pub async fn logout(self, actor: &Principal) -> Result<(), ServiceError> {
        self.service
            .store
            .sessions()
            .revoke(actor.user.id, actor.session_id)
            .await?;
        tracing::info!(user_id = %actor.user.id, session_id = %actor.session_id, "signed out");
        Ok(())
    }

    /// The caller behind an access token. The token must be well signed and current, its
    /// session live, its user active and its token version the user's current one.
    ///
    /// # Errors
    /// `Unauthenticated` for any token that fails one of those checks.
    pub async fn authenticate(self, access_token: &str) -> Result<Principal, ServiceError> {
        let claims = self
            .service
            .keys
            .verify(access_token)
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))?;
        let principal = self
            .service
            .store
            .sessions()
            .principal(claims.sub, claims.sid)
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

    pub(super) async fn credentials(self, user_id: Uuid) -> Result<UserCredentials, ServiceError> {
        self.service
            .store
            .users()
            .credentials(user_id)
            .await?
            .ok_or(ServiceError::Unauthenticated(INVALID_TOKEN))
    }

    fn session_end(self) -> Stamp {
        Stamp::now().saturating_add(self.service.rules.session_ttl)
    }

    async fn open_session(self, credentials: UserCredentials) -> Result<SignedIn, ServiceError> {
        let session_id = Uuid::now_v7();
        let refresh_token = new_refresh_token();
        let token_hash = refresh_token_hash(&refresh_token)
            .ok_or(ServiceError::Internal("refresh token".into()))?;
        let expires_at = self.session_end();
        self.service
            .store
            .sessions()
            .create(NewSession {
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
        self,
        credentials: UserCredentials,
        session_id: Uuid,
        refresh_token: String,
    ) -> Result<SignedIn, ServiceError> {
        let user = credentials.user;
        let access_token = self
            .service
            .keys
            .issue(user.id, user.role, session_id, credentials.token_version)
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        Ok(SignedIn {
            access_token,
            refresh_token,
            expires_in: self.service.keys.access_ttl().as_secs(),
            user,
        })
    }
}
