//! What goes into the token use cases and what comes out of them: commands, and the view of
//! a token that readers are shown.

use std::fmt;

use time::OffsetDateTime;
use tollgate_domain::{
    ApiToken, GracePeriod, NameSearch, Resource, SpaceId, TokenLevel, TokenName, TokenStatus,
};

use crate::pagination::PageRequest;
use crate::ports::{ListOrder, StatusFilter};

/// The command to issue a token in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its name.
    pub name: TokenName,
    /// Its level.
    pub level: TokenLevel,
    /// When it stops working, if ever; must be in the future.
    pub expires_at: Option<OffsetDateTime>,
}

/// Which tokens of a space to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTokens {
    /// Only this level, or every level the actor may see for `None`.
    pub level: Option<TokenLevel>,
    /// Only tokens whose name contains this, ignoring case.
    pub name: Option<NameSearch>,
    /// Only tokens in these statuses (active ones unless asked otherwise).
    pub statuses: StatusFilter,
    /// The page.
    pub page: PageRequest,
    /// Oldest first (the REST API) or newest first (the console); the page's cursor continues
    /// in the same order.
    pub order: ListOrder,
}

/// Which instance admin tokens to list (oldest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListInstanceTokens {
    /// Only tokens in these statuses (active ones unless asked otherwise).
    pub statuses: StatusFilter,
    /// The page.
    pub page: PageRequest,
}

/// The command to rotate a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateToken {
    /// How long the old token keeps working next to the new one.
    pub grace_period: GracePeriod,
}

/// A token as a reader is shown it: its metadata (with the creator as that reader may see it)
/// and its status at the moment it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// The token's metadata.
    pub token: ApiToken,
    /// Where it is in its life, by the service's clock.
    pub status: TokenStatus,
}

/// Where a token lives, as the use cases that act on one token find it: in a space, or at the
/// instance (an instance admin token). A [`SpaceId`] converts into it, so the space's use cases
/// are called with a space id as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenHome {
    /// A space token of this space.
    Space(SpaceId),
    /// An instance admin token, which belongs to no space.
    Instance,
}

impl TokenHome {
    /// `home` as a [`TokenHome`].
    #[must_use]
    pub fn of(home: impl Into<Self>) -> Self {
        home.into()
    }

    /// The space, or `None` for the instance: what the token's `space_id` must be.
    #[must_use]
    pub const fn space_id(self) -> Option<SpaceId> {
        match self {
            Self::Space(space_id) => Some(space_id),
            Self::Instance => None,
        }
    }

    /// What a permission here is asked on.
    #[must_use]
    pub const fn resource(self) -> Resource<'static> {
        match self {
            Self::Space(space_id) => Resource::Space(space_id),
            Self::Instance => Resource::Instance,
        }
    }
}

impl From<SpaceId> for TokenHome {
    fn from(space_id: SpaceId) -> Self {
        Self::Space(space_id)
    }
}

impl fmt::Display for TokenHome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Space(space_id) => write!(f, "{space_id}"),
            Self::Instance => f.write_str("instance"),
        }
    }
}
