//! Actors: who is asking. A token (instance admin or space token) or a space member whom the
//! embedding platform authenticated itself.

use std::fmt;
use std::str::FromStr;

use crate::api_token::{ApiToken, TokenIdentity};
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
        /// The instance admin token the platform's backend acted with, when the member came
        /// over the REST API ([`Actor::act_for`]); `None` for an embedder's own member. Audit
        /// events record it; it grants nothing.
        via_token_id: Option<TokenId>,
    },
    /// The operator at the store itself: `tollgate`'s command line, run by whoever can open
    /// the store (`DATABASE_URL`, or the SQLite file). It holds what an instance admin holds,
    /// with no token: it is how access is regained when every instance admin token is lost.
    /// What it does is recorded as `cli`.
    Operator,
}

/// A member a platform's backend says it acts for: who, where, and in which role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActingFor {
    /// The platform's user id.
    pub user_id: UserId,
    /// The space the member acts in.
    pub space_id: SpaceId,
    /// The member's role there.
    pub role: MemberRole,
}

/// Only an instance admin token may act for a platform's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only an instance admin token may act for a member")]
pub struct ActForError;

impl Actor {
    /// The actor a verified token acts as.
    #[must_use]
    pub const fn for_token(token: &ApiToken) -> Self {
        Self::of_token(token.id(), token.scope())
    }

    /// The actor a verified token acts as, from what the verification found of it.
    #[must_use]
    pub const fn for_identity(token: &TokenIdentity) -> Self {
        Self::of_token(token.id(), token.scope())
    }

    const fn of_token(token_id: TokenId, scope: TokenScope) -> Self {
        match scope {
            TokenScope::Instance => Self::InstanceAdmin { token_id },
            TokenScope::Space { space_id, level } => Self::SpaceToken {
                token_id,
                space_id,
                level,
            },
        }
    }

    /// The member `member`, as this actor acts for it: the answer is then the policy's for that
    /// member, exactly as for an embedder's [`Actor::Member`], and the events it causes record
    /// this actor's token as `via_token_id`.
    ///
    /// # Errors
    /// [`ActForError`] unless [`may_act_for_members`](crate::policy::may_act_for_members).
    pub fn act_for(&self, member: ActingFor) -> Result<Self, ActForError> {
        if !crate::policy::may_act_for_members(self) {
            return Err(ActForError);
        }
        Ok(Self::Member {
            user_id: member.user_id,
            space_id: member.space_id,
            role: member.role,
            via_token_id: match self {
                Self::InstanceAdmin { token_id } | Self::SpaceToken { token_id, .. } => {
                    Some(*token_id)
                }
                Self::Member { via_token_id, .. } => *via_token_id,
                Self::Operator => None,
            },
        })
    }

    /// The instance admin token a platform's backend acted with for this member, if any: what
    /// an audit event records as `via_token_id`.
    #[must_use]
    pub const fn via_token_id(&self) -> Option<TokenId> {
        match self {
            Self::Member { via_token_id, .. } => *via_token_id,
            Self::InstanceAdmin { .. } | Self::SpaceToken { .. } | Self::Operator => None,
        }
    }

    /// Whether the actor acts on the whole instance, with every permission everywhere: an
    /// instance admin token, or the operator at the store.
    #[must_use]
    pub const fn is_instance_wide(&self) -> bool {
        matches!(self, Self::InstanceAdmin { .. } | Self::Operator)
    }

    /// The actor's own space, or `None` for an instance admin (or the operator).
    #[must_use]
    pub const fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::InstanceAdmin { .. } | Self::Operator => None,
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
            Self::Operator => CreatedBy::Cli,
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn acting_for() -> ActingFor {
        ActingFor {
            user_id: UserId::parse("ada").unwrap_or_else(|_| unreachable!()),
            space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
            role: MemberRole::Editor,
        }
    }

    #[test]
    fn an_instance_admin_acts_for_a_member_and_the_member_records_its_token() {
        let token_id = TokenId::from_uuid(Uuid::from_u128(9));
        let admin = Actor::InstanceAdmin { token_id };
        let member = admin
            .act_for(acting_for())
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            member,
            Actor::Member {
                user_id: acting_for().user_id,
                space_id: acting_for().space_id,
                role: MemberRole::Editor,
                via_token_id: Some(token_id),
            }
        );
        assert_eq!(member.via_token_id(), Some(token_id));
        assert_eq!(admin.via_token_id(), None);
        assert_eq!(
            member.as_creator(),
            CreatedBy::Member(acting_for().user_id),
            "created_by records the member, not the token"
        );
    }

    #[test]
    fn no_other_actor_may_act_for_a_member() {
        let space_token = Actor::SpaceToken {
            token_id: TokenId::from_uuid(Uuid::from_u128(9)),
            space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
            level: TokenLevel::Admin,
        };
        assert_eq!(space_token.act_for(acting_for()), Err(ActForError));
        let member = Actor::Member {
            user_id: acting_for().user_id,
            space_id: acting_for().space_id,
            role: MemberRole::Owner,
            via_token_id: None,
        };
        assert_eq!(member.act_for(acting_for()), Err(ActForError));
    }
}
