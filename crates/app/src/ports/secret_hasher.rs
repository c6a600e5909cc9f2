//! Hashing token secrets for storage and checking a presented secret against a stored hash.

use async_trait::async_trait;
use tollgate_domain::{SecretHash, TokenSecret};

use crate::error::BoxError;

/// The hasher failed (bad parameters, a stored hash that is not a PHC string, a worker that
/// died). Never carries the secret or the hash.
#[derive(Debug, thiserror::Error)]
#[error("secret hashing failed")]
pub struct HashError(#[source] pub BoxError);

/// Why a stored or imported hash is refused without being run: it is not a hash this hasher
/// reads, or its cost parameters lie outside the configured bounds (a hash claiming 4 GiB of
/// memory must not be able to make a verification allocate it). Never quotes the hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashRefused {
    /// Not a hash of the kind and version this hasher makes (argon2id, version 19, as a PHC
    /// string with a salt and an output).
    #[error("not an argon2id (version 19) PHC string with a salt and an output")]
    Unreadable,
    /// A cost parameter above its configured maximum.
    #[error("its {parameter} is {value}, above the configured maximum of {max}")]
    AboveBound {
        /// Which parameter (`memory cost in KiB`, `iterations`, `lanes`).
        parameter: &'static str,
        /// The hash's value.
        value: u32,
        /// The configured maximum.
        max: u32,
    },
}

/// What a hasher makes of a stored hash before anything is run against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashAssessment {
    /// Made with the parameters new hashes use.
    Current,
    /// Made with other parameters, within bounds: it verifies as it is, and after a successful
    /// verification the secret is hashed again with the current ones.
    Outdated,
    /// Not to be run at all.
    Refused(HashRefused),
}

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

    /// What this hasher makes of `hash` (stored, or about to be imported), without running
    /// it: cheap enough for every cold verification. [`SecretHasher::verify`] MUST fail, without
    /// running anything, for a hash this says is [`HashAssessment::Refused`].
    fn assess(&self, hash: &SecretHash) -> HashAssessment;
}
