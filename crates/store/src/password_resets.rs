//! Password resets: single-use, short-lived tokens, kept as their SHA-256 so a leaked
//! database leaks no usable link (the mail that carries one is blanked once it is sent or
//! given up, see `Mail::mark_sent`).

use uuid::Uuid;

use crate::mail::{MailTx as _, NewOutboundMail};
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

/// Password resets.
#[derive(Debug, Clone, Copy)]
pub struct PasswordResets<'a> {
    pub(crate) store: &'a Store,
}

impl PasswordResets<'_> {
    /// Records a reset token for `user_id`, valid until `expires_at`, and queues the mail that
    /// carries its link, in one transaction; the user's earlier unused tokens stop working, so
    /// only the latest link does.
    ///
    /// # Errors
    /// `MissingReference` for an unknown user or mailbox.
    pub async fn create(
        &self,
        token_hash: &[u8],
        user_id: Uuid,
        expires_at: Stamp,
        mail: NewOutboundMail,
    ) -> Result<(), StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, expires_at, used_at, created_at) \
                 VALUES ($1, $2, $3, NULL, $4)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.queue_mails(std::slice::from_ref(&mail), now).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Uses the token `token_hash` at `now`: when it is unused and unexpired, sets its user's
    /// password to `new_password_hash`, ends every session and access token of theirs, and
    /// marks the token used, all in one transaction. The user, or `None` for a token unknown,
    /// used or expired. The token is taken by one statement, so of two concurrent uses only
    /// one succeeds.
    ///
    /// # Errors
    /// The database failed.
    pub async fn redeem(
        &self,
        token_hash: &[u8],
        new_password_hash: &str,
        now: Stamp,
    ) -> Result<Option<Uuid>, StoreError> {
        let user = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let user: Option<Uuid> = sqlx::query_scalar(
                "UPDATE password_resets SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(user) = user else {
                tx.rollback().await?;
                return Ok(None);
            };
            // A new token version invalidates every access token issued before, the revoked
            // sessions every refresh token, and the revocation of all the user's tokens tells
            // every process (and closes the user's sockets) at once.
            sqlx::query(
                "UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = $3 WHERE id = $1",
            )
            .bind(user)
            .bind(new_password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.before_append().await?;
            sqlx::query("INSERT INTO session_revocations (user_id, session_id, created_at) VALUES ($1, NULL, $2)")
                .bind(user)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Some(user))
        })?;
        if let Some(user) = user {
            self.store.principals.forget(user, None);
            self.store.announce_change();
        }
        Ok(user)
    }

    /// Whether `token_hash` names a token unused and unexpired at `now`: a cheap look before
    /// the costly hashing of a new password (`redeem` alone decides, once).
    ///
    /// # Errors
    /// The database failed.
    pub async fn is_live(&self, token_hash: &[u8], now: Stamp) -> Result<bool, StoreError> {
        let found: Option<i32> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT 1 FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// How many reset tokens were made for `user_id` since `since`: the per-address limit.
    ///
    /// # Errors
    /// The database failed.
    pub async fn recent_for(&self, user_id: Uuid, since: Stamp) -> Result<i64, StoreError> {
        Ok(on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at >= $2")
            .bind(user_id)
            .bind(since)
            .fetch_one(pool)
            .await)?)
    }
}
