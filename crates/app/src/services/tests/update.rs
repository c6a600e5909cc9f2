//! Updating a token: renaming, describing, expiry within the lifetime policy, who may, what an
//! ended token answers, the cache, and the event that names the changed fields.
use tollgate_domain::{
    ChangedFields, LifetimePolicy, TokenDescription, TokenField, TokenStatus, TokenUpdate,
};

use super::*;
use crate::testing::TestCore;

fn rename(name: &str) -> TokenUpdate {
    TokenUpdate {
        name: Some(TokenName::parse(name).unwrap()),
        ..TokenUpdate::default()
    }
}

fn expiring_at(at: Option<OffsetDateTime>) -> TokenUpdate {
    TokenUpdate {
        expires_at: Some(at),
        ..TokenUpdate::default()
    }
}

async fn updated_events(core: &Core, space: SpaceId) -> Vec<ChangedFields> {
    core.tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.action == tollgate_domain::AuditAction::TokenUpdated)
        .map(|e| e.changed)
        .collect()
}

/// A core whose tokens live at most `days` days.
async fn core_with_maximum(days: u32) -> Core {
    let core = TestCore::new();
    let core = TestCore {
        tokens: core
            .tokens
            .clone()
            .with_lifetime_policy(LifetimePolicy::from_days(Some(days), None).unwrap()),
        ..core
    };
    core_over(core).await
}

#[tokio::test]
async fn a_token_is_renamed_and_described_and_listings_show_it() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    let update = TokenUpdate {
        name: Some(TokenName::parse("ci deploy").unwrap()),
        description: Some(Some(TokenDescription::parse("Deploys from CI.").unwrap())),
        expires_at: None,
    };
    let view = core
        .tokens
        .update(&core.admin, space, id, update.clone())
        .await
        .unwrap();
    assert_eq!(view.token.name().as_str(), "ci deploy");
    assert_eq!(
        view.token.description().map(TokenDescription::as_str),
        Some("Deploys from CI.")
    );
    let listed = core
        .tokens
        .list(&core.admin, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(
        listed.items[0].token.description(),
        view.token.description()
    );
    // The same update again changes nothing and records nothing.
    core.tokens
        .update(&core.admin, space, id, update)
        .await
        .unwrap();
    assert_eq!(
        updated_events(&core, space).await,
        [[TokenField::Name, TokenField::Description]
            .into_iter()
            .collect::<ChangedFields>()]
    );
    assert!(
        core.tokens.verify(issued.secret().expose()).await.is_ok(),
        "a rename changes nothing of the secret"
    );
}

#[tokio::test]
async fn a_shortened_expiry_holds_at_once_even_for_a_cached_token() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    core.tokens.verify(issued.secret().expose()).await.unwrap();
    let soon = core.clock.now() + Duration::minutes(1);
    let view = core
        .tokens
        .update(&core.admin, space, id, expiring_at(Some(soon)))
        .await
        .unwrap();
    assert_eq!(view.token.expires_at(), Some(soon));
    assert!(core.tokens.verify(issued.secret().expose()).await.is_ok());
    core.clock.advance(Duration::minutes(1));
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    assert_eq!(
        updated_events(&core, space).await,
        [ChangedFields::NONE.with(TokenField::ExpiresAt)]
    );
}

#[tokio::test]
async fn extending_stays_within_the_maximum_and_never_needs_no_maximum() {
    let core = core_with_maximum(30).await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let id = issued.token().id();
    let now = core.clock.now();
    let result = core
        .tokens
        .update(
            &core.admin,
            space,
            id,
            expiring_at(Some(now + Duration::days(31))),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(UpdateTokenError::ExpiryBeyondMaximum { max_days: 30 })
        ),
        "{result:?}"
    );
    let result = core
        .tokens
        .update(&core.admin, space, id, expiring_at(None))
        .await;
    assert!(
        matches!(
            result,
            Err(UpdateTokenError::NeverBeyondMaximum { max_days: 30 })
        ),
        "{result:?}"
    );
    let result = core
        .tokens
        .update(&core.admin, space, id, expiring_at(Some(now)))
        .await;
    assert!(
        matches!(result, Err(UpdateTokenError::ExpiryNotInFuture)),
        "{result:?}"
    );
    core.tokens
        .update(
            &core.admin,
            space,
            id,
            expiring_at(Some(now + Duration::days(2))),
        )
        .await
        .unwrap();
    core.tokens
        .update(
            &core.admin,
            space,
            id,
            expiring_at(Some(now + Duration::days(30))),
        )
        .await
        .unwrap();
    assert!(
        updated_events(&core, space).await.len() == 2,
        "two changes, two events"
    );
}

#[tokio::test]
async fn an_ended_token_answers_its_status_and_is_not_brought_back() {
    let core = core().await;
    let space = core.space("acme").await;
    let rotated = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .rotate(&core.admin, space, rotated.token().id(), rotate_with(3600))
        .await
        .unwrap();
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token().id())
        .await
        .unwrap();
    for (token, status) in [
        (&rotated, TokenStatus::Rotated),
        (&revoked, TokenStatus::Revoked),
    ] {
        let later = core.clock.now() + Duration::days(7);
        let result = core
            .tokens
            .update(
                &core.admin,
                space,
                token.token().id(),
                expiring_at(Some(later)),
            )
            .await;
        assert!(
            matches!(result, Err(UpdateTokenError::Ended(s)) if s == status),
            "{result:?}"
        );
    }
    assert!(updated_events(&core, space).await.is_empty());
}

#[tokio::test]
async fn updating_needs_what_rotating_needs() {
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
        .update(&alice, space, hers.token().id(), rename("mine"))
        .await
        .is_ok());
    // An editor cannot shorten someone else's token into a revocation.
    let soon = core.clock.now() + Duration::seconds(1);
    let result = core
        .tokens
        .update(&alice, space, owners.token().id(), expiring_at(Some(soon)))
        .await;
    assert!(
        matches!(result, Err(UpdateTokenError::Forbidden(TokenLevel::Client))),
        "{result:?}"
    );
    // A space admin token may not update an admin token: it could not create one.
    let admin_level = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_level).await;
    let result = core
        .tokens
        .update(&space_admin, space, admin_level.token().id(), rename("x"))
        .await;
    assert!(
        matches!(result, Err(UpdateTokenError::Forbidden(TokenLevel::Admin))),
        "{result:?}"
    );
    let other = core.space("other").await;
    let stranger = member(other, "s", MemberRole::Owner);
    assert!(matches!(
        core.tokens
            .update(&stranger, space, hers.token().id(), rename("x"))
            .await,
        Err(UpdateTokenError::SpaceNotFound)
    ));
}

#[tokio::test]
async fn a_store_that_fails_to_update_is_a_store_error() {
    let (token, _) = stored(None);
    let id = token.id();
    let mut tokens = store_holding(token);
    tokens.expect_update().returning(|_| Err(down()));
    let service = service(tokens, Arc::new(FakeHasher::default()), clock()).await;
    let result = service
        .update(&instance_admin(), space(), id, rename("x"))
        .await;
    assert!(
        matches!(
            result,
            Err(UpdateTokenError::Store(StoreError::Unavailable(_)))
        ),
        "{result:?}"
    );
}
