//! Creating, reading, listing, renaming and deleting spaces.

use std::sync::Arc;

use tollgate_domain::{
    allows, Actor, AuditAction, Permission, Resource, Space, SpaceId, SpaceName,
};

use super::access::{Access, SpaceUnreachable};
use super::issuer::EventStamp;
use super::verify::Verifier;

use crate::error::StoreError;
use crate::pagination::{CursorError, CursorKey, Listing, Page, PageRequest};
use crate::ports::{Clock, DeleteOutcome, RandomSource, RenameOutcome, SpaceRepository};

/// The command to create a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpace {
    /// Its name.
    pub name: SpaceName,
}

/// Why a space could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateSpaceError {
    /// The actor lacks MANAGE_SPACES.
    #[error("creating spaces needs MANAGE_SPACES")]
    Forbidden,
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a space could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetSpaceError {
    /// No such space, or not one the actor may see (the two are indistinguishable on purpose).
    #[error("space not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why spaces could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListSpacesError {
    /// The cursor was not handed out for this listing.
    #[error(transparent)]
    InvalidCursor(#[from] CursorError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a space could not be renamed.
#[derive(Debug, thiserror::Error)]
pub enum RenameSpaceError {
    /// The actor lacks MANAGE_SPACES.
    #[error("renaming spaces needs MANAGE_SPACES")]
    Forbidden,
    /// No such space, or it was deleted.
    #[error("space not found")]
    NotFound,
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a space could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteSpaceError {
    /// The actor lacks MANAGE_SPACES.
    #[error("deleting spaces needs MANAGE_SPACES")]
    Forbidden,
    /// No space ever had this id.
    #[error("space not found")]
    NotFound,
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SpaceUnreachable for GetSpaceError {
    fn space_not_found() -> Self {
        Self::NotFound
    }
}

/// What [`SpaceService::delete`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceDeletion {
    /// The space was deleted now, and this many of its tokens revoked with it.
    Deleted {
        /// The tokens revoked.
        revoked: usize,
    },
    /// It was deleted before: nothing changed.
    AlreadyDeleted,
}

/// Spaces: creation, renaming and deletion by instance admins, reading by whoever may see
/// them.
#[derive(Clone)]
pub struct SpaceService {
    spaces: Arc<dyn SpaceRepository>,
    access: Access,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    stamp: EventStamp,
    verifier: Arc<Verifier>,
    cursors: CursorKey,
}

impl std::fmt::Debug for SpaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpaceService").finish_non_exhaustive()
    }
}

impl SpaceService {
    /// A service over these ports. A deleted space's tokens are dropped from `verifier`'s
    /// cache (the one of the [`TokenService`](super::TokenService) of the same node,
    /// [`TokenService::verifier`](super::TokenService::verifier)) before the deletion is
    /// answered.
    #[must_use]
    pub fn new(
        spaces: Arc<dyn SpaceRepository>,
        verifier: Arc<Verifier>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            access: Access::new(Arc::clone(&spaces)),
            stamp: EventStamp::new(Arc::clone(&clock), Arc::clone(&random)),
            spaces,
            clock,
            random,
            verifier,
            cursors: CursorKey::random(),
        }
    }

    /// The same service sealing its listings' cursors with `key` (see
    /// [`TokenService::with_cursor_key`](crate::TokenService::with_cursor_key)).
    #[must_use]
    pub fn with_cursor_key(mut self, key: CursorKey) -> Self {
        self.cursors = key;
        self
    }

    /// Creates a space. Needs MANAGE_SPACES.
    ///
    /// # Errors
    /// [`CreateSpaceError`].
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, cmd: NewSpace) -> Result<Space, CreateSpaceError> {
        if !allows(actor, Permission::ManageSpaces, Resource::Instance) {
            return Err(CreateSpaceError::Forbidden);
        }
        let space = Space::new(self.random.space_id(), cmd.name, self.clock.now());
        self.spaces.insert(&space).await?;
        tracing::info!(space_id = %space.id, "space created");
        Ok(space)
    }

    /// Renames a living space. Needs MANAGE_SPACES. Records `space.renamed` when the name
    /// changed; the same name again changes nothing.
    ///
    /// # Errors
    /// [`RenameSpaceError`]; `NotFound` also for a deleted space.
    #[tracing::instrument(skip_all, fields(space_id = %id))]
    pub async fn rename(
        &self,
        actor: &Actor,
        id: SpaceId,
        name: SpaceName,
    ) -> Result<Space, RenameSpaceError> {
        if !allows(actor, Permission::ManageSpaces, Resource::Instance) {
            return Err(RenameSpaceError::Forbidden);
        }
        let event = self
            .stamp
            .space_event_by(AuditAction::SpaceRenamed, actor, id);
        match self.spaces.rename(id, &name, &event).await? {
            RenameOutcome::Done { space, changed } => {
                if changed {
                    tracing::info!("space renamed");
                }
                Ok(space)
            }
            RenameOutcome::NotFound => Err(RenameSpaceError::NotFound),
        }
    }

    /// Deletes a space. Needs MANAGE_SPACES. Every token of the space is revoked with it, in
    /// the store (which tells the other nodes) and in this node's cache before this returns,
    /// so none of them works from then on, anywhere; console sessions signed in with them end
    /// at their next request. The space's events are kept, readable by instance admins; the
    /// space is gone for every other use, and deletion is final. Deleting it again succeeds
    /// and changes nothing.
    ///
    /// # Errors
    /// [`DeleteSpaceError`]; `NotFound` only for an id no space ever had.
    #[tracing::instrument(skip_all, fields(space_id = %id))]
    pub async fn delete(
        &self,
        actor: &Actor,
        id: SpaceId,
    ) -> Result<SpaceDeletion, DeleteSpaceError> {
        if !allows(actor, Permission::ManageSpaces, Resource::Instance) {
            return Err(DeleteSpaceError::Forbidden);
        }
        let event = self
            .stamp
            .space_event_by(AuditAction::SpaceDeleted, actor, id);
        match self.spaces.delete(id, self.clock.now(), &event).await? {
            DeleteOutcome::Deleted { revoked } => {
                // Before the caller hears of success, as for one revocation.
                for token in &revoked {
                    self.verifier.forget(*token);
                }
                tracing::info!(revoked = revoked.len(), "space deleted");
                Ok(SpaceDeletion::Deleted {
                    revoked: revoked.len(),
                })
            }
            DeleteOutcome::AlreadyDeleted => Ok(SpaceDeletion::AlreadyDeleted),
            DeleteOutcome::NotFound => Err(DeleteSpaceError::NotFound),
        }
    }

    /// Reads a space the actor may see: any for an instance admin, its own for everyone else.
    ///
    /// # Errors
    /// [`GetSpaceError::NotFound`] also for a space that exists but is not the actor's.
    #[tracing::instrument(skip_all, fields(space_id = %id))]
    pub async fn get(&self, actor: &Actor, id: SpaceId) -> Result<Space, GetSpaceError> {
        self.access.space(actor, id).await
    }

    /// Lists the spaces the actor may see, in creation order.
    ///
    /// # Errors
    /// [`ListSpacesError::Store`] if the store fails.
    #[tracing::instrument(skip_all)]
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Space>, ListSpacesError> {
        let pager = self.cursors.pager(Listing::of("spaces"));
        let after = pager.position(&page)?.map(SpaceId::from_uuid);
        if let Some(own) = actor.space_id() {
            let visible = after.is_none_or(|after| own > after);
            let own_space = if visible {
                self.spaces.get(own).await?.filter(|s| !s.is_deleted())
            } else {
                None
            };
            return Ok(Page {
                items: own_space.into_iter().collect(),
                next_cursor: None,
            });
        }
        let limit = page.limit.get() as usize;
        let spaces = self.spaces.list(after, limit + 1).await?;
        Ok(pager.page(spaces, page.limit, |s| s.id.as_uuid()))
    }
}
