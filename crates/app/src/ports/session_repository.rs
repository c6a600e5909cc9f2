//! Storage of admin console sessions and the one-time nonces their forms claim.

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{ConsoleSession, EndedSessions, FormNonce, SessionDigest};

use crate::error::StoreError;

/// Stores console sessions by the digest of their id (never the id, never a token string),
/// so that any node can serve any session. Sessions are not part of an export: they are
/// short-lived, and a moved install signs in again. Nor do they count when an import checks
/// that a store is empty: that check looks at spaces, tokens and events only (and in a SQL
/// store a session cannot exist without its token).
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session. Returns `false`, changing nothing, when a session with the same
    /// digest exists already.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails. Stores with referential integrity (SQLite, Postgres)
    /// also fail for a token that does not exist, and delete a token's sessions with the
    /// token; callers begin sessions only for a token they have just verified, so they never
    /// depend on it.
    async fn insert(&self, session: &ConsoleSession) -> Result<bool, StoreError>;

    /// The session with this digest, or `None`. Ended sessions not yet deleted are returned as
    /// they are: whether a session is live is the caller's rule.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a row it cannot read.
    async fn get(&self, digest: &SessionDigest) -> Result<Option<ConsoleSession>, StoreError>;

    /// Notes a use: the session's `last_seen_at` becomes the later of its own and `at`, as
    /// [`ConsoleSession::seen_at`] says. An unknown digest is ignored.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn touch(&self, digest: &SessionDigest, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Deletes the session and the nonces it claimed. An unknown digest is ignored.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn delete(&self, digest: &SessionDigest) -> Result<(), StoreError>;

    /// Deletes every session in `ended` ([`EndedSessions::contains`]), with the nonces they
    /// claimed, and returns how many sessions went.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn delete_ended(&self, ended: &EndedSessions) -> Result<u64, StoreError>;

    /// Claims a form nonce for a session: `true` the first time, `false` when the session
    /// claimed it before or does not exist. Of two concurrent claims of one nonce, exactly one
    /// gets `true`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was claimed.
    async fn claim_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Gives a claimed nonce back (the work it guarded failed, so the form may be sent again).
    /// An unknown nonce is ignored.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn release_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
    ) -> Result<(), StoreError>;
}
