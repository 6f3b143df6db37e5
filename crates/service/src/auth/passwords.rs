//! Password hashing with Argon2id (OWASP parameters), off the async worker threads.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use growdesk_domain::Password;
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::ServiceError;

/// Hashes and verifies passwords on the blocking pool, at most one per core at a time, so a
/// sign-in flood queues up instead of starving every other request of CPU.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when the account does not exist so that an unknown
    /// email costs the same time as a wrong password.
    decoy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    /// OWASP's Argon2id minimum: 19 MiB, two passes, one lane (`Params::default()`).
    pub fn owasp() -> Self {
        Self::with_params(Params::default())
    }

    fn with_params(params: Params) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            decoy: Arc::new(OnceLock::new()),
        }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    ///
    /// # Errors
    /// Only if the hashing task fails.
    pub async fn hash(&self, password: &Password) -> Result<String, ServiceError> {
        let password = password.clone();
        let params = self.params.clone();
        self.run(move || hash_blocking(params, password.expose()))
            .await?
    }

    /// Whether `password` matches `stored`; `None` (no password set, or no such account)
    /// takes as long as a mismatch and is never a match.
    ///
    /// # Errors
    /// Only if the hashing task fails.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ServiceError> {
        let candidate = password.to_owned();
        let (stored, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.decoy_hash()?, false),
        };
        let params = self.params.clone();
        let matches = self
            .run(move || {
                PasswordHash::new(&stored).is_ok_and(|parsed| {
                    Self::argon2(params)
                        .verify_password(candidate.as_bytes(), &parsed)
                        .is_ok()
                })
            })
            .await?;
        Ok(real && matches)
    }

    fn decoy_hash(&self) -> Result<String, ServiceError> {
        if let Some(hash) = self.decoy.get() {
            return Ok(hash.clone());
        }
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let hash = hash_blocking(self.params.clone(), &base64_of(&random))?;
        Ok(self.decoy.get_or_init(|| hash).clone())
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|error| ServiceError::Internal(Box::new(error)))?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn hash_blocking(params: Params, password: &str) -> Result<String, ServiceError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| ServiceError::Internal(error.to_string().into()))?;
    PasswordHasher::argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ServiceError::Internal(error.to_string().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = PasswordHasher::owasp();
        let password = Password::parse("correct horse battery staple").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse battery staple", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery staple", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horse battery staple", None)
                .await
                .unwrap()
        );
        assert!(!hasher.verify("x", Some("not a phc string")).await.unwrap());
        let again = hasher.hash(&password).await.unwrap();
        assert_ne!(hash, again, "every hash has its own salt");
    }
}
