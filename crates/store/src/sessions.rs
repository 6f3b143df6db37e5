//! Sign-in sessions and their rotating refresh tokens.
//!
//! A session is the family of refresh tokens born from one sign-in. Exchanging a token marks it
//! used and adds its successor in one transaction; the service decides what a reused token means.

use uuid::Uuid;

use crate::events::Revocation;
use crate::principals::CachedSession;
use crate::users::UserCredentials;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

/// A session to open, with its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    /// Absolute end of the session.
    pub expires_at: Stamp,
    /// SHA-256 of the first refresh token.
    pub token_hash: Vec<u8>,
    pub token_expires_at: Stamp,
}

/// What came of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was live; it is now spent and its successor is stored.
    Rotated { session_id: Uuid, user_id: Uuid },
    /// The token was already spent, at `spent_at`, and its session is live: a concurrent
    /// duplicate of the exchange that spent it, or someone holds a copy.
    Reused {
        session_id: Uuid,
        user_id: Uuid,
        spent_at: Stamp,
    },
    /// Unknown, expired, or its session is revoked or over.
    Rejected,
}

/// The user behind an access token, with the state of the session it was issued for.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub credentials: UserCredentials,
    /// The session was signed out or revoked.
    pub session_revoked: bool,
}

#[derive(sqlx::FromRow)]
struct ConsumedToken {
    session_id: Uuid,
}

/// Which sessions of a user to revoke.
enum SessionScope {
    One(Uuid),
    AllBut(Option<Uuid>),
}

#[derive(sqlx::FromRow)]
struct SpentToken {
    session_id: Uuid,
    user_id: Uuid,
    used_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct LiveSession {
    user_id: Uuid,
}

/// Sign-in sessions and their refresh tokens, and who a session is.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) store: &'a Store,
}

impl Sessions<'_> {
    /// Opens a session and stores its first refresh token.
    ///
    /// # Errors
    /// The database failed, or the user does not exist.
    pub async fn create(&self, session: NewSession) -> Result<(), StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            sqlx::query(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(session.id)
            .bind(session.user_id)
            .bind(now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&session.token_hash)
            .bind(session.id)
            .bind(now)
            .bind(session.token_expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Spends the refresh token whose hash is `old_hash` and stores `new_hash` as its successor,
    /// atomically: of two concurrent exchanges of one token, exactly one is `Rotated`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        new_expires_at: Stamp,
    ) -> Result<RotateOutcome, StoreError> {
        let now = Stamp::now();
        on_backend!(self.store, pool => {
            // The first statement writes, so an SQLite transaction takes the write lock at once
            // instead of failing to upgrade a read lock later.
            let mut tx = self.store.begin_write(pool).await?;
            let consumed: Option<ConsumedToken> = sqlx::query_as(
                "UPDATE refresh_tokens SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                 RETURNING session_id",
            )
            .bind(old_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(consumed) = consumed else {
                let spent: Option<SpentToken> = sqlx::query_as(
                    "SELECT r.session_id, s.user_id, r.used_at FROM refresh_tokens r \
                     JOIN sessions s ON s.id = r.session_id \
                     WHERE r.token_hash = $1 AND r.used_at IS NOT NULL \
                     AND s.revoked_at IS NULL AND s.expires_at > $2",
                )
                .bind(old_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                tx.rollback().await?;
                return Ok(match spent {
                    Some(token) => RotateOutcome::Reused {
                        session_id: token.session_id,
                        user_id: token.user_id,
                        spent_at: token.used_at,
                    },
                    None => RotateOutcome::Rejected,
                });
            };
            let live: Option<LiveSession> = sqlx::query_as(
                "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.active = TRUE",
            )
            .bind(consumed.session_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(live) = live else {
                tx.rollback().await?;
                return Ok(RotateOutcome::Rejected);
            };
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(new_hash)
            .bind(consumed.session_id)
            .bind(now)
            .bind(new_expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(RotateOutcome::Rotated { session_id: consumed.session_id, user_id: live.user_id })
        })
    }

    /// Revokes one session of `user_id`, recording the revocation for open sockets; returns
    /// whether it existed and was live.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke(&self, user_id: Uuid, session_id: Uuid) -> Result<bool, StoreError> {
        self.revoke_sessions(user_id, SessionScope::One(session_id))
            .await
            .map(|revoked| revoked > 0)
    }

    /// Revokes every live session of `user_id` except `keep`, recording each for open sockets;
    /// returns how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke_all(&self, user_id: Uuid, keep: Option<Uuid>) -> Result<u64, StoreError> {
        self.revoke_sessions(user_id, SessionScope::AllBut(keep))
            .await
    }

    async fn revoke_sessions(&self, user_id: Uuid, scope: SessionScope) -> Result<u64, StoreError> {
        let (only, keep) = match scope {
            SessionScope::One(session) => (Some(session), None),
            SessionScope::AllBut(keep) => (None, keep),
        };
        let now = Stamp::now();
        let revoked = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let chosen = "user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id = $2) AND ($3 IS NULL OR id <> $3)";
            tx.before_append().await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO session_revocations (user_id, session_id, created_at) SELECT user_id, id, $4 FROM sessions WHERE {chosen}"
            )))
            .bind(user_id)
            .bind(only)
            .bind(keep)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let revoked = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE sessions SET revoked_at = $4 WHERE {chosen}")))
                .bind(user_id)
                .bind(only)
                .bind(keep)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(revoked)
        })?;
        if revoked > 0 {
            self.store.principals.forget(user_id, only);
            self.store.announce_change();
        }
        Ok(revoked)
    }

    /// The user and session an access token names: the per-request check that makes
    /// sign-out, deactivation and password changes take effect at once. Read in one query,
    /// then served from the process's cache (see `principals`) until either changes.
    ///
    /// # Errors
    /// The database failed.
    pub async fn principal(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<SessionPrincipal>, StoreError> {
        if let Some(cached) = self.store.principals.get(user_id, session_id) {
            return Ok(Some(cached.principal(Stamp::now())));
        }
        let generation = self.store.principals.generation();
        let row: Option<PrincipalRow> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at, \
                 u.password_hash, u.token_version, u.notify_new_tickets, \
                 s.revoked_at IS NOT NULL AS session_revoked, s.expires_at AS session_expires_at \
                 FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = $1 AND s.id = $2")
            .bind(user_id)
            .bind(session_id)
            .fetch_optional(pool)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        let session = CachedSession {
            credentials: UserCredentials::try_from(row.user)?,
            revoked: row.session_revoked,
            expires_at: row.session_expires_at,
        };
        let principal = session.principal(Stamp::now());
        self.store
            .principals
            .insert(generation, user_id, session_id, session);
        Ok(Some(principal))
    }

    /// Forgets the cached sessions that revocations made elsewhere name (the relay calls it
    /// with every revocation it reads), so that they are read again.
    pub fn forget_revoked(&self, revocations: &[Revocation]) {
        for revocation in revocations {
            self.store
                .principals
                .forget(revocation.user_id, revocation.session_id);
        }
    }
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    #[sqlx(flatten)]
    user: crate::users::UserRow,
    session_revoked: bool,
    session_expires_at: Stamp,
}
