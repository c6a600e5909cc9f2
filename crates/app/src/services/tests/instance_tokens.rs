//! Instance admin tokens managed through the services: created by instance-wide actors (an
//! instance admin token, or the operator at the store), and read, rotated and revoked at
//! [`TokenHome::Instance`].
use super::*;

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
