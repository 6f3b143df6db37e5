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
