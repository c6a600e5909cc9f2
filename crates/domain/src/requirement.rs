//! What a gateway may require of a token on top of its being valid, for forward auth: that it
//! belongs to a given space, and that it is admin-level. The rule of who meets a requirement is
//! written here once, on the same [`can_reach`] rule that isolates spaces everywhere else.

use crate::actor::{Actor, MemberRole};
use crate::ids::SpaceId;
use crate::policy::can_reach;
use crate::token::TokenLevel;

/// Requirements a gateway configured for a route (`?space=ID`, `?level=admin`): each one set
/// must be met. The default requires nothing beyond a valid token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessRequirement {
    space: Option<SpaceId>,
    level: Option<TokenLevel>,
}

/// Which requirement an actor did not meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnmetRequirement {
    /// The token does not belong to the required space (and is no instance admin).
    #[error("the token does not belong to the required space")]
    Space,
    /// The token's level is below the required one.
    #[error("the token's level is below the required `{}`", .0.as_str())]
    Level(TokenLevel),
}

impl AccessRequirement {
    /// Nothing beyond a valid token.
    pub const NONE: Self = Self {
        space: None,
        level: None,
    };

    /// This requirement, and also that the token belong to `space` (an instance admin reaches
    /// every space, so it passes).
    #[must_use]
    pub const fn in_space(mut self, space: SpaceId) -> Self {
        self.space = Some(space);
        self
    }

    /// This requirement, and also that the token be of `level` or above (`client` requires
    /// nothing more; an instance admin is admin-level).
    #[must_use]
    pub const fn at_level(mut self, level: TokenLevel) -> Self {
        self.level = Some(level);
        self
    }

    /// The space required, if any.
    #[must_use]
    pub const fn space(&self) -> Option<SpaceId> {
        self.space
    }

    /// The level required, if any.
    #[must_use]
    pub const fn level(&self) -> Option<TokenLevel> {
        self.level
    }

    /// Whether `actor` meets every requirement.
    ///
    /// # Errors
    /// The first [`UnmetRequirement`]: the space, then the level.
    pub fn check(&self, actor: &Actor) -> Result<(), UnmetRequirement> {
        if let Some(space) = self.space {
            if !can_reach(actor, space) {
                return Err(UnmetRequirement::Space);
            }
        }
        if self.level == Some(TokenLevel::Admin) && !is_admin_level(actor) {
            return Err(UnmetRequirement::Level(TokenLevel::Admin));
        }
        Ok(())
    }
}

/// Instance admins, admin-level space tokens, and the members who administer their space.
const fn is_admin_level(actor: &Actor) -> bool {
    matches!(
        actor,
        Actor::InstanceAdmin { .. }
            | Actor::Operator
            | Actor::SpaceToken {
                level: TokenLevel::Admin,
                ..
            }
            | Actor::Member {
                role: MemberRole::Owner | MemberRole::Admin,
                ..
            }
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::ids::{TokenId, UserId};

    const OWN: SpaceId = SpaceId::from_uuid(Uuid::from_u128(1));
    const OTHER: SpaceId = SpaceId::from_uuid(Uuid::from_u128(2));

    fn token(level: TokenLevel) -> Actor {
        Actor::SpaceToken {
            token_id: TokenId::from_uuid(Uuid::from_u128(10)),
            space_id: OWN,
            level,
        }
    }

    fn member(role: MemberRole) -> Actor {
        Actor::Member {
            user_id: UserId::parse("u1").unwrap(),
            space_id: OWN,
            role,
            via_token_id: None,
        }
    }

    #[test]
    fn every_actor_against_every_requirement() {
        use UnmetRequirement::{Level, Space};
        let instance = Actor::InstanceAdmin {
            token_id: TokenId::from_uuid(Uuid::from_u128(11)),
        };
        let none = AccessRequirement::NONE;
        let own = none.in_space(OWN);
        let other = none.in_space(OTHER);
        let admin = none.at_level(TokenLevel::Admin);
        let client = none.at_level(TokenLevel::Client);
        let own_admin = own.at_level(TokenLevel::Admin);
        let other_admin = other.at_level(TokenLevel::Admin);
        let admin_level = Err(Level(TokenLevel::Admin));
        // (actor, [none, own, other, admin, client, own+admin, other+admin])
        let table = [
            (instance, [Ok(()); 7]),
            (
                token(TokenLevel::Admin),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    Ok(()),
                    Ok(()),
                    Ok(()),
                    Err(Space),
                ],
            ),
            (
                token(TokenLevel::Client),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    admin_level,
                    Ok(()),
                    admin_level,
                    Err(Space),
                ],
            ),
            (
                member(MemberRole::Owner),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    Ok(()),
                    Ok(()),
                    Ok(()),
                    Err(Space),
                ],
            ),
            (
                member(MemberRole::Admin),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    Ok(()),
                    Ok(()),
                    Ok(()),
                    Err(Space),
                ],
            ),
            (
                member(MemberRole::Editor),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    admin_level,
                    Ok(()),
                    admin_level,
                    Err(Space),
                ],
            ),
            (
                member(MemberRole::Viewer),
                [
                    Ok(()),
                    Ok(()),
                    Err(Space),
                    admin_level,
                    Ok(()),
                    admin_level,
                    Err(Space),
                ],
            ),
        ];
        let requirements = [none, own, other, admin, client, own_admin, other_admin];
        for (actor, expected) in table {
            for (requirement, expected) in requirements.iter().zip(expected) {
                assert_eq!(
                    requirement.check(&actor),
                    expected,
                    "{actor:?} {requirement:?}"
                );
            }
        }
    }

    #[test]
    fn the_requirement_remembers_what_it_requires() {
        let requirement = AccessRequirement::default()
            .in_space(OWN)
            .at_level(TokenLevel::Admin);
        assert_eq!(requirement.space(), Some(OWN));
        assert_eq!(requirement.level(), Some(TokenLevel::Admin));
        assert_eq!(AccessRequirement::default(), AccessRequirement::NONE);
    }
}
