//! Storage of API tokens (metadata and secret hash; never a secret).

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{ApiToken, SpaceId, TokenId, TokenLevel};

use crate::error::StoreError;

/// Which tokens of a space to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenQuery {
    /// The space whose tokens are listed.
    pub space_id: SpaceId,
    /// Only tokens of this level, or of every level for `None`.
    pub level: Option<TokenLevel>,
    /// Whether revoked tokens are listed too.
    pub include_revoked: bool,
    /// Only tokens with ids greater than this one (keyset pagination).
    pub after: Option<TokenId>,
    /// At most this many tokens.
    pub limit: usize,
}

/// Stores API tokens.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Stores a new token, whole or not at all. Returns `false`, changing nothing, when a token
    /// with the same id exists already.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails. Stores with referential integrity (Postgres) also fail
    /// for a space that does not exist; the services check the space first, so callers never
    /// depend on it.
    async fn insert(&self, token: &ApiToken) -> Result<bool, StoreError>;

    /// The token with this id, revoked or not, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a row that breaks a domain rule.
    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError>;

    /// The tokens of `query.space_id` that match `query`, in ascending id order.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError>;

    /// Marks the token revoked at `at` unless it is already revoked (the first revocation time
    /// is kept). Returns the token as stored afterwards, or `None` if no token has this id. MUST
    /// be atomic: a revocation is never lost to a concurrent write.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn revoke(&self, id: TokenId, at: OffsetDateTime)
        -> Result<Option<ApiToken>, StoreError>;

    /// Whether any instance admin token exists, revoked or not.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn any_instance_admin(&self) -> Result<bool, StoreError>;
}
