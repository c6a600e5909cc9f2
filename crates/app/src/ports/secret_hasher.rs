//! Hashing token secrets for storage and checking a presented secret against a stored hash.

use async_trait::async_trait;
use tollgate_domain::{SecretHash, TokenSecret};

use crate::error::BoxError;

/// The hasher failed (bad parameters, a stored hash that is not a PHC string, a worker that
/// died). Never carries the secret or the hash.
#[derive(Debug, thiserror::Error)]
#[error("secret hashing failed")]
pub struct HashError(#[source] pub BoxError);

/// Hashes and verifies token secrets. Implementations are slow on purpose (argon2id), so they
/// MUST NOT block the async executor.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait SecretHasher: Send + Sync {
    /// Hashes `secret` with a fresh random salt, returning a self-describing (PHC) string.
    ///
    /// # Errors
    /// [`HashError`] if hashing could not run.
    async fn hash(&self, secret: &TokenSecret) -> Result<SecretHash, HashError>;

    /// Whether `secret` matches `hash`. A mismatch is `Ok(false)`, not an error; the comparison
    /// MUST take the same time whatever the secret.
    ///
    /// # Errors
    /// [`HashError`] if `hash` cannot be read or hashing could not run.
    async fn verify(&self, secret: &TokenSecret, hash: &SecretHash) -> Result<bool, HashError>;
}
