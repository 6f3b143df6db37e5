//! `Idempotency-Key`: validating the key and fingerprinting the request it came with.

use growdesk_domain::ValidationErrors;
use growdesk_store::idempotency::IdempotencyClaim;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ServiceError;

/// Longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// The claim for a creating request: its key, scoped to the caller, and a fingerprint of what
/// was asked (`kind` names the operation; `request` is its normalised input).
///
/// # Errors
/// A key that is empty, too long, or not visible ASCII.
pub(crate) fn claim(
    user_id: Uuid,
    key: Option<&str>,
    kind: &str,
    request: &impl Serialize,
) -> Result<Option<IdempotencyClaim>, ServiceError> {
    let Some(key) = check_key(key)? else {
        return Ok(None);
    };
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(
        serde_json::to_vec(request).map_err(|error| ServiceError::Internal(Box::new(error)))?,
    );
    Ok(Some(IdempotencyClaim {
        user_id,
        key: key.to_owned(),
        fingerprint: hasher.finalize().to_vec(),
    }))
}

/// The key, if it is one we accept: a use case that must write something before it can claim
/// the key checks it first, so that a bad key is refused before anything is written.
///
/// # Errors
/// A key that is empty, too long, or not visible ASCII.
pub(crate) fn check_key(key: Option<&str>) -> Result<Option<&str>, ServiceError> {
    match key {
        Some(key)
            if key.is_empty()
                || key.len() > MAX_KEY_LEN
                || !key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            let message = format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters");
            Err(ValidationErrors::single("Idempotency-Key", message).into())
        }
        other => Ok(other),
    }
}

/// The refusal for a key reused with a different request.
pub(crate) fn reused() -> ServiceError {
    ValidationErrors::single(
        "Idempotency-Key",
        "was already used with a different request",
    )
    .into()
}
