//! Lockout by a tenant (issue 18, item 2): a space admin who knows the instance admin token's
//! id cannot lock that token out with wrong secrets; the failures block the address that sent
//! them only.
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::auth_limits::{
    AuthLimits, LimitedVerifyError, DEFAULT_FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_TOKEN,
};

const ATTACKER: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 66)));
const ADMIN_HOST: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));

/// A well-formed token string with `id` and a wrong secret.
fn wrong_secret_for(kind: TokenKind, id: TokenId) -> PresentedToken {
    let string = TokenString::new(kind, id, &OsRandomSource.secret());
    PresentedToken::parse(string.expose()).unwrap()
}

#[tokio::test]
async fn ten_failures_with_an_id_from_one_address_do_not_refuse_it_from_another() {
    let hasher = Arc::new(FakeHasher::new());
    let core = core_hashing_with(hasher.clone()).await;
    let limits = AuthLimits::new(
        Some(DEFAULT_FAILURES_PER_ADDRESS),
        Some(DEFAULT_FAILURES_PER_TOKEN),
    )
    .unwrap();
    let verifier = core.tokens.verifier();
    let real = PresentedToken::parse(&core.admin_token).unwrap();
    let id = real.id();

    // The tenant sends ten wrong secrets with the instance admin token's id.
    for _ in 0..DEFAULT_FAILURES_PER_TOKEN.burst() {
        let outcome = limits
            .verify(
                verifier,
                ATTACKER,
                Ok(&wrong_secret_for(TokenKind::InstanceAdmin, id)),
            )
            .await;
        assert!(
            matches!(
                outcome,
                Err(LimitedVerifyError::Verify(VerifyTokenError::Invalid))
            ),
            "{outcome:?}"
        );
    }
    // (b) The attacker is blocked for that id, whatever secret it sends, and costs no hash.
    let hashed = hasher.checked().len();
    for presented in [wrong_secret_for(TokenKind::InstanceAdmin, id), real.clone()] {
        let outcome = limits.verify(verifier, ATTACKER, Ok(&presented)).await;
        assert!(
            matches!(outcome, Err(LimitedVerifyError::TooManyFailures { retry_after_secs }) if retry_after_secs >= 1),
            "{outcome:?}"
        );
    }
    assert_eq!(hasher.checked().len(), hashed);

    // (a) The real instance admin, from its own address, is verified: its token was never
    // cached on this node (as after a restart, or on another node).
    assert!(verifier.verify_cached(&real, Usage::From(None)).is_none());
    let verified = limits
        .verify(verifier, ADMIN_HOST, Ok(&real))
        .await
        .unwrap();
    assert_eq!(verified.token.id(), id);
    assert_eq!(hasher.checked().len(), hashed + 1);
    // So is it with no address the adapter could tell.
    let verified = limits.verify(verifier, None, Ok(&real)).await.unwrap();
    assert_eq!(verified.token.id(), id);

    // (b) The attacker stays blocked for wrong secrets.
    let outcome = limits
        .verify(
            verifier,
            ATTACKER,
            Ok(&wrong_secret_for(TokenKind::InstanceAdmin, id)),
        )
        .await;
    assert!(
        matches!(outcome, Err(LimitedVerifyError::TooManyFailures { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_attacker_s_guesses_stay_limited_by_its_address_across_ids() {
    let core = core().await;
    let limits = AuthLimits::new(
        Some(DEFAULT_FAILURES_PER_ADDRESS),
        Some(DEFAULT_FAILURES_PER_TOKEN),
    )
    .unwrap();
    let verifier = core.tokens.verifier();
    // One failure each for many ids: no pair is blocked, but the address is, at its limit.
    let mut refused_at = None;
    for n in 0..DEFAULT_FAILURES_PER_ADDRESS.burst() + 1 {
        let id = TokenId::from_uuid(uuid::Uuid::now_v7());
        let outcome = limits
            .verify(
                verifier,
                ATTACKER,
                Ok(&wrong_secret_for(TokenKind::Client, id)),
            )
            .await;
        if matches!(outcome, Err(LimitedVerifyError::TooManyFailures { .. })) {
            refused_at = Some(n);
            break;
        }
    }
    assert_eq!(refused_at, Some(DEFAULT_FAILURES_PER_ADDRESS.burst()));
    // Every other address is unaffected.
    let real = PresentedToken::parse(&core.admin_token).unwrap();
    assert!(limits.verify(verifier, ADMIN_HOST, Ok(&real)).await.is_ok());
}

#[tokio::test]
async fn space_actors_see_an_instance_admin_token_as_instance_without_its_id() {
    let core = core().await;
    let space = core.space("a").await;
    let instance_id = core.admin.as_creator();
    let space_admin = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin_actor = core.actor_of(&space_admin).await;
    let by_instance = core.issue(&core.admin, space, TokenLevel::Client).await;
    let by_space_admin = core
        .issue(&space_admin_actor, space, TokenLevel::Client)
        .await;
    core.tokens
        .revoke(&core.admin, space, by_instance.token().id())
        .await
        .unwrap();

    // Token metadata: listed and read one by one.
    let listed = core
        .tokens
        .list(
            &space_admin_actor,
            space,
            ListTokens {
                statuses: crate::ports::StatusFilter::ALL,
                ..ListTokens::default()
            },
        )
        .await
        .unwrap();
    let creator_of = |id: TokenId| {
        listed
            .items
            .iter()
            .find(|v| v.token.id() == id)
            .map(|v| v.token.created_by().clone())
    };
    assert_eq!(
        creator_of(by_instance.token().id()),
        Some(CreatedBy::UndisclosedInstance)
    );
    assert_eq!(
        creator_of(by_space_admin.token().id()),
        Some(space_admin_actor.as_creator())
    );
    let read = core
        .tokens
        .get(&space_admin_actor, space, by_instance.token().id())
        .await
        .unwrap();
    assert_eq!(read.token.created_by(), &CreatedBy::UndisclosedInstance);
    // The instance admin sees its own id.
    let read = core
        .tokens
        .get(&core.admin, space, by_instance.token().id())
        .await
        .unwrap();
    assert_eq!(read.token.created_by(), &instance_id);

    // Events: the instance admin's actions show as `instance`, the space admin's with its id.
    let events = core
        .tokens
        .list_events(&space_admin_actor, space, PageRequest::default())
        .await
        .unwrap();
    assert!(!events.items.is_empty());
    for event in &events.items {
        assert_ne!(event.actor, instance_id, "{event:?}");
        assert!(event.via_token_id.is_none());
    }
    assert!(events
        .items
        .iter()
        .any(|e| e.actor == CreatedBy::UndisclosedInstance));
    assert!(events
        .items
        .iter()
        .any(|e| e.actor == space_admin_actor.as_creator()));
    let seen_by_instance = core
        .tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap();
    assert!(seen_by_instance
        .items
        .iter()
        .any(|e| e.actor == instance_id));
}
