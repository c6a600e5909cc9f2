//! Storage of spaces.

use async_trait::async_trait;
use tollgate_domain::{Space, SpaceId};

use crate::error::StoreError;

/// Stores spaces.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait SpaceRepository: Send + Sync {
    /// Stores a new space. MUST store all of it or nothing.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or a space with that id exists.
    async fn insert(&self, space: &Space) -> Result<(), StoreError>;

    /// The space with this id, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError>;

    /// Up to `limit` spaces with ids greater than `after` (all, if `None`), in ascending id
    /// order (creation order, ids being UUID v7).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn list(&self, after: Option<SpaceId>, limit: usize) -> Result<Vec<Space>, StoreError>;
}
