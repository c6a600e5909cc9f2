//! The in-memory store: spaces and tokens in ordered maps behind locks. Correct under concurrent
//! use (every method takes the lock once, so each is atomic); keeps nothing across restarts.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{ApiToken, Space, SpaceId, TokenId, TokenScope};

use crate::error::StoreError;
use crate::ports::{SpaceRepository, StoreHealth, TokenQuery, TokenRepository};

fn after<K: Ord + Copy>(key: Option<K>) -> (Bound<K>, Bound<K>) {
    (
        key.map_or(Bound::Unbounded, Bound::Excluded),
        Bound::Unbounded,
    )
}

/// Spaces in memory.
#[derive(Debug, Default)]
pub struct InMemorySpaceRepository {
    spaces: RwLock<BTreeMap<SpaceId, Space>>,
}

impl InMemorySpaceRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SpaceRepository for InMemorySpaceRepository {
    async fn insert(&self, space: &Space) -> Result<(), StoreError> {
        let mut spaces = self.spaces.write().unwrap_or_else(PoisonError::into_inner);
        if spaces.contains_key(&space.id) {
            return Err(StoreError::Failed("a space with this id exists".into()));
        }
        spaces.insert(space.id, space.clone());
        Ok(())
    }

    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        Ok(self
            .spaces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned())
    }

    async fn list(
        &self,
        after_id: Option<SpaceId>,
        limit: usize,
    ) -> Result<Vec<Space>, StoreError> {
        let spaces = self.spaces.read().unwrap_or_else(PoisonError::into_inner);
        Ok(spaces
            .range(after(after_id))
            .take(limit)
            .map(|(_, s)| s.clone())
            .collect())
    }
}

/// Tokens in memory.
#[derive(Debug, Default)]
pub struct InMemoryTokenRepository {
    tokens: RwLock<BTreeMap<TokenId, ApiToken>>,
}

impl InMemoryTokenRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenRepository for InMemoryTokenRepository {
    async fn insert(&self, token: &ApiToken) -> Result<bool, StoreError> {
        let mut tokens = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        if tokens.contains_key(&token.id) {
            return Ok(false);
        }
        tokens.insert(token.id, token.clone());
        Ok(true)
    }

    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
        Ok(self
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned())
    }

    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        Ok(tokens
            .range(after(query.after))
            .map(|(_, t)| t)
            .filter(|t| t.space_id() == Some(query.space_id))
            .filter(|t| query.level.is_none_or(|level| t.level() == level))
            .filter(|t| query.include_revoked || t.revoked_at.is_none())
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn revoke(
        &self,
        id: TokenId,
        at: OffsetDateTime,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tokens = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        Ok(tokens.get_mut(&id).map(|token| {
            token.revoked_at.get_or_insert(at);
            token.clone()
        }))
    }

    async fn any_instance_admin(&self) -> Result<bool, StoreError> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        Ok(tokens.values().any(|t| t.scope == TokenScope::Instance))
    }
}

/// Both in-memory repositories, for wiring a whole core in one line.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStore {
    /// The spaces.
    pub spaces: Arc<InMemorySpaceRepository>,
    /// The tokens.
    pub tokens: Arc<InMemoryTokenRepository>,
}

impl InMemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl StoreHealth for InMemoryStore {
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
