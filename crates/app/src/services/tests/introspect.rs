//! Introspection (RFC 7662): who may ask, what is active, and that it is the verifier's answer
//! under the brute-force limits.
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::auth_limits::{AuthFailureLimit, AuthLimits};

async fn introspect(core: &Core, caller: &Actor, presented: &str) -> Introspection {
    core.tokens
        .introspect(caller, presented, None, None)
        .await
        .unwrap()
}

fn active_id(outcome: &Introspection) -> Option<TokenId> {
    match outcome {
        Introspection::Active(verified) => Some(verified.token.id()),
        Introspection::Inactive => None,
    }
}

#[tokio::test]
async fn an_instance_admin_introspects_any_token_and_a_space_admin_those_of_its_space() {
    let core = core().await;
    let (a, b) = (core.space("a").await, core.space("b").await);
    let a_admin = core.issue(&core.admin, a, TokenLevel::Admin).await;
    let a_admin_actor = core.actor_of(&a_admin).await;
    let a_client = core.issue(&core.admin, a, TokenLevel::Client).await;
    let b_client = core.issue(&core.admin, b, TokenLevel::Client).await;
    let instance = core.admin_token.clone();

    for issued in [&a_admin, &a_client, &b_client] {
        let outcome = introspect(&core, &core.admin, issued.secret().expose()).await;
        assert_eq!(active_id(&outcome), Some(issued.token().id()));
    }
    assert!(active_id(&introspect(&core, &core.admin, &instance).await).is_some());

    for issued in [&a_admin, &a_client] {
        let outcome = introspect(&core, &a_admin_actor, issued.secret().expose()).await;
        assert_eq!(active_id(&outcome), Some(issued.token().id()));
    }
    // Another space's token and an instance token look exactly like unknown ones.
    for presented in [b_client.secret().expose(), instance.as_str()] {
        assert_eq!(
            introspect(&core, &a_admin_actor, presented).await,
            Introspection::Inactive
        );
    }
}

#[tokio::test]
async fn callers_without_read_admin_api_token_are_refused_before_anything_is_verified() {
    let core = core().await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let client_actor = core.actor_of(&client).await;
    let callers = [
        client_actor,
        member(space, "ed", MemberRole::Editor),
        member(space, "vi", MemberRole::Viewer),
    ];
    for caller in &callers {
        let refused = core
            .tokens
            .introspect(caller, client.secret().expose(), None, None)
            .await;
        assert!(
            matches!(refused, Err(IntrospectError::Forbidden)),
            "{caller:?}"
        );
    }
    for role in [MemberRole::Owner, MemberRole::Admin] {
        let outcome = introspect(&core, &member(space, "o", role), client.secret().expose()).await;
        assert_eq!(active_id(&outcome), Some(client.token().id()), "{role}");
    }
}

#[tokio::test]
async fn junk_unknown_revoked_expired_and_rotated_tokens_are_all_just_inactive() {
    let core = core().await;
    let space = core.space("a").await;
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token().id())
        .await
        .unwrap();
    let expiring = core
        .tokens
        .create(
            &core.admin,
            space,
            NewToken {
                expires_at: Some(core.tokens.now() + Duration::minutes(5)),
                ..new_token("soon", TokenLevel::Client)
            },
        )
        .await
        .unwrap();
    let rotated = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .rotate(&core.admin, space, rotated.token().id(), rotate_with(60))
        .await
        .unwrap();
    assert!(
        active_id(&introspect(&core, &core.admin, rotated.secret().expose()).await).is_some(),
        "inside its grace period"
    );
    core.clock.advance(Duration::minutes(10));
    let unknown = TokenString::new(
        TokenKind::Client,
        TokenId::from_uuid(uuid::Uuid::from_u128(999)),
        &OsRandomSource.secret(),
    );
    for presented in [
        "",
        "junk",
        unknown.expose(),
        revoked.secret().expose(),
        expiring.secret().expose(),
        rotated.secret().expose(),
    ] {
        assert_eq!(
            introspect(&core, &core.admin, presented).await,
            Introspection::Inactive,
            "{presented:.4}"
        );
    }
}

#[tokio::test]
async fn an_introspected_token_counts_as_used() {
    let core = core().await;
    let space = core.space("a").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    introspect(&core, &core.admin, issued.secret().expose()).await;
    assert_eq!(core.tokens.verifier().flush_last_used().await.unwrap(), 1);
    let view = core
        .tokens
        .get(&core.admin, space, issued.token().id())
        .await
        .unwrap();
    assert_eq!(view.token.last_used_at(), Some(core.tokens.now()));
}

#[tokio::test]
async fn failed_introspections_count_against_the_callers_address_until_it_is_refused() {
    let core = core().await;
    let limits = AuthLimits::new(AuthFailureLimit::new(1, 2), None).unwrap();
    let address = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let space = core.space("a").await;
    let good = core.issue(&core.admin, space, TokenLevel::Client).await;
    let ask = |presented: String| {
        let (tokens, admin, limits) = (core.tokens.clone(), core.admin.clone(), limits.clone());
        async move {
            tokens
                .introspect(&admin, &presented, Some(&limits), address)
                .await
        }
    };
    for _ in 0..2 {
        assert!(matches!(
            ask("junk".to_owned()).await,
            Ok(Introspection::Inactive)
        ));
    }
    // The address is now blocked: even a good token is not verified for it.
    let refused = ask(good.secret().expose().to_owned()).await;
    assert!(
        matches!(refused, Err(IntrospectError::TooManyFailures { retry_after_secs }) if retry_after_secs >= 1),
        "{refused:?}"
    );
    // Another address is not.
    let other = core
        .tokens
        .introspect(
            &core.admin,
            good.secret().expose(),
            Some(&limits),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 8))),
        )
        .await
        .unwrap();
    assert_eq!(active_id(&other), Some(good.token().id()));
}

#[tokio::test]
async fn a_store_outage_is_an_error_not_an_inactive_token() {
    let (_, string) = stored(None);
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(|_| Err(down()));
    let svc = service(tokens, Arc::new(FakeHasher::default()), clock()).await;
    let outcome = svc
        .introspect(&instance_admin(), string.expose(), None, None)
        .await;
    assert!(
        matches!(outcome, Err(IntrospectError::Store(_))),
        "{outcome:?}"
    );
}
