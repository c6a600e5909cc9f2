//! The policy: one pure function that answers SPEC's whole permission table, and the
//! visibility rule built on it. Services call these; adapters never decide who may do what.

use crate::actor::{Actor, MemberRole};
use crate::api_token::{ApiToken, TokenIdentity};
use crate::audit::AuditEvent;
use crate::ids::SpaceId;
use crate::permission::Permission;
use crate::token::{CreatedBy, TokenLevel, TokenScope};

/// What a permission is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// The instance as a whole (creating and listing spaces).
    Instance,
    /// A space and everything in it.
    Space(SpaceId),
    /// One token. Needed where the answer depends on the token (an editor revokes only the
    /// client tokens it created).
    Token(&'a ApiToken),
}

impl Resource<'_> {
    fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::Instance => None,
            Self::Space(id) => Some(*id),
            Self::Token(token) => token.space_id(),
        }
    }
}

/// Whether `actor` can reach `space` at all: its own space, or any space for an instance admin.
/// Space isolation is this one rule: every space permission holds only where it does, and to
/// an actor a space it cannot reach does not exist (404, exactly as for a missing one).
#[must_use]
pub fn can_reach(actor: &Actor, space: SpaceId) -> bool {
    actor.space_id().is_none_or(|own| own == space)
}

/// Whether `actor` holds `permission` on `resource`.
///
/// Space permissions hold only in the actor's own space; an instance admin holds every
/// permission everywhere. No token holds `CREATE_ADMIN_API_TOKEN`: a leaked admin token must not
/// be able to mint itself a twin that outlives its revocation.
#[must_use]
pub fn allows(actor: &Actor, permission: Permission, resource: Resource<'_>) -> bool {
    use Permission as P;

    if actor.is_instance_wide() {
        return true;
    }
    if permission == P::ManageSpaces || !resource.space_id().is_some_and(|s| can_reach(actor, s)) {
        return false;
    }
    match actor {
        Actor::InstanceAdmin { .. } | Actor::Operator => true,
        Actor::SpaceToken {
            level: TokenLevel::Admin,
            ..
        } => matches!(
            permission,
            P::CreateApiToken | P::ReadApiToken | P::ReadAdminApiToken | P::RevokeApiToken
        ),
        Actor::SpaceToken {
            level: TokenLevel::Client,
            ..
        }
        | Actor::Member {
            role: MemberRole::Viewer,
            ..
        } => permission == P::ReadApiToken,
        Actor::Member {
            role: MemberRole::Owner | MemberRole::Admin,
            ..
        } => true,
        Actor::Member {
            role: MemberRole::Editor,
            user_id,
            ..
        } => match permission {
            P::CreateApiToken | P::ReadApiToken => true,
            P::RevokeApiToken => matches!(
                resource,
                Resource::Token(token)
                    if token.level() == TokenLevel::Client
                        && *token.created_by() == CreatedBy::Member(user_id.clone())
            ),
            _ => false,
        },
    }
}

/// The permission needed to create (or rotate) a token of `level`.
#[must_use]
pub const fn create_permission(level: TokenLevel) -> Permission {
    match level {
        TokenLevel::Client => Permission::CreateApiToken,
        TokenLevel::Admin => Permission::CreateAdminApiToken,
    }
}

/// Whether `actor` may know that `token` exists: READ_API_TOKEN in its space, and for an
/// admin-level token READ_ADMIN_API_TOKEN as well. Instance tokens are visible only to
/// instance admins.
#[must_use]
pub fn can_see(actor: &Actor, token: &ApiToken) -> bool {
    can_see_scope(actor, token.scope())
}

/// [`can_see`] for any token of `scope`: what the rule depends on.
fn can_see_scope(actor: &Actor, scope: TokenScope) -> bool {
    let Some(space) = scope.space_id() else {
        return actor.is_instance_wide();
    };
    allows(actor, Permission::ReadApiToken, Resource::Space(space))
        && (scope.level() == TokenLevel::Client
            || allows(actor, Permission::ReadAdminApiToken, Resource::Space(space)))
}

/// Whether `actor` may act for a platform's members (`X-Tollgate-Act-As` over the REST API):
/// only an instance admin token, the one a platform's backend holds. A space token must not
/// turn itself into an owner of its space.
#[must_use]
pub const fn may_act_for_members(actor: &Actor) -> bool {
    matches!(actor, Actor::InstanceAdmin { .. })
}

/// Whether `actor` may list, create, revoke and rotate instance admin tokens: instance-wide
/// actors only (an instance admin token, or the operator at the store).
#[must_use]
pub const fn may_manage_instance_tokens(actor: &Actor) -> bool {
    actor.is_instance_wide()
}

/// Whether `reader` may learn the id of the token that acted (an event's `actor`, a token's
/// `created_by`), given the space that token belongs to (`None`: an instance admin token, or
/// one no longer stored). Instance-wide readers may; a reader in a space only for a token of
/// its own space, so space actors never learn an instance admin token's id.
#[must_use]
pub fn discloses_token_actor(reader: &Actor, actor_token_space: Option<SpaceId>) -> bool {
    reader.is_instance_wide()
        || (actor_token_space.is_some() && actor_token_space == reader.space_id())
}

/// `actor` (an event's actor or a token's creator) as `reader` is shown it: a token actor
/// that the reader may not know by id ([`discloses_token_actor`]) becomes `instance`.
/// `actor_token_space` is the space of the token `actor` names, when it names one.
#[must_use]
pub fn actor_as_seen_by(
    reader: &Actor,
    actor: CreatedBy,
    actor_token_space: Option<SpaceId>,
) -> CreatedBy {
    let discloses = discloses_token_actor(reader, actor_token_space);
    actor.disclosed(discloses)
}

/// `event` as `reader` is shown it: only an instance admin learns which instance admin token
/// acted for a member (`via_token_id`), and an actor that is a token outside the reader's
/// space (an instance admin token) is shown as `instance`, without its id
/// ([`actor_as_seen_by`]; `actor_token_space` is the space of the token the actor names).
/// Space actors never learn an instance admin token's id.
#[must_use]
pub fn event_as_seen_by(
    reader: &Actor,
    mut event: AuditEvent,
    actor_token_space: Option<SpaceId>,
) -> AuditEvent {
    if !reader.is_instance_wide() {
        event.via_token_id = None;
    }
    event.actor = actor_as_seen_by(reader, event.actor, actor_token_space);
    event
}

/// Whether `actor` may use introspection (RFC 7662) at all: it needs READ_ADMIN_API_TOKEN at
/// home, which instance admins, space admin tokens and owner or admin members hold. Asked
/// before the introspected token is verified, so a caller without the right learns nothing
/// and costs nothing.
#[must_use]
pub fn may_introspect(actor: &Actor) -> bool {
    let home = actor.space_id().map_or(Resource::Instance, Resource::Space);
    allows(actor, Permission::ReadAdminApiToken, home)
}

/// Whether introspection by `actor` describes `token` (a verified one) as active: the caller
/// may introspect, and may know that the token exists (its own space's tokens; every token for
/// an instance admin). Any other token is answered as inactive, exactly as an unknown one.
#[must_use]
pub fn introspection_shows(actor: &Actor, token: &TokenIdentity) -> bool {
    may_introspect(actor) && can_see_scope(actor, token.scope())
}

/// `token` as `actor` is shown it: an actor without READ_ADMIN_API_TOKEN in the token's space
/// learns that a token created it, not which one, since only admin-level tokens create tokens
/// and such a reader must never learn that one exists; one that may not know the creating
/// token by id ([`discloses_token_actor`]; `creator_token_space` is that token's space) sees
/// `instance`.
#[must_use]
pub fn as_seen_by(
    actor: &Actor,
    token: ApiToken,
    creator_token_space: Option<SpaceId>,
) -> ApiToken {
    let reads_admin_tokens = allows(
        actor,
        Permission::ReadAdminApiToken,
        Resource::Token(&token),
    );
    let discloses = discloses_token_actor(actor, creator_token_space);
    token.seen_with(discloses, reads_admin_tokens)
}

/// The permissions an actor holds in its own space (every permission for an instance admin),
/// as `whoami` reports them.
#[must_use]
pub fn permissions_in_own_space(actor: &Actor) -> Vec<Permission> {
    let resource = actor.space_id().map_or(Resource::Instance, Resource::Space);
    Permission::ALL
        .into_iter()
        .filter(|p| allows(actor, *p, resource))
        .collect()
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;
    use crate::api_token::test_token;
    use crate::ids::{TokenId, UserId};
    use crate::token::TokenScope;

    const OWN: SpaceId = SpaceId::from_uuid(Uuid::from_u128(1));
    const OTHER: SpaceId = SpaceId::from_uuid(Uuid::from_u128(2));

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap_or_else(|_| unreachable!())
    }

    fn member(role: MemberRole) -> Actor {
        Actor::Member {
            user_id: user("alice"),
            space_id: OWN,
            role,
            via_token_id: None,
        }
    }

    fn space_token(level: TokenLevel) -> Actor {
        Actor::SpaceToken {
            token_id: TokenId::from_uuid(Uuid::from_u128(10)),
            space_id: OWN,
            level,
        }
    }

    fn scoped(scope: TokenScope, created_by: CreatedBy) -> ApiToken {
        test_token(scope, created_by, OffsetDateTime::UNIX_EPOCH, None)
    }

    fn token(space: SpaceId, level: TokenLevel, created_by: CreatedBy) -> ApiToken {
        let scope = TokenScope::Space {
            space_id: space,
            level,
        };
        scoped(scope, created_by)
    }

    /// SPEC's table, row by row, in the column order of [`Permission::ALL`]:
    /// MANAGE_SPACES, CREATE_API_TOKEN, CREATE_ADMIN_API_TOKEN, READ_API_TOKEN,
    /// READ_ADMIN_API_TOKEN, REVOKE_API_TOKEN (asked on the space itself).
    fn table() -> Vec<(&'static str, Actor, [bool; 6])> {
        vec![
            (
                "instance admin token",
                Actor::InstanceAdmin {
                    token_id: TokenId::from_uuid(Uuid::from_u128(5)),
                },
                [true, true, true, true, true, true],
            ),
            // Not a row of SPEC's table: the command line on the store, the way back in when
            // every instance admin token is lost.
            (
                "operator (command line)",
                Actor::Operator,
                [true, true, true, true, true, true],
            ),
            (
                "space admin token",
                space_token(TokenLevel::Admin),
                [false, true, false, true, true, true],
            ),
            (
                "space client token",
                space_token(TokenLevel::Client),
                [false, false, false, true, false, false],
            ),
            (
                "member owner",
                member(MemberRole::Owner),
                [false, true, true, true, true, true],
            ),
            (
                "member admin",
                member(MemberRole::Admin),
                [false, true, true, true, true, true],
            ),
            // Editor's REVOKE is "client tokens it created": never on the space as a whole.
            (
                "member editor",
                member(MemberRole::Editor),
                [false, true, false, true, false, false],
            ),
            (
                "member viewer",
                member(MemberRole::Viewer),
                [false, false, false, true, false, false],
            ),
        ]
    }

    #[test]
    fn every_cell_of_the_permission_table_holds_in_the_actors_own_space() {
        for (who, actor, row) in table() {
            for (permission, expected) in Permission::ALL.into_iter().zip(row) {
                assert_eq!(
                    allows(&actor, permission, Resource::Space(OWN)),
                    expected,
                    "{who} × {permission} in its own space"
                );
            }
        }
    }

    #[test]
    fn no_space_permission_holds_in_another_space_except_for_the_instance_admin() {
        for (who, actor, _) in table() {
            let instance = actor.is_instance_wide();
            for permission in Permission::ALL {
                assert_eq!(
                    allows(&actor, permission, Resource::Space(OTHER)),
                    instance,
                    "{who} × {permission} in another space"
                );
                let foreign = token(OTHER, TokenLevel::Client, actor.as_creator());
                assert_eq!(
                    allows(&actor, permission, Resource::Token(&foreign)),
                    instance,
                    "{who} × {permission} on a token of another space"
                );
            }
        }
    }

    #[test]
    fn manage_spaces_belongs_to_the_instance_admin_alone() {
        for (who, actor, row) in table() {
            assert_eq!(
                allows(&actor, Permission::ManageSpaces, Resource::Instance),
                row[0],
                "{who}"
            );
        }
    }

    #[test]
    fn editor_revokes_only_the_client_tokens_it_created() {
        let editor = member(MemberRole::Editor);
        let revoke = |t: &ApiToken| allows(&editor, Permission::RevokeApiToken, Resource::Token(t));
        let mine = CreatedBy::Member(user("alice"));
        let theirs = CreatedBy::Member(user("bob"));
        assert!(revoke(&token(OWN, TokenLevel::Client, mine.clone())));
        assert!(!revoke(&token(OWN, TokenLevel::Client, theirs)));
        assert!(!revoke(&token(OWN, TokenLevel::Client, CreatedBy::System)));
        assert!(!revoke(&token(OWN, TokenLevel::Admin, mine.clone())));
        assert!(!revoke(&token(OTHER, TokenLevel::Client, mine)));
    }

    #[test]
    fn token_resources_follow_the_table_for_everyone_but_the_editor() {
        for (who, actor, row) in table() {
            if matches!(
                actor,
                Actor::Member {
                    role: MemberRole::Editor,
                    ..
                }
            ) {
                continue;
            }
            let t = token(OWN, TokenLevel::Client, CreatedBy::System);
            for (permission, expected) in Permission::ALL.into_iter().zip(row) {
                assert_eq!(
                    allows(&actor, permission, Resource::Token(&t)),
                    expected,
                    "{who} × {permission}"
                );
            }
        }
    }

    #[test]
    fn admin_level_tokens_exist_only_for_holders_of_read_admin_api_token() {
        let admin_token = token(OWN, TokenLevel::Admin, CreatedBy::System);
        let client_token = token(OWN, TokenLevel::Client, CreatedBy::System);
        for (who, actor, row) in table() {
            assert_eq!(
                can_see(&actor, &admin_token),
                row[4],
                "{who} sees an admin token"
            );
            assert_eq!(
                can_see(&actor, &client_token),
                row[3],
                "{who} sees a client token"
            );
            let foreign = token(OTHER, TokenLevel::Client, CreatedBy::System);
            assert_eq!(
                can_see(&actor, &foreign),
                actor.is_instance_wide(),
                "{who} across spaces"
            );
        }
    }

    #[test]
    fn instance_tokens_are_visible_to_instance_admins_only() {
        let instance = scoped(TokenScope::Instance, CreatedBy::System);
        for (who, actor, _) in table() {
            assert_eq!(
                can_see(&actor, &instance),
                actor.is_instance_wide(),
                "{who}"
            );
        }
    }

    #[test]
    fn no_space_token_may_create_an_admin_level_token() {
        for level in TokenLevel::ALL {
            assert!(!allows(
                &space_token(level),
                create_permission(TokenLevel::Admin),
                Resource::Space(OWN)
            ));
        }
    }

    #[test]
    fn introspection_is_for_those_who_read_admin_tokens_and_shows_only_their_own_space() {
        let own_client = token(OWN, TokenLevel::Client, CreatedBy::System);
        let own_admin = token(OWN, TokenLevel::Admin, CreatedBy::System);
        let foreign = token(OTHER, TokenLevel::Client, CreatedBy::System);
        let instance = scoped(TokenScope::Instance, CreatedBy::System);
        for (who, actor, row) in table() {
            let is_instance = actor.is_instance_wide();
            assert_eq!(may_introspect(&actor), row[4], "{who} may introspect");
            for (t, what) in [(&own_client, "own client"), (&own_admin, "own admin")] {
                assert_eq!(
                    introspection_shows(&actor, &t.identity()),
                    row[4],
                    "{who} × {what}"
                );
            }
            assert_eq!(
                introspection_shows(&actor, &foreign.identity()),
                is_instance,
                "{who} × another space's token"
            );
            assert_eq!(
                introspection_shows(&actor, &instance.identity()),
                is_instance,
                "{who} × an instance token"
            );
        }
    }

    #[test]
    fn space_readers_see_an_instance_level_token_actor_without_its_id() {
        let instance = Actor::InstanceAdmin {
            token_id: TokenId::from_uuid(Uuid::from_u128(7)),
        };
        let acting = CreatedBy::Token(TokenId::from_uuid(Uuid::from_u128(7)));
        let readers = [
            space_token(TokenLevel::Admin),
            space_token(TokenLevel::Client),
            member(MemberRole::Owner),
        ];
        for reader in &readers {
            // An instance admin token (no space), another space's token, or one not stored.
            for home in [None, Some(OTHER)] {
                assert!(!discloses_token_actor(reader, home));
                assert_eq!(
                    actor_as_seen_by(reader, acting.clone(), home),
                    CreatedBy::UndisclosedInstance
                );
            }
            assert!(discloses_token_actor(reader, Some(OWN)));
            assert_eq!(actor_as_seen_by(reader, acting.clone(), Some(OWN)), acting);
            // Actors that are not tokens are shown as they are.
            for other in [
                CreatedBy::System,
                CreatedBy::Cli,
                CreatedBy::Member(user("bob")),
            ] {
                assert_eq!(actor_as_seen_by(reader, other.clone(), None), other);
            }
        }
        for reader in [instance, Actor::Operator] {
            assert!(discloses_token_actor(&reader, None));
            assert_eq!(actor_as_seen_by(&reader, acting.clone(), None), acting);
        }
        // A token created by an instance admin, read by a space admin and by a client token.
        let created = token(OWN, TokenLevel::Client, acting);
        assert_eq!(
            as_seen_by(&space_token(TokenLevel::Admin), created.clone(), None).created_by(),
            &CreatedBy::UndisclosedInstance
        );
        assert_eq!(
            as_seen_by(&space_token(TokenLevel::Client), created, None).created_by(),
            &CreatedBy::UndisclosedToken
        );
    }

    #[test]
    fn whoami_permissions_list_what_the_actor_holds_at_home() {
        assert_eq!(
            permissions_in_own_space(&space_token(TokenLevel::Client)),
            vec![Permission::ReadApiToken]
        );
        assert_eq!(
            permissions_in_own_space(&space_token(TokenLevel::Admin)),
            vec![
                Permission::CreateApiToken,
                Permission::ReadApiToken,
                Permission::ReadAdminApiToken,
                Permission::RevokeApiToken
            ]
        );
        let admin = Actor::InstanceAdmin {
            token_id: TokenId::from_uuid(Uuid::from_u128(5)),
        };
        assert_eq!(permissions_in_own_space(&admin), Permission::ALL.to_vec());
    }
}
