//! The contract of a space's own changes: renaming it, and deleting it with every token of it.

use futures::stream::{self, StreamExt};
use time::Duration;
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, CreatedBy, EventId, SpaceId, SpaceName, TokenId, TokenLevel,
    TokenStatus,
};
use uuid::Uuid;

use super::{ids, insert, query, revoke, Repositories};
use crate::ports::{DeleteOutcome, RenameOutcome, RotateOutcome, StatusFilter, TokenQuery};
use crate::testing::fixtures::{self, epoch, event, space, space_id, token, token_id};

/// Space event `n` of `action` on space `space` (its id `3 << 64 | n`, its time `n` seconds
/// after [`epoch`]).
fn space_event(n: u128, action: AuditAction, space: SpaceId) -> AuditEvent {
    AuditEvent::about_space(
        EventId::from_uuid(Uuid::from_u128((3 << 64) + n)),
        epoch() + Duration::seconds(i64::try_from(n).unwrap_or(0)),
        action,
        CreatedBy::System,
        space,
    )
}

fn name(text: &str) -> SpaceName {
    SpaceName::parse(text).unwrap_or_else(|e| panic!("a test name is valid: {e}"))
}

/// Every token of `space`, whatever its status, oldest first.
async fn every_token(r: &Repositories, space: u128) -> Vec<ApiToken> {
    let all = TokenQuery {
        statuses: StatusFilter::ALL,
        limit: 100_000,
        ..query(space)
    };
    ok!(r.tokens.list(&all).await)
}

/// A rename changes the name of the stored space and records `space.renamed` (naming no
/// token) once; the same name again changes nothing; an unknown space is not found.
pub async fn a_renamed_space_reads_back_renamed_with_its_event(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let renamed = space_event(1, AuditAction::SpaceRenamed, space_id(1));
    let outcome = ok!(r.spaces.rename(space_id(1), &name("acme"), &renamed).await);
    let RenameOutcome::Done {
        space: stored,
        changed: true,
    } = outcome
    else {
        panic!("the rename changed nothing: {outcome:?}");
    };
    assert_eq!(stored.name.as_str(), "acme");
    assert_eq!(ok!(r.spaces.get(space_id(1)).await), Some(stored.clone()));
    let again = space_event(2, AuditAction::SpaceRenamed, space_id(1));
    assert_eq!(
        ok!(r.spaces.rename(space_id(1), &name("acme"), &again).await),
        RenameOutcome::Done {
            space: stored,
            changed: false
        }
    );
    assert_eq!(ok!(r.events.list(space_id(1), None, 10).await), [renamed]);
    let unknown = space_event(3, AuditAction::SpaceRenamed, space_id(9));
    assert_eq!(
        ok!(r.spaces.rename(space_id(9), &name("x"), &unknown).await),
        RenameOutcome::NotFound
    );
}

/// Deleting a space marks it deleted (kept, and out of the listing), revokes every token of it
/// that was not revoked yet at the deletion's time (a revoked one keeps its first time, other
/// spaces' tokens are left alone), keeps its events and records `space.deleted` last, and is
/// final: deleting again changes nothing, and a deleted space is neither renamed nor given a
/// token, by an insert or a rotation.
pub async fn deleting_a_space_revokes_its_tokens_keeps_its_events_and_is_final(r: Repositories) {
    for n in [1, 2] {
        ok!(r.spaces.insert(&space(n)).await);
    }
    let at = epoch() + Duration::hours(1);
    let long_ago = epoch() + Duration::minutes(1);
    let admin = token(2, space_id(1), TokenLevel::Admin);
    for t in [
        token(1, space_id(1), TokenLevel::Client),
        admin,
        token(4, space_id(1), TokenLevel::Client),
    ] {
        assert!(insert(&r, &t).await);
    }
    let mut suspended = token(3, space_id(1), TokenLevel::Client);
    assert!(insert(&r, &suspended).await);
    assert!(suspended.suspend(epoch()).is_ok_and(|changed| changed));
    ok!(r
        .tokens
        .set_suspended(
            token_id(3),
            crate::ports::Suspension::Suspend,
            epoch(),
            &event(50, AuditAction::TokenSuspended, &suspended)
        )
        .await);
    assert!(revoke(&r, 4, long_ago).await.is_some());
    assert!(insert(&r, &token(5, space_id(2), TokenLevel::Client)).await);
    let before = ok!(r.events.list(space_id(1), None, 100).await);

    let deleted = space_event(10, AuditAction::SpaceDeleted, space_id(1));
    assert_eq!(
        ok!(r.spaces.delete(space_id(1), at, &deleted).await),
        DeleteOutcome::Deleted {
            revoked: [1, 2, 3].map(token_id).to_vec()
        }
    );

    let stored = ok!(r.spaces.get(space_id(1)).await).unwrap_or_else(|| panic!("kept"));
    assert_eq!(stored.deleted_at, Some(at));
    let listed: Vec<_> = ok!(r.spaces.list(None, 10).await)
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [space_id(2)]);
    let tokens = every_token(&r, 1).await;
    assert_eq!(ids(tokens.clone()), [1, 2, 3, 4].map(token_id));
    for t in &tokens {
        assert_eq!(t.status_at(at), TokenStatus::Revoked, "token {}", t.id());
        let expected = if t.id() == token_id(4) { long_ago } else { at };
        assert_eq!(t.revoked_at(), Some(expected), "token {}", t.id());
    }
    let other = every_token(&r, 2).await;
    assert!(other.iter().all(|t| t.revoked_at().is_none()));
    let events = ok!(r.events.list(space_id(1), None, 100).await);
    assert_eq!(events[0], deleted, "space.deleted is the newest event");
    assert_eq!(events[1..], before[..], "every earlier event is kept");

    let again = space_event(11, AuditAction::SpaceDeleted, space_id(1));
    assert_eq!(
        ok!(r
            .spaces
            .delete(space_id(1), at + Duration::hours(1), &again)
            .await),
        DeleteOutcome::AlreadyDeleted
    );
    assert_eq!(
        ok!(r.spaces.get(space_id(1)).await).and_then(|s| s.deleted_at),
        Some(at)
    );
    let unknown = space_event(12, AuditAction::SpaceDeleted, space_id(9));
    assert_eq!(
        ok!(r.spaces.delete(space_id(9), at, &unknown).await),
        DeleteOutcome::NotFound
    );
    let rename = space_event(13, AuditAction::SpaceRenamed, space_id(1));
    assert_eq!(
        ok!(r.spaces.rename(space_id(1), &name("back"), &rename).await),
        RenameOutcome::NotFound
    );
    assert!(!insert(&r, &token(6, space_id(1), TokenLevel::Client)).await);
    assert_eq!(ok!(r.tokens.get(token_id(6)).await), None);
    let rotation = fixtures::rotation(1, 7, at, Duration::days(1));
    assert_eq!(
        ok!(r.tokens.rotate(&rotation).await),
        RotateOutcome::NotFound
    );
    assert_eq!(ok!(r.tokens.get(token_id(7)).await), None);
    assert_eq!(
        ok!(r.events.list(space_id(1), None, 100).await).len(),
        events.len(),
        "nothing after the deletion recorded an event"
    );
}

/// The tokens of a big space are revoked by the deletion all at once: 10 000 of them.
pub async fn deleting_a_space_of_ten_thousand_tokens_revokes_every_one(r: Repositories) {
    const TOKENS: u128 = 10_000;
    ok!(r.spaces.insert(&space(1)).await);
    let inserted: Vec<bool> = stream::iter(1..=TOKENS)
        .map(|n| {
            let r = r.clone();
            async move { insert(&r, &token(n, space_id(1), TokenLevel::Client)).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(inserted.into_iter().all(|done| done));
    let at = epoch() + Duration::hours(1);
    let deleted = space_event(1, AuditAction::SpaceDeleted, space_id(1));
    let DeleteOutcome::Deleted { revoked } = ok!(r.spaces.delete(space_id(1), at, &deleted).await)
    else {
        panic!("the space was not deleted");
    };
    let expected: Vec<TokenId> = (1..=TOKENS).map(token_id).collect();
    assert_eq!(revoked, expected);
    let active = TokenQuery {
        statuses: StatusFilter::ACTIVE,
        now: at,
        ..query(1)
    };
    assert!(ok!(r.tokens.list(&active).await).is_empty());
    assert!(every_token(&r, 1)
        .await
        .iter()
        .all(|t| t.revoked_at() == Some(at)));
}

/// Inserts and rotations that race a space's deletion either land before it (and are revoked
/// by it) or find the space deleted (and store nothing): no token of a deleted space works, and
/// nothing deadlocks.
pub async fn no_token_outlives_a_deletion_it_raced(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    for n in 1..=20 {
        assert!(insert(&r, &token(n, space_id(1), TokenLevel::Client)).await);
    }
    let at = epoch() + Duration::hours(1);
    let writes = (1..=20u128).map(|n| {
        let r = r.clone();
        async move {
            if n % 2 == 0 {
                // A rotation of token n into 100 + n.
                let rotation = fixtures::rotation(n, 100 + n, epoch(), Duration::days(1));
                ok!(r.tokens.rotate(&rotation).await);
            } else {
                insert(&r, &token(200 + n, space_id(1), TokenLevel::Client)).await;
            }
        }
    });
    let deletion = {
        let r = r.clone();
        async move {
            let deleted = space_event(1, AuditAction::SpaceDeleted, space_id(1));
            ok!(r.spaces.delete(space_id(1), at, &deleted).await)
        }
    };
    let (outcome, ()) = futures::join!(deletion, async {
        futures::future::join_all(writes).await;
    });
    assert!(
        matches!(outcome, DeleteOutcome::Deleted { .. }),
        "{outcome:?}"
    );
    for t in every_token(&r, 1).await {
        assert!(
            t.revoked_at().is_some(),
            "token {} outlived its space",
            t.id()
        );
    }
}
