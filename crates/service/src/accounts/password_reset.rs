//! Forgot password, after the OWASP Forgot Password cheat sheet: a single-use link valid for
//! 30 minutes, sent by mail; the same answer whether or not the address has an account;
//! requests limited per client address and per address asked for, confirmations per client
//! address; a reset ends every session.

use std::net::IpAddr;
use std::time::Duration;

use growdesk_domain::{Email, Password, ValidationErrors};
use growdesk_store::Stamp;

use super::Accounts;
use crate::ServiceError;
use crate::auth::tokens::{new_refresh_token, refresh_token_hash};
use crate::email::outbound;

/// How long a reset link works.
pub const RESET_LINK_TTL: Duration = Duration::from_secs(30 * 60);

/// The console's page a reset link opens, below the public URL.
const RESET_PAGE: &str = "reset-password";

impl Accounts<'_> {
    /// Mails a password reset link to `email` if it belongs to an active account. The answer
    /// is the same for an address with no account, an inactive one, or one that cannot be
    /// mailed now, so it tells nothing about who has an account; every request makes a token
    /// and looks the address up, and only a known one goes on to build the mail and store the
    /// token (a few reads and one write: a difference of milliseconds, within the noise of a
    /// request over the network, and the rate limits bound how often it can be measured). The
    /// link carries 256 random bits, kept as their SHA-256 (the queued mail that carries the
    /// link is blanked once sent or given up); asking again replaces the earlier link.
    ///
    /// # Errors
    /// `Validation` for text that is not an email address; `RateLimited` after too many
    /// requests from this client or for this address.
    pub async fn request_password_reset(self, email: &str, ip: IpAddr) -> Result<(), ServiceError> {
        self.service.limits.check_ip(ip)?;
        let email = Email::parse(email)
            .map_err(|error| ValidationErrors::single("email", error.to_string()))?;
        // Its own key: asking for resets spends no sign-in attempts of the account.
        self.service
            .limits
            .check_account(&format!("password-reset:{}", email.as_str()))?;
        let token = new_refresh_token();
        let token_hash = refresh_token_hash(&token)
            .ok_or(ServiceError::Internal("password reset token".into()))?;
        let found = self
            .service
            .store
            .users()
            .credentials_by_email(email.as_str())
            .await?
            .map(|credentials| credentials.user)
            .filter(|user| user.active);
        let Some(user) = found else {
            tracing::info!(%ip, "password reset asked for an address without an active account");
            return Ok(());
        };
        let link = self.service.email_rules.link(RESET_PAGE, &token);
        let Some(mail) = outbound::password_reset(self.service, &user, &link).await? else {
            tracing::warn!(
                user_id = %user.id,
                "password reset asked, but no mail goes out: no active mailbox with SMTP \
                 settings, the address bounced, or it had its share of reset mails this hour"
            );
            return Ok(());
        };
        let expires_at = Stamp::now().saturating_add(RESET_LINK_TTL);
        self.service
            .store
            .password_resets()
            .create(&token_hash, user.id, expires_at, mail)
            .await?;
        tracing::info!(user_id = %user.id, %ip, "password reset link queued");
        Ok(())
    }

    /// Sets a new password with the token of a reset link, once: the link stops working, and
    /// every session and token of the account ends, in one transaction.
    ///
    /// Limited per client address, as signing in is: a token guessed is a password guessed.
    ///
    /// # Errors
    /// `Validation` for a password the rules refuse (the link still works); `InvalidLink` for
    /// a token unknown, used or expired, with one message for all three; `RateLimited` after
    /// too many attempts from this client.
    pub async fn reset_password(
        self,
        token: &str,
        new_password: &str,
        ip: IpAddr,
    ) -> Result<(), ServiceError> {
        self.service.limits.check_ip(ip)?;
        let password = Password::parse(new_password)
            .map_err(|error| ValidationErrors::single("password", error.to_string()))?;
        let token_hash = refresh_token_hash(token).ok_or(ServiceError::InvalidLink)?;
        // A cheap look first: hashing a password is costly, and a guessed token must not buy it.
        let resets = self.service.store.password_resets();
        if !resets.is_live(&token_hash, Stamp::now()).await? {
            return Err(ServiceError::InvalidLink);
        }
        let password_hash = self.service.hasher.hash(&password).await?;
        let user = resets
            .redeem(&token_hash, &password_hash, Stamp::now())
            .await?
            .ok_or(ServiceError::InvalidLink)?;
        tracing::info!(user_id = %user, "password reset by link; every session ended");
        Ok(())
    }
}
