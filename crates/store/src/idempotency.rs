//! Idempotency keys: a creating request's key is claimed in the same transaction as what it
//! creates, so a retry — even a concurrent one — finds the first result and creates nothing.

use uuid::Uuid;

/// The key a client sent with a creating request.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub user_id: Uuid,
    pub key: String,
    /// Hash of the request; the same key with a different request is refused.
    pub fingerprint: Vec<u8>,
}

/// What a creating write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Created now, with this id.
    New(Uuid),
    /// The key was used before for the same request, which created this id.
    Replayed(Uuid),
    /// The key was used before for a different request.
    KeyReused,
}

/// Claims `$claim` (an `Option<&IdempotencyClaim>`) for `$resource` inside transaction `$tx`,
/// or returns from the enclosing function with `$replayed(id)` or `$reused` when the key was
/// used before.
macro_rules! claim_or_return {
    ($pool:ident, $tx:ident, $claim:expr, $resource:expr, $now:expr, $replayed:path, $reused:expr) => {
        if let Some(claim) = $claim {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(claim.user_id)
            .bind(&claim.key)
            .bind(&claim.fingerprint)
            .bind($resource)
            .bind($now)
            .execute(&mut *$tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                    // On PostgreSQL this waited for the first request's transaction to commit.
                    $tx.rollback().await?;
                    let earlier: (Vec<u8>, Uuid) = sqlx::query_as(
                        "SELECT fingerprint, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                    )
                    .bind(claim.user_id)
                    .bind(&claim.key)
                    .fetch_one($pool)
                    .await?;
                    return Ok(if earlier.0 == claim.fingerprint { $replayed(earlier.1) } else { $reused });
                }
                other => {
                    other?;
                }
            }
        }
    };
}
pub(crate) use claim_or_return;
