//! Reaching what a use case acts on, written once: a space the actor may reach, and a token of
//! it the actor may know of. To the actor, anything else looks exactly like something that does
//! not exist, so every use case answers it with its own "not found".

use std::sync::Arc;

use tollgate_domain::{can_reach, can_see, Actor, ApiToken, Space, SpaceId, TokenId};

use super::commands::TokenHome;
use crate::error::StoreError;
use crate::ports::{SpaceRepository, TokenRepository};

/// The failures of a use case that acts in one space: the space may be out of the actor's reach
/// or missing (the two look the same), or the store may fail.
pub(crate) trait SpaceUnreachable: From<StoreError> {
    /// The space does not exist, or the actor may not reach it.
    fn space_not_found() -> Self;
}

/// The failures of a use case that acts on one token of a space.
pub(crate) trait TokenUnreachable: SpaceUnreachable {
    /// The token does not exist in the space, or the actor may not know of it.
    fn token_not_found() -> Self;
}

/// Finds the space and token a use case acts on, as far as the actor may know of them.
#[derive(Clone)]
pub(crate) struct Access {
    spaces: Arc<dyn SpaceRepository>,
}

impl Access {
    pub(crate) fn new(spaces: Arc<dyn SpaceRepository>) -> Self {
        Self { spaces }
    }

    /// Whether the actor can reach `space_id` at all (its own, or any for an instance admin),
    /// without asking the store whether it exists: for a use case that checks its permission
    /// and input before it reads anything.
    pub(crate) fn reach<E: SpaceUnreachable>(actor: &Actor, space_id: SpaceId) -> Result<(), E> {
        if can_reach(actor, space_id) {
            Ok(())
        } else {
            Err(E::space_not_found())
        }
    }

    /// The space `space_id`, if the actor can reach it (its own, or any for an instance admin)
    /// and it exists. A deleted space does not exist any more.
    pub(crate) async fn space<E: SpaceUnreachable>(
        &self,
        actor: &Actor,
        space_id: SpaceId,
    ) -> Result<Space, E> {
        Self::reach::<E>(actor, space_id)?;
        self.spaces
            .get(space_id)
            .await?
            .filter(|space| !space.is_deleted())
            .ok_or_else(E::space_not_found)
    }

    /// The space `space_id` for reading its history: as [`Self::space`], except that an
    /// instance-wide actor also reaches a deleted space (its events are kept for it).
    pub(crate) async fn space_history<E: SpaceUnreachable>(
        &self,
        actor: &Actor,
        space_id: SpaceId,
    ) -> Result<Space, E> {
        Self::reach::<E>(actor, space_id)?;
        self.spaces
            .get(space_id)
            .await?
            .filter(|space| !space.is_deleted() || actor.is_instance_wide())
            .ok_or_else(E::space_not_found)
    }

    /// The token `token_id` living at `home` in `tokens`, if the actor can reach it (the space,
    /// or the instance for an instance-wide actor) and may know that the token exists.
    pub(crate) async fn token<E: TokenUnreachable>(
        &self,
        tokens: &dyn TokenRepository,
        actor: &Actor,
        home: TokenHome,
        token_id: TokenId,
    ) -> Result<ApiToken, E> {
        match home {
            TokenHome::Space(space_id) => {
                self.space::<E>(actor, space_id).await?;
            }
            TokenHome::Instance if !actor.is_instance_wide() => return Err(E::token_not_found()),
            TokenHome::Instance => {}
        }
        tokens
            .get(token_id)
            .await?
            .filter(|t| t.space_id() == home.space_id() && can_see(actor, t))
            .ok_or_else(E::token_not_found)
    }
}

/// Implements [`SpaceUnreachable`] (and [`TokenUnreachable`] for the second list) with each
/// error's `SpaceNotFound` and `NotFound` variants.
macro_rules! unreachable_as_not_found {
    ($($error:ty),+ ; tokens: $($token_error:ty),+) => {
        $(impl $crate::services::access::SpaceUnreachable for $error {
            fn space_not_found() -> Self {
                Self::SpaceNotFound
            }
        })+
        $(impl $crate::services::access::TokenUnreachable for $token_error {
            fn token_not_found() -> Self {
                Self::NotFound
            }
        })+
    };
}
pub(crate) use unreachable_as_not_found;
