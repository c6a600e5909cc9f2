//! Storage of spaces, and the two changes of a space as a whole: renaming and deleting it.

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{AuditEvent, Space, SpaceId, SpaceName, TokenId};

use crate::error::StoreError;

/// What [`SpaceRepository::rename`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenameOutcome {
    /// The space as stored afterwards, and whether this call changed it (`false`: it had that
    /// name already, nothing was written and no event recorded).
    Done {
        /// The space as stored.
        space: Space,
        /// Whether the name changed (and the event was recorded).
        changed: bool,
    },
    /// No living space has that id (none ever had, or it was deleted).
    NotFound,
}

/// What [`SpaceRepository::delete`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The space is deleted now, with its event; these are the tokens this call revoked (every
    /// token of the space that was not revoked yet), so the caller can drop them from its cache.
    Deleted {
        /// The tokens revoked with the space, in ascending id order.
        revoked: Vec<TokenId>,
    },
    /// It was deleted already: nothing changed, no event recorded.
    AlreadyDeleted,
    /// No space has that id.
    NotFound,
}

/// Stores spaces.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait SpaceRepository: Send + Sync {
    /// Stores a new space. MUST store all of it or nothing.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or a space with that id exists.
    async fn insert(&self, space: &Space) -> Result<(), StoreError>;

    /// The space with this id, deleted or not (see [`Space::is_deleted`]), or `None`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError>;

    /// Up to `limit` living (not deleted) spaces with ids greater than `after` (all, if
    /// `None`), in ascending id order (creation order, ids being UUID v7).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn list(&self, after: Option<SpaceId>, limit: usize) -> Result<Vec<Space>, StoreError>;

    /// Renames the living space `id` with [`Space::rename`] applied to it as stored, and
    /// records `event` (a `space.renamed` event) only when the name changed, both or neither.
    /// MUST be atomic with a concurrent deletion: a deleted space is never renamed.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn rename(
        &self,
        id: SpaceId,
        name: &SpaceName,
        event: &AuditEvent,
    ) -> Result<RenameOutcome, StoreError>;

    /// Deletes the space `id` at `at` ([`Space::delete`]): marks it deleted, revokes at `at`
    /// every token of it that is not revoked yet ([`tollgate_domain::ApiToken::revoke`]), and
    /// records `event` (a `space.deleted` event, the only one: the tokens get no event each),
    /// all or nothing. Its tokens and events stay stored. A store shared by several nodes MUST
    /// tell each of them that the revoked tokens changed, as a revocation does. MUST be atomic
    /// with every write that creates a token in the space (a creation, a rotation): once it
    /// returns, no write can add a working token to the space, and one that committed before
    /// is among those revoked. Deleting a deleted space changes nothing.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn delete(
        &self,
        id: SpaceId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<DeleteOutcome, StoreError>;
}
