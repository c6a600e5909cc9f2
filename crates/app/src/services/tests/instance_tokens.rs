//! Instance admin tokens managed through the services: created by instance-wide actors (an
//! instance admin token, or the operator at the store), and read, rotated and revoked at
//! [`TokenHome::Instance`].
use super::*;
use crate::ports::StatusFilter;

fn name(n: &str) -> TokenName {
    TokenName::parse(n).unwrap()
}

#[tokio::test]
async fn the_operator_and_instance_admins_create_instance_admin_tokens_and_no_one_else() {
    let core = core().await;
    let space = core.space("acme").await;
    let by_operator = core
        .tokens
        .create_instance_admin(&Actor::Operator, name("break glass"), None)
        .await
        .unwrap();
    assert_eq!(by_operator.token().scope(), TokenScope::Instance);
    assert_eq!(*by_operator.token().created_by(), CreatedBy::Cli);
    let its_actor = core.actor_of(&by_operator).await;
    assert!(
        its_actor.is_instance_wide(),
        "it verifies as an instance admin"
    );
    let by_admin = core
        .tokens
        .create_instance_admin(&core.admin, name("second"), None)
        .await
        .unwrap();
    assert_eq!(
        *by_admin.token().created_by(),
        core.admin.as_creator(),
        "the creator is recorded"
    );

    let space_admin = core
        .actor_of(&core.issue(&core.admin, space, TokenLevel::Admin).await)
        .await;
    for actor in [space_admin, member(space, "owner", MemberRole::Owner)] {
        assert!(
            matches!(
                core.tokens
                    .create_instance_admin(&actor, name("mine"), None)
                    .await,
                Err(CreateTokenError::Forbidden(TokenLevel::Admin))
            ),
            "{actor:?}"
        );
    }
}

#[tokio::test]
async fn instance_admin_tokens_follow_the_lifetime_policy() {
    let TestCore { tokens, clock, .. } = TestCore::new();
    let tokens = tokens
        .with_lifetime_policy(tollgate_domain::LifetimePolicy::from_days(Some(30), None).unwrap());
    let issued = tokens
        .create_instance_admin(&Actor::Operator, name("capped"), None)
        .await
        .unwrap();
    assert_eq!(
        issued.token().expires_at(),
        Some(clock.now() + Duration::days(30))
    );
    assert!(matches!(
        tokens
            .create_instance_admin(
                &Actor::Operator,
                name("too long"),
                Some(clock.now() + Duration::days(31))
            )
            .await,
        Err(CreateTokenError::ExpiryBeyondMaximum { max_days: 30 })
    ));
}

#[tokio::test]
async fn an_instance_token_is_read_rotated_and_revoked_at_the_instance_and_nowhere_else() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core
        .tokens
        .create_instance_admin(&Actor::Operator, name("ops"), None)
        .await
        .unwrap();
    let id = issued.token().id();

    let seen = core
        .tokens
        .get(&Actor::Operator, TokenHome::Instance, id)
        .await
        .unwrap();
    assert_eq!(seen.token.id(), id);
    assert!(
        matches!(
            core.tokens.get(&core.admin, space, id).await,
            Err(GetTokenError::NotFound)
        ),
        "an instance token is not in any space"
    );
    let space_admin = core
        .actor_of(&core.issue(&core.admin, space, TokenLevel::Admin).await)
        .await;
    assert!(matches!(
        core.tokens.get(&space_admin, TokenHome::Instance, id).await,
        Err(GetTokenError::NotFound)
    ));
    assert!(matches!(
        core.tokens
            .revoke(&space_admin, TokenHome::Instance, id)
            .await,
        Err(RevokeTokenError::NotFound)
    ));

    let replacement = core
        .tokens
        .rotate(&Actor::Operator, TokenHome::Instance, id, rotate_with(0))
        .await
        .unwrap();
    assert_eq!(replacement.token().scope(), TokenScope::Instance);
    assert!(core.tokens.verify(issued.secret().expose()).await.is_err());
    let new_id = replacement.token().id();
    core.tokens
        .revoke(&core.admin, TokenHome::Instance, new_id)
        .await
        .unwrap();
    assert!(
        core.tokens
            .verify(replacement.secret().expose())
            .await
            .is_err(),
        "revoked at once"
    );
}

/// The id of the core's own instance admin token.
fn admin_id(core: &Core) -> TokenId {
    core.admin.as_creator().token_id().unwrap()
}

#[tokio::test]
async fn the_last_active_instance_admin_token_is_never_revoked_and_any_other_is() {
    let core = core().await;
    let first = admin_id(&core);
    assert!(matches!(
        core.tokens
            .revoke(&core.admin, TokenHome::Instance, first)
            .await,
        Err(RevokeTokenError::LastInstanceAdmin)
    ));
    assert!(
        core.tokens.verify(&core.admin_token).await.is_ok(),
        "it still works"
    );

    let second = core
        .tokens
        .create_instance_admin(&core.admin, name("second"), None)
        .await
        .unwrap();
    let by_second = core.actor_of(&second).await;
    let revoked = core
        .tokens
        .revoke(&by_second, TokenHome::Instance, first)
        .await
        .unwrap();
    assert_eq!(revoked.status, tollgate_domain::TokenStatus::Revoked);
    assert!(core.tokens.verify(&core.admin_token).await.is_err());
    assert!(
        core.tokens
            .revoke(&by_second, TokenHome::Instance, first)
            .await
            .is_ok(),
        "revoking a revoked token again takes nothing away"
    );
    assert!(matches!(
        core.tokens
            .revoke(&by_second, TokenHome::Instance, second.token().id())
            .await,
        Err(RevokeTokenError::LastInstanceAdmin)
    ));
}

#[tokio::test]
async fn a_token_in_its_grace_period_or_suspended_does_not_count_as_another_active_one() {
    let core = core().await;
    let first = admin_id(&core);
    let other = core
        .tokens
        .create_instance_admin(&core.admin, name("other"), None)
        .await
        .unwrap();
    core.tokens
        .suspend(&core.admin, TokenHome::Instance, other.token().id())
        .await
        .unwrap();
    assert!(matches!(
        core.tokens
            .revoke(&core.admin, TokenHome::Instance, first)
            .await,
        Err(RevokeTokenError::LastInstanceAdmin)
    ));
    // Rotating the last one leaves its replacement active: then the old one may go.
    let replacement = core
        .tokens
        .rotate(&core.admin, TokenHome::Instance, first, rotate_with(3600))
        .await
        .unwrap();
    let by_new = core.actor_of(&replacement).await;
    assert!(matches!(
        core.tokens
            .revoke(&by_new, TokenHome::Instance, replacement.token().id())
            .await,
        Err(RevokeTokenError::LastInstanceAdmin)
    ));
    core.tokens
        .revoke(&by_new, TokenHome::Instance, first)
        .await
        .unwrap();
}

#[tokio::test]
async fn instance_admin_tokens_are_listed_to_instance_admins_alone_page_by_page() {
    let core = core().await;
    let space = core.space("acme").await;
    let mut ids = vec![admin_id(&core)];
    for n in ["two", "three"] {
        let issued = core
            .tokens
            .create_instance_admin(&core.admin, name(n), None)
            .await
            .unwrap();
        ids.push(issued.token().id());
    }
    core.issue(&core.admin, space, TokenLevel::Admin).await;
    core.tokens
        .revoke(&core.admin, TokenHome::Instance, ids[1])
        .await
        .unwrap();

    let list = |statuses: StatusFilter, limit: u32, cursor| ListInstanceTokens {
        statuses,
        page: PageRequest {
            limit: PageLimit::new(limit).unwrap(),
            cursor,
        },
    };
    let active = core
        .tokens
        .list_instance_admins(&core.admin, list(StatusFilter::ACTIVE, 50, None))
        .await
        .unwrap();
    let listed: Vec<TokenId> = active.items.iter().map(|v| v.token.id()).collect();
    assert_eq!(listed, [ids[0], ids[2]], "active ones, oldest first");
    let first = core
        .tokens
        .list_instance_admins(&core.admin, list(StatusFilter::ALL, 2, None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = core
        .tokens
        .list_instance_admins(&core.admin, list(StatusFilter::ALL, 2, first.next_cursor))
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|v| v.token.id()).collect::<Vec<_>>(),
        [ids[2]]
    );
    assert_eq!(rest.next_cursor, None);

    let space_admin = core
        .actor_of(&core.issue(&core.admin, space, TokenLevel::Admin).await)
        .await;
    for actor in [space_admin, member(space, "owner", MemberRole::Owner)] {
        assert!(
            matches!(
                core.tokens
                    .list_instance_admins(&actor, ListInstanceTokens::default())
                    .await,
                Err(ListTokensError::Forbidden)
            ),
            "{actor:?}"
        );
    }
}

#[tokio::test]
async fn revoking_the_other_instance_admins_ends_each_but_the_one_kept() {
    let core = core().await;
    let leaked = admin_id(&core);
    let by_leaked = core.admin.clone();
    let twin = core
        .tokens
        .create_instance_admin(&by_leaked, name("twin"), None)
        .await
        .unwrap();
    let kept = core
        .tokens
        .create_instance_admin(&Actor::Operator, name("kept"), None)
        .await
        .unwrap();
    let others = core
        .tokens
        .other_active_instance_admins(kept.token().id())
        .await
        .unwrap();
    assert_eq!(
        others.iter().map(ApiToken::id).collect::<Vec<_>>(),
        [leaked, twin.token().id()]
    );
    let revoked = core
        .tokens
        .revoke_other_instance_admins(kept.token().id())
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(core.tokens.verify(&core.admin_token).await.is_err());
    assert!(core.tokens.verify(twin.secret().expose()).await.is_err());
    assert!(core.tokens.verify(kept.secret().expose()).await.is_ok());
    assert!(core
        .tokens
        .other_active_instance_admins(kept.token().id())
        .await
        .unwrap()
        .is_empty());
}
