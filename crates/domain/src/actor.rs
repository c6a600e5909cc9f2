//! Actors: who is asking. A token (instance admin or space token) or a space member whom the
//! embedding platform authenticated itself.

use std::fmt;
use std::str::FromStr;

use crate::api_token::ApiToken;
use crate::ids::{SpaceId, TokenId, UserId};
use crate::token::{CreatedBy, TokenLevel, TokenScope};

/// A member's role in a space, as the embedding platform knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberRole {
    /// Owns the space.
    Owner,
    /// Administers the space.
    Admin,
    /// Edits the space's content; may create client tokens and revoke those it created.
    Editor,
    /// Reads only.
    Viewer,
}

/// A role name other than `owner`, `admin`, `editor` or `viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("member role must be `owner`, `admin`, `editor` or `viewer`")]
pub struct MemberRoleError;

impl MemberRole {
    /// Every role, most powerful first.
    pub const ALL: [Self; 4] = [Self::Owner, Self::Admin, Self::Editor, Self::Viewer];

    /// The role's wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

impl FromStr for MemberRole {
    type Err = MemberRoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(MemberRoleError)
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An instance admin token: manages spaces and acts in every space.
    InstanceAdmin {
        /// The token used.
        token_id: TokenId,
    },
    /// A token of one space.
    SpaceToken {
        /// The token used.
        token_id: TokenId,
        /// Its space.
        space_id: SpaceId,
        /// Its level.
        level: TokenLevel,
    },
    /// A member of a space, authenticated by the embedding platform.
    Member {
        /// The platform's user id.
        user_id: UserId,
        /// The space the member acts in.
        space_id: SpaceId,
        /// The member's role there.
        role: MemberRole,
    },
}

impl Actor {
    /// The actor a verified token acts as.
    #[must_use]
    pub fn for_token(token: &ApiToken) -> Self {
        match token.scope() {
            TokenScope::Instance => Self::InstanceAdmin {
                token_id: token.id(),
            },
            TokenScope::Space { space_id, level } => Self::SpaceToken {
                token_id: token.id(),
                space_id,
                level,
            },
        }
    }

    /// The actor's own space, or `None` for an instance admin.
    #[must_use]
    pub const fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::InstanceAdmin { .. } => None,
            Self::SpaceToken { space_id, .. } | Self::Member { space_id, .. } => Some(*space_id),
        }
    }

    /// What a token created by this actor records as its creator.
    #[must_use]
    pub fn as_creator(&self) -> CreatedBy {
        match self {
            Self::InstanceAdmin { token_id } | Self::SpaceToken { token_id, .. } => {
                CreatedBy::Token(*token_id)
            }
            Self::Member { user_id, .. } => CreatedBy::Member(user_id.clone()),
        }
    }
}
