//! Rotation, lifetimes, last used and the audit log.
use super::*;

#[tokio::test]
async fn rotation_issues_a_twin_and_the_old_token_works_until_the_grace_period_ends() {
    let core = core().await;
    let space = core.space("acme").await;
    let old = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(old.secret().expose()).await.unwrap();
    let new = core
        .tokens
        .rotate(&core.admin, space, old.token().id(), rotate_with(3600))
        .await
        .unwrap();
    assert_ne!(new.token().id(), old.token().id());
    assert_eq!(
        (
            new.token().name().clone(),
            new.token().level(),
            new.token().space_id()
        ),
        (
            old.token().name().clone(),
            old.token().level(),
            old.token().space_id()
        )
    );
    assert_eq!(new.token().replaces(), Some(old.token().id()));
    assert!(core.tokens.verify(new.secret().expose()).await.is_ok());
    assert!(
        core.tokens.verify(old.secret().expose()).await.is_ok(),
        "inside the grace period"
    );
    let stored = core
        .tokens
        .get(&core.admin, space, old.token().id())
        .await
        .unwrap();
    assert_eq!(stored.status, tollgate_domain::TokenStatus::Rotated);
    assert_eq!(stored.token.replaced_by(), Some(new.token().id()));
    core.clock.advance(Duration::hours(1));
    assert!(matches!(
        core.tokens.verify(old.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    assert!(core.tokens.verify(new.secret().expose()).await.is_ok());
}

#[tokio::test]
async fn rotation_without_grace_ends_the_old_token_at_once_even_when_cached() {
    let core = core().await;
    let space = core.space("acme").await;
    let old = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(old.secret().expose()).await.unwrap();
    core.tokens
        .rotate(&core.admin, space, old.token().id(), RotateToken::default())
        .await
        .unwrap();
    assert!(matches!(
        core.tokens.verify(old.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn only_active_tokens_rotate() {
    let core = core().await;
    let space = core.space("acme").await;
    let rotated = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .rotate(&core.admin, space, rotated.token().id(), rotate_with(60))
        .await
        .unwrap();
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token().id())
        .await
        .unwrap();
    let expiring = NewToken {
        expires_at: Some(core.clock.now() + Duration::minutes(1)),
        ..new_token("x", TokenLevel::Client)
    };
    let expired = core
        .tokens
        .create(&core.admin, space, expiring)
        .await
        .unwrap();
    core.clock.advance(Duration::minutes(1));
    for (token, status) in [
        (&rotated, tollgate_domain::TokenStatus::Rotated),
        (&revoked, tollgate_domain::TokenStatus::Revoked),
        (&expired, tollgate_domain::TokenStatus::Expired),
    ] {
        let result = core
            .tokens
            .rotate(
                &core.admin,
                space,
                token.token().id(),
                RotateToken::default(),
            )
            .await;
        assert!(
            matches!(result, Err(RotateTokenError::NotActive(s)) if s == status),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn rotating_needs_the_permission_to_create_that_level() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    assert!(core
        .tokens
        .rotate(
            &space_admin,
            space,
            client.token().id(),
            RotateToken::default()
        )
        .await
        .is_ok());
    let result = core
        .tokens
        .rotate(
            &space_admin,
            space,
            admin_token.token().id(),
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Admin))),
        "{result:?}"
    );
    let viewer = member(space, "v", MemberRole::Viewer);
    let other_client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let result = core
        .tokens
        .rotate(
            &viewer,
            space,
            other_client.token().id(),
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Client))),
        "{result:?}"
    );
    let client_actor = core.actor_of(&other_client).await;
    let result = core
        .tokens
        .rotate(
            &client_actor,
            space,
            admin_token.token().id(),
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::NotFound)),
        "an admin token it cannot see: {result:?}"
    );
}

#[tokio::test]
async fn the_lifetime_policy_sets_and_bounds_expiry() {
    let core = core().await;
    let space = core.space("acme").await;
    let policy = tollgate_domain::LifetimePolicy::from_days(Some(30), Some(7)).unwrap();
    let tokens = core.tokens.clone().with_lifetime_policy(policy);
    let defaulted = tokens
        .create(&core.admin, space, new_token("d", TokenLevel::Client))
        .await
        .unwrap();
    assert_eq!(
        defaulted.token().expires_at(),
        Some(core.clock.now() + Duration::days(7))
    );
    let far = NewToken {
        expires_at: Some(core.clock.now() + Duration::days(31)),
        ..new_token("f", TokenLevel::Client)
    };
    let refused = tokens.create(&core.admin, space, far).await;
    assert!(
        matches!(
            refused,
            Err(CreateTokenError::ExpiryBeyondMaximum { max_days: 30 })
        ),
        "{refused:?}"
    );
    // A rotated token keeps its lifetime length, counted from the rotation.
    core.clock.advance(Duration::days(2));
    let rotated = tokens
        .rotate(
            &core.admin,
            space,
            defaulted.token().id(),
            RotateToken::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        rotated.token().expires_at(),
        Some(core.clock.now() + Duration::days(7))
    );
}

#[tokio::test]
async fn many_verifications_of_one_token_within_an_interval_cause_one_write() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let id = token.id();
    let mut tokens = store_holding(token);
    tokens
        .expect_record_uses()
        .times(1)
        .withf(move |uses| uses.len() == 1 && uses[0].id == id)
        .returning(|_| Ok(()));
    let clock = Arc::new(ManualClock::default());
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock.clone()).await;
    for _ in 0..500 {
        svc.verify(string.expose()).await.unwrap();
        clock.advance(Duration::milliseconds(10));
    }
    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 1);
    assert_eq!(
        svc.verifier().flush_last_used().await.unwrap(),
        0,
        "nothing new: no second write"
    );
}

#[tokio::test]
async fn last_used_reaches_the_store_with_the_latest_use() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(issued.secret().expose()).await.unwrap();
    core.clock.advance(Duration::seconds(30));
    let last = core.clock.now();
    core.tokens.verify(issued.secret().expose()).await.unwrap();
    core.tokens.verifier().flush_last_used().await.unwrap();
    let read = core
        .tokens
        .get(&core.admin, space, issued.token().id())
        .await
        .unwrap();
    assert_eq!(read.token.last_used_at(), Some(last));
}

#[tokio::test]
async fn a_failed_flush_keeps_the_uses_for_the_next_one() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let mut tokens = store_holding(token);
    let mut calls = 0;
    tokens.expect_record_uses().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 {
            Err(down())
        } else {
            Ok(())
        }
    });
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock()).await;
    svc.verify(string.expose()).await.unwrap();
    assert!(svc.verifier().flush_last_used().await.is_err());
    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 1);
}

#[tokio::test]
async fn creations_rotations_revocations_and_rejected_uses_are_audited_without_secrets() {
    let core = core().await;
    let space = core.space("acme").await;
    let editor = member(space, "user-7", MemberRole::Editor);
    let first = core.issue(&editor, space, TokenLevel::Client).await;
    let second = core
        .tokens
        .rotate(
            &core.admin,
            space,
            first.token().id(),
            RotateToken::default(),
        )
        .await
        .unwrap();
    core.tokens
        .revoke(&core.admin, space, second.token().id())
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(core.tokens.verify(second.secret().expose()).await.is_err());
    }
    let page = core
        .tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap();
    let actions: Vec<_> = page
        .items
        .iter()
        .map(|e| (e.action.as_str(), e.token_id.unwrap(), e.actor.to_string()))
        .collect();
    let admin = format!("{}", core.admin.as_creator());
    assert_eq!(
        actions,
        vec![
            (
                "token.rejected",
                second.token().id(),
                format!("token:{}", second.token().id())
            ),
            ("token.revoked", second.token().id(), admin.clone()),
            // One event per rotation, about the replaced token; the new token names it in
            // `replaces`.
            ("token.rotated", first.token().id(), admin),
            (
                "token.created",
                first.token().id(),
                "user:user-7".to_owned()
            ),
        ],
        "newest first, one rejection event for five rejected uses"
    );
    let debug = format!("{page:?}");
    for secret in [first.secret().expose(), second.secret().expose()] {
        assert!(!debug.contains(&secret[26..69]));
    }
    let viewer = member(space, "v", MemberRole::Viewer);
    assert!(matches!(
        core.tokens
            .list_events(&viewer, space, PageRequest::default())
            .await,
        Err(ListEventsError::Forbidden)
    ));
    let other = core.space("other").await;
    let stranger = member(other, "s", MemberRole::Owner);
    assert!(matches!(
        core.tokens
            .list_events(&stranger, space, PageRequest::default())
            .await,
        Err(ListEventsError::SpaceNotFound)
    ));
}

#[tokio::test]
async fn an_editor_rotates_only_the_client_tokens_it_could_revoke() {
    let core = core().await;
    let space = core.space("acme").await;
    let alice = member(space, "alice", MemberRole::Editor);
    let hers = core.issue(&alice, space, TokenLevel::Client).await;
    let owners = core
        .issue(
            &member(space, "olga", MemberRole::Owner),
            space,
            TokenLevel::Client,
        )
        .await;
    assert!(core
        .tokens
        .rotate(&alice, space, hers.token().id(), RotateToken::default())
        .await
        .is_ok());
    let result = core
        .tokens
        .rotate(&alice, space, owners.token().id(), RotateToken::default())
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Client))),
        "{result:?}"
    );
    assert!(
        core.tokens.verify(owners.secret().expose()).await.is_ok(),
        "the owner's token is untouched"
    );
}
