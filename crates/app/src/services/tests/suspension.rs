//! Suspending and resuming: a suspended token fails like a revoked one until resumed, who may
//! switch a token off, what an ended token answers, and the events.
use tollgate_domain::TokenStatus;

use super::*;
use crate::ports::StatusFilter;

async fn events(core: &Core, space: SpaceId) -> Vec<(&'static str, String)> {
    core.tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| (e.action.as_str(), e.actor.to_string()))
        .collect()
}

#[tokio::test]
async fn a_suspended_token_fails_like_a_revoked_one_until_it_is_resumed() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    // Cached on this node first: suspension must drop the entry, not wait for its TTL.
    core.tokens.verify(issued.secret().expose()).await.unwrap();

    let suspended = core.tokens.suspend(&core.admin, space, id).await.unwrap();
    assert_eq!(suspended.status, TokenStatus::Suspended);
    assert_eq!(suspended.token.suspended_at(), Some(core.clock.now()));
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    let read = core.tokens.get(&core.admin, space, id).await.unwrap();
    assert_eq!(read.status, TokenStatus::Suspended);
    let listed = |statuses: StatusFilter| {
        let tokens = &core.tokens;
        let admin = &core.admin;
        async move {
            tokens
                .list(
                    admin,
                    space,
                    ListTokens {
                        statuses,
                        ..ListTokens::default()
                    },
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|v| v.token.id())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(StatusFilter::ACTIVE).await, []);
    assert_eq!(
        listed(StatusFilter::of(&[TokenStatus::Suspended])).await,
        [id]
    );

    let resumed = core.tokens.resume(&core.admin, space, id).await.unwrap();
    assert_eq!(resumed.status, TokenStatus::Active);
    assert_eq!(resumed.token.suspended_at(), None);
    assert!(core.tokens.verify(issued.secret().expose()).await.is_ok());
    assert_eq!(listed(StatusFilter::ACTIVE).await, [id]);
}

#[tokio::test]
async fn suspending_twice_or_resuming_an_active_token_changes_nothing_and_logs_nothing() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    let resumed = core.tokens.resume(&core.admin, space, id).await.unwrap();
    assert_eq!(resumed.status, TokenStatus::Active);
    let first = core.tokens.suspend(&core.admin, space, id).await.unwrap();
    core.clock.advance(Duration::minutes(5));
    let again = core.tokens.suspend(&core.admin, space, id).await.unwrap();
    assert_eq!(again.token.suspended_at(), first.token.suspended_at());
    core.tokens.resume(&core.admin, space, id).await.unwrap();
    let admin = core.admin.as_creator().to_string();
    assert_eq!(
        events(&core, space).await,
        [
            ("token.resumed", admin.clone()),
            ("token.suspended", admin.clone()),
            ("token.created", admin),
        ]
    );
}

#[tokio::test]
async fn an_ended_token_is_neither_suspended_nor_resumed() {
    let core = core().await;
    let space = core.space("acme").await;
    let rotated = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .rotate(&core.admin, space, rotated.token().id(), rotate_with(600))
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
        (&rotated, TokenStatus::Rotated),
        (&revoked, TokenStatus::Revoked),
        (&expired, TokenStatus::Expired),
    ] {
        let id = token.token().id();
        let suspended = core.tokens.suspend(&core.admin, space, id).await;
        assert!(
            matches!(suspended, Err(SuspendTokenError::Ended(s)) if s == status),
            "{suspended:?}"
        );
        let resumed = core.tokens.resume(&core.admin, space, id).await;
        assert!(
            matches!(resumed, Err(ResumeTokenError::Ended(s)) if s == status),
            "{resumed:?}"
        );
    }
    assert!(
        !events(&core, space)
            .await
            .iter()
            .any(|(action, _)| action.starts_with("token.suspended")
                || action.starts_with("token.resumed")),
        "nothing was recorded"
    );
}

#[tokio::test]
async fn a_suspended_token_cannot_be_rotated_until_resumed() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    core.tokens.suspend(&core.admin, space, id).await.unwrap();
    let result = core
        .tokens
        .rotate(&core.admin, space, id, RotateToken::default())
        .await;
    assert!(
        matches!(
            result,
            Err(RotateTokenError::NotActive(TokenStatus::Suspended))
        ),
        "{result:?}"
    );
    core.tokens.resume(&core.admin, space, id).await.unwrap();
    assert!(core
        .tokens
        .rotate(&core.admin, space, id, RotateToken::default())
        .await
        .is_ok());
}

#[tokio::test]
async fn suspending_needs_the_right_to_revoke_that_token() {
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
    let admin_level = core.issue(&core.admin, space, TokenLevel::Admin).await;
    assert!(core
        .tokens
        .suspend(&alice, space, hers.token().id())
        .await
        .is_ok());
    assert!(core
        .tokens
        .resume(&alice, space, hers.token().id())
        .await
        .is_ok());
    assert!(matches!(
        core.tokens
            .suspend(&alice, space, owners.token().id())
            .await,
        Err(SuspendTokenError::Forbidden)
    ));
    assert!(matches!(
        core.tokens.resume(&alice, space, owners.token().id()).await,
        Err(ResumeTokenError::Forbidden)
    ));
    let viewer = member(space, "v", MemberRole::Viewer);
    assert!(matches!(
        core.tokens.suspend(&viewer, space, hers.token().id()).await,
        Err(SuspendTokenError::Forbidden)
    ));
    // A client token never learns that an admin token exists.
    let client = core.actor_of(&hers).await;
    assert!(matches!(
        core.tokens
            .suspend(&client, space, admin_level.token().id())
            .await,
        Err(SuspendTokenError::NotFound)
    ));
    let other = core.space("other").await;
    let stranger = member(other, "s", MemberRole::Owner);
    assert!(matches!(
        core.tokens
            .suspend(&stranger, space, hers.token().id())
            .await,
        Err(SuspendTokenError::SpaceNotFound)
    ));
    assert!(
        core.tokens.verify(owners.secret().expose()).await.is_ok(),
        "the owner's token is untouched"
    );
}

#[tokio::test]
async fn a_store_that_fails_to_suspend_is_a_store_error_and_the_token_is_unchanged() {
    let (token, _) = stored(None);
    let id = token.id();
    let mut tokens = store_holding(token);
    tokens
        .expect_set_suspended()
        .returning(|_, _, _, _| Err(down()));
    let service = service(tokens, Arc::new(FakeHasher::default()), clock()).await;
    let result = service.suspend(&instance_admin(), space(), id).await;
    assert!(
        matches!(
            result,
            Err(SuspendTokenError::Store(StoreError::Unavailable(_)))
        ),
        "{result:?}"
    );
}
