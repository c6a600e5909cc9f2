//! Creating, reading and listing spaces.

use std::sync::Arc;

use tollgate_domain::{allows, Actor, Permission, Resource, Space, SpaceId, SpaceName};

use super::access::{Access, SpaceUnreachable};

use crate::error::StoreError;
use crate::pagination::{CursorError, CursorKey, Listing, Page, PageRequest};
use crate::ports::{Clock, RandomSource, SpaceRepository};

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

impl SpaceUnreachable for GetSpaceError {
    fn space_not_found() -> Self {
        Self::NotFound
    }
}

/// Spaces: creation by instance admins, reading by whoever may see them.
#[derive(Clone)]
pub struct SpaceService {
    spaces: Arc<dyn SpaceRepository>,
    access: Access,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    cursors: CursorKey,
}

impl std::fmt::Debug for SpaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpaceService").finish_non_exhaustive()
    }
}

impl SpaceService {
    /// A service over these ports.
    #[must_use]
    pub fn new(
        spaces: Arc<dyn SpaceRepository>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            access: Access::new(Arc::clone(&spaces)),
            spaces,
            clock,
            random,
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
        let space = Space {
            id: self.random.space_id(),
            name: cmd.name,
            created_at: self.clock.now(),
        };
        self.spaces.insert(&space).await?;
        tracing::info!(space_id = %space.id, "space created");
        Ok(space)
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
                self.spaces.get(own).await?
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
