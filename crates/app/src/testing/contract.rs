//! The repository contract: the behaviour every [`SpaceRepository`], [`TokenRepository`] and
//! [`AuditRepository`] must have, written once. Each case takes a fresh, empty set of
//! repositories over one store.
//!
//! An adapter crate runs the whole suite with one line in a test file:
//!
//! ```ignore
//! async fn fresh() -> tollgate_app::testing::contract::Repositories { /* empty store */ }
//! tollgate_app::repository_contract_tests!(fresh);
//! ```
//!
//! which expands to one `#[tokio::test]` per case (the caller needs tokio as a dev-dependency).

use std::sync::Arc;

use time::Duration;
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, ChangedFields, CreatedBy, EventId, GracePeriod,
    LifetimeError, LifetimePolicy, NewApiToken, SecretHash, TokenDescription, TokenField, TokenId,
    TokenLevel, TokenName, TokenRecord, TokenScope, TokenStatus, TokenUpdate, UpdateRefused,
    UserId,
};
use uuid::Uuid;

use super::fixtures::{
    self, edited, epoch, event, instance_token, new_token, space, space_id, token, token_id,
};
use crate::ports::{
    AuditRepository, ListOrder, Rehash, RotateOutcome, Rotation, SpaceRepository, StatusFilter,
    SuspendOutcome, Suspension, TokenQuery, TokenRepository, TokenUse, Update, UpdateOutcome,
};

/// A fresh, empty set of repositories over one store.
#[derive(Clone)]
pub struct Repositories {
    /// The spaces.
    pub spaces: Arc<dyn SpaceRepository>,
    /// The tokens (recording their events in `events`' store).
    pub tokens: Arc<dyn TokenRepository>,
    /// The audit events.
    pub events: Arc<dyn AuditRepository>,
}

impl std::fmt::Debug for Repositories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repositories")
    }
}

macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => panic!("{} failed: {e:?}", stringify!($e)),
        }
    };
}

mod instance_admins;

pub use instance_admins::{
    concurrent_revocations_of_the_last_two_instance_admins_leave_one,
    instance_admins_are_every_instance_token_in_id_order,
    the_last_active_instance_admin_is_never_revoked,
};
mod search;
mod spaces;
pub use search::*;
pub use spaces::*;

fn query(space: u128) -> TokenQuery {
    TokenQuery {
        space_id: space_id(space),
        level: None,
        statuses: StatusFilter::ACTIVE,
        now: epoch(),
        name: None,
        after: None,
        limit: 100,
        order: ListOrder::OldestFirst,
    }
}

async fn insert(r: &Repositories, t: &ApiToken) -> bool {
    ok!(fixtures::insert(r.tokens.as_ref(), t).await)
}

async fn revoke(r: &Repositories, id: u128, at: time::OffsetDateTime) -> Option<ApiToken> {
    ok!(fixtures::revoke(r.tokens.as_ref(), token_id(id), space_id(1), at).await)
}

/// A client token `n` of space 1 that expires at `at`.
fn expiring(n: u128, at: time::OffsetDateTime) -> ApiToken {
    ApiToken::issue(NewApiToken {
        expires_at: Some(at),
        ..new_token(n, space_id(1), TokenLevel::Client)
    })
}

fn ids(tokens: Vec<ApiToken>) -> Vec<TokenId> {
    tokens.into_iter().map(|t| t.id()).collect()
}

/// A stored space reads back equal; an unknown id reads as `None`.
pub async fn space_reads_back_as_stored(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert_eq!(ok!(r.spaces.get(space_id(1)).await), Some(space(1)));
    assert_eq!(ok!(r.spaces.get(space_id(2)).await), None);
}

/// Inserting a space id twice fails and keeps the first.
pub async fn space_ids_are_unique(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let mut twin = space(2);
    twin.id = space_id(1);
    assert!(r.spaces.insert(&twin).await.is_err());
    assert_eq!(ok!(r.spaces.get(space_id(1)).await), Some(space(1)));
}

/// Spaces list in ascending id order, from after a cursor, up to a limit.
pub async fn spaces_list_in_id_order_after_a_cursor(r: Repositories) {
    for n in [3, 1, 2, 5, 4] {
        ok!(r.spaces.insert(&space(n)).await);
    }
    let ids = |v: Vec<tollgate_domain::Space>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok!(r.spaces.list(None, 10).await)),
        [1, 2, 3, 4, 5].map(space_id)
    );
    assert_eq!(ids(ok!(r.spaces.list(None, 2).await)), [1, 2].map(space_id));
    assert_eq!(
        ids(ok!(r.spaces.list(Some(space_id(2)), 2).await)),
        [3, 4].map(space_id)
    );
    assert!(ok!(r.spaces.list(Some(space_id(5)), 2).await).is_empty());
}

/// A stored token reads back with every field equal, whatever its creator and dates.
pub async fn token_reads_back_with_every_field(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let mut full = ApiToken::issue(NewApiToken {
        created_by: CreatedBy::Member(UserId::parse("user-42").unwrap_or_else(|_| unreachable!())),
        expires_at: Some(epoch() + Duration::days(30)),
        ..new_token(7, space_id(1), TokenLevel::Admin)
    });
    full.record_use(epoch() + Duration::hours(1), Some(ip("2001:db8::42")));
    let by_token = ApiToken::issue(NewApiToken {
        created_by: CreatedBy::Token(token_id(7)),
        replaces: Some(token_id(7)),
        ..new_token(8, space_id(1), TokenLevel::Client)
    });
    let instance = instance_token(9);
    let suspended = edited(&token(11, space_id(1), TokenLevel::Client), |t| {
        t.suspended_at = Some(epoch() + Duration::minutes(3));
        t.description = TokenDescription::parse("a token with a description and ünïcödé").ok();
    });
    for t in [&full, &by_token, &instance, &suspended] {
        assert!(insert(&r, t).await);
        assert_eq!(ok!(r.tokens.get(t.id()).await).as_ref(), Some(t));
    }
    assert_eq!(ok!(r.tokens.get(token_id(10)).await), None);
}

/// Inserting a token id twice returns `false` and changes nothing, not even the audit log.
pub async fn inserting_a_token_id_twice_changes_nothing(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let first = token(1, space_id(1), TokenLevel::Client);
    assert!(insert(&r, &first).await);
    let twin = token(1, space_id(1), TokenLevel::Admin);
    let twin_event = event(999, AuditAction::TokenCreated, &twin);
    assert!(!ok!(r.tokens.insert(&twin, &twin_event).await));
    assert_eq!(ok!(r.tokens.get(token_id(1)).await), Some(first));
    let logged = ok!(r.events.list(space_id(1), None, 10).await);
    assert_eq!(logged.len(), 1, "{logged:?}");
}

/// Lists hold only the space's tokens, of the asked level and statuses.
pub async fn token_list_filters_by_space_level_and_status(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    let expired = expiring(6, epoch());
    let later = expiring(7, epoch() + Duration::seconds(1));
    let mut rotated = token(8, space_id(1), TokenLevel::Client);
    let day = GracePeriod::from_seconds(86_400).unwrap_or_else(|_| unreachable!());
    ok!(rotated.rotate(token_id(1), epoch(), day));
    for t in [
        token(1, space_id(1), TokenLevel::Client),
        token(2, space_id(1), TokenLevel::Admin),
        token(3, space_id(2), TokenLevel::Client),
        token(4, space_id(1), TokenLevel::Client),
        instance_token(5),
        expired,
        later,
        rotated,
    ] {
        assert!(insert(&r, &t).await);
    }
    revoke(&r, 4, epoch()).await;
    let list = |q: TokenQuery| {
        let r = r.clone();
        async move { ids(ok!(r.tokens.list(&q).await)) }
    };
    assert_eq!(list(query(1)).await, [1, 2, 7].map(token_id));
    assert_eq!(
        list(TokenQuery {
            level: Some(TokenLevel::Client),
            ..query(1)
        })
        .await,
        [1, 7].map(token_id)
    );
    assert_eq!(
        list(TokenQuery {
            level: Some(TokenLevel::Admin),
            ..query(1)
        })
        .await,
        [2].map(token_id)
    );
    let only = |s: &[TokenStatus]| TokenQuery {
        statuses: StatusFilter::of(s),
        ..query(1)
    };
    assert_eq!(list(only(&[TokenStatus::Revoked])).await, [4].map(token_id));
    assert_eq!(list(only(&[TokenStatus::Expired])).await, [6].map(token_id));
    assert_eq!(list(only(&[TokenStatus::Rotated])).await, [8].map(token_id));
    assert_eq!(
        list(TokenQuery {
            statuses: StatusFilter::ALL,
            ..query(1)
        })
        .await,
        [1, 2, 4, 6, 7, 8].map(token_id)
    );
    // A second later, token 7 has expired too.
    let later_query = TokenQuery {
        now: epoch() + Duration::seconds(1),
        ..query(1)
    };
    assert_eq!(list(later_query).await, [1, 2].map(token_id));
    assert_eq!(list(query(2)).await, [3].map(token_id));
    assert!(list(query(3)).await.is_empty());
}

/// Token lists page by ascending id.
pub async fn token_list_pages_by_ascending_id(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    for n in [5, 3, 1, 4, 2] {
        assert!(insert(&r, &token(n, space_id(1), TokenLevel::Client)).await);
    }
    let first = TokenQuery {
        limit: 2,
        ..query(1)
    };
    assert_eq!(ids(ok!(r.tokens.list(&first).await)), [1, 2].map(token_id));
    let second = TokenQuery {
        after: Some(token_id(2)),
        ..first.clone()
    };
    assert_eq!(ids(ok!(r.tokens.list(&second).await)), [3, 4].map(token_id));
    let last = TokenQuery {
        after: Some(token_id(4)),
        ..first
    };
    assert_eq!(ids(ok!(r.tokens.list(&last).await)), [5].map(token_id));
}

/// Every id `query` lists, read in pages of `limit` from the start to an empty page, each
/// page continuing past the last id of the one before.
async fn page_through(r: &Repositories, query: TokenQuery, limit: usize) -> Vec<TokenId> {
    let mut listed = Vec::new();
    loop {
        let page = ids(ok!(r
            .tokens
            .list(&TokenQuery {
                after: listed.last().copied(),
                limit,
                ..query.clone()
            })
            .await));
        assert!(page.len() <= limit, "{page:?} is over {limit}");
        if page.is_empty() {
            return listed;
        }
        listed.extend(page);
    }
}

/// Newest first, a space's tokens list in descending id order, the cursor continuing below
/// it; paged through with any filters and page size, that is exactly the reverse of paging
/// oldest first.
pub async fn token_list_pages_newest_first_as_the_reverse_of_oldest_first(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    // Space 1's tokens in every state (ids 1 to 14) and more (20 to 25), with tokens of
    // another space and an instance token between them in id order.
    let mut tokens = tokens_in_every_state();
    tokens.extend((20..26).map(|n| token(n, space_id(1), TokenLevel::Client)));
    tokens.extend([
        token(16, space_id(2), TokenLevel::Client),
        token(22_000, space_id(2), TokenLevel::Admin),
        instance_token(15),
    ]);
    for t in &tokens {
        assert!(insert(&r, t).await);
    }
    let newest = |q: TokenQuery| TokenQuery {
        order: ListOrder::NewestFirst,
        ..q
    };
    let all = TokenQuery {
        statuses: StatusFilter::ALL,
        ..query(1)
    };
    assert_eq!(
        ids(ok!(r
            .tokens
            .list(&TokenQuery {
                after: Some(token_id(5)),
                ..newest(all.clone())
            })
            .await)),
        [4, 3, 2, 1].map(token_id),
        "the ids below the cursor, highest first"
    );
    assert_eq!(
        ids(ok!(r
            .tokens
            .list(&TokenQuery {
                limit: 3,
                ..newest(all.clone())
            })
            .await)),
        [25, 24, 23].map(token_id),
        "the newest page"
    );

    let filters = [
        all.clone(),
        query(1),
        TokenQuery {
            level: Some(TokenLevel::Client),
            ..all.clone()
        },
        TokenQuery {
            level: Some(TokenLevel::Admin),
            statuses: StatusFilter::of(&[TokenStatus::Revoked, TokenStatus::Rotated]),
            ..all.clone()
        },
        TokenQuery {
            statuses: StatusFilter::of(&[TokenStatus::Expired]),
            ..all
        },
        TokenQuery {
            now: epoch() + Duration::days(2),
            ..query(1)
        },
        query(2),
    ];
    for filter in filters {
        let whole = ids(ok!(r.tokens.list(&filter).await));
        assert!(!whole.is_empty(), "{filter:?} lists something");
        for limit in [1, 2, 3, 100] {
            let oldest_first = page_through(&r, filter.clone(), limit).await;
            assert_eq!(
                oldest_first, whole,
                "oldest first in pages of {limit}: {filter:?}"
            );
            let mut newest_first = page_through(&r, newest(filter.clone()), limit).await;
            newest_first.reverse();
            assert_eq!(
                newest_first, whole,
                "newest first in pages of {limit}: {filter:?}"
            );
        }
    }
}

/// Revoking sets `revoked_at` once and records one event; a second revocation keeps the first
/// time and records nothing; an unknown id gives `None`.
pub async fn revocation_keeps_the_first_time_and_logs_once(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(insert(&r, &token(1, space_id(1), TokenLevel::Client)).await);
    let first = revoke(&r, 1, epoch() + Duration::minutes(1)).await;
    assert_eq!(
        first.and_then(|t| t.revoked_at()),
        Some(epoch() + Duration::minutes(1))
    );
    let target = token(1, space_id(1), TokenLevel::Client);
    let again_event = event(
        fixtures::event_number(target.id(), 2),
        AuditAction::TokenRevoked,
        &target,
    );
    let again = ok!(r
        .tokens
        .revoke(token_id(1), epoch() + Duration::minutes(2), &again_event)
        .await);
    assert_eq!(
        again.and_then(|t| t.revoked_at()),
        Some(epoch() + Duration::minutes(1))
    );
    let stored = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(
        stored.and_then(|t| t.revoked_at()),
        Some(epoch() + Duration::minutes(1))
    );
    assert_eq!(revoke(&r, 2, epoch()).await, None);
    let actions: Vec<AuditAction> = ok!(r.events.list(space_id(1), None, 10).await)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [AuditAction::TokenRevoked, AuditAction::TokenCreated]
    );
}

/// Suspending sets `suspended_at` once and resuming clears it, each recording its event only
/// when it changed the token; an ended token answers its status and changes nothing; an
/// unknown id is `NotFound`.
pub async fn suspension_and_resumption_change_the_token_once_each(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let target = token(1, space_id(1), TokenLevel::Client);
    assert!(insert(&r, &target).await);
    let step = |n: u128, action: AuditAction| AuditEvent {
        at: epoch() + Duration::minutes(i64::try_from(n).unwrap_or(0)),
        ..event(fixtures::event_number(target.id(), 1 + n), action, &target)
    };
    let apply = |suspension: Suspension, n: u128| {
        let r = r.clone();
        let event = step(
            n,
            match suspension {
                Suspension::Suspend => AuditAction::TokenSuspended,
                Suspension::Resume => AuditAction::TokenResumed,
            },
        );
        async move {
            ok!(r
                .tokens
                .set_suspended(token_id(1), suspension, event.at, &event)
                .await)
        }
    };
    let done = |outcome: SuspendOutcome| match outcome {
        SuspendOutcome::Done { token, changed } => (token.suspended_at(), changed),
        other => panic!("expected Done, got {other:?}"),
    };
    let first = epoch() + Duration::minutes(1);
    assert_eq!(
        done(apply(Suspension::Suspend, 1).await),
        (Some(first), true)
    );
    assert_eq!(
        done(apply(Suspension::Suspend, 2).await),
        (Some(first), false),
        "the first suspension time is kept"
    );
    let stored = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(
        stored.as_ref().and_then(ApiToken::suspended_at),
        Some(first)
    );
    assert_eq!(
        stored.map(|t| t.status_at(epoch() + Duration::minutes(2))),
        Some(TokenStatus::Suspended)
    );
    assert_eq!(done(apply(Suspension::Resume, 3).await), (None, true));
    assert_eq!(done(apply(Suspension::Resume, 4).await), (None, false));
    assert_eq!(
        ok!(r.tokens.get(token_id(1)).await).and_then(|t| t.suspended_at()),
        None
    );
    let revocation = step(5, AuditAction::TokenRevoked);
    assert!(ok!(r
        .tokens
        .revoke(token_id(1), revocation.at, &revocation)
        .await)
    .is_some());
    for (suspension, n) in [(Suspension::Suspend, 6), (Suspension::Resume, 7)] {
        assert_eq!(
            apply(suspension, n).await,
            SuspendOutcome::Ended(TokenStatus::Revoked)
        );
    }
    let unknown = step(8, AuditAction::TokenSuspended);
    assert_eq!(
        ok!(r
            .tokens
            .set_suspended(token_id(2), Suspension::Suspend, unknown.at, &unknown)
            .await),
        SuspendOutcome::NotFound
    );
    let actions: Vec<AuditAction> = ok!(r.events.list(space_id(1), None, 10).await)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::TokenRevoked,
            AuditAction::TokenResumed,
            AuditAction::TokenSuspended,
            AuditAction::TokenCreated
        ]
    );
}

/// An update writes the name, description and expiry the domain gave the stored token and
/// records its event with the fields that changed; an update that changes nothing writes
/// nothing; a refused one changes nothing; an unknown id is `NotFound`.
pub async fn an_update_writes_what_changed_and_records_which_fields(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let target = expiring(1, epoch() + Duration::days(10));
    assert!(insert(&r, &target).await);
    let update = |n: u128, changes: TokenUpdate, policy: LifetimePolicy| Update {
        id: token_id(1),
        changes,
        policy,
        now: epoch(),
        event: event(
            fixtures::event_number(target.id(), 1 + n),
            AuditAction::TokenUpdated,
            &target,
        ),
    };
    let changes = TokenUpdate {
        name: TokenName::parse("renamed").ok(),
        description: Some(TokenDescription::parse("what it is for").ok()),
        expires_at: Some(Some(epoch() + Duration::days(2))),
    };
    let done = ok!(r
        .tokens
        .update(&update(1, changes.clone(), LifetimePolicy::UNLIMITED))
        .await);
    let every: ChangedFields = TokenField::ALL.into_iter().collect();
    let UpdateOutcome::Done { token, changed } = done else {
        panic!("expected Done, got {done:?}");
    };
    assert_eq!(changed, every);
    assert_eq!(token.name().as_str(), "renamed");
    let stored = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(stored.as_ref(), Some(&*token), "read back as written");
    assert_eq!(
        stored
            .as_ref()
            .and_then(|t| t.description().map(|d| d.as_str().to_owned())),
        Some("what it is for".to_owned())
    );
    assert_eq!(
        stored.and_then(|t| t.expires_at()),
        Some(epoch() + Duration::days(2))
    );
    // The same again: nothing to write, no event.
    let again = ok!(r
        .tokens
        .update(&update(2, changes, LifetimePolicy::UNLIMITED))
        .await);
    assert!(
        matches!(&again, UpdateOutcome::Done { changed, .. } if changed.is_empty()),
        "{again:?}"
    );
    // Extending past a maximum is refused on the token as stored.
    let policy = LifetimePolicy::from_days(Some(1), None).unwrap_or_else(|_| unreachable!());
    let extend = TokenUpdate {
        expires_at: Some(Some(epoch() + Duration::days(3))),
        ..TokenUpdate::default()
    };
    assert_eq!(
        ok!(r.tokens.update(&update(3, extend, policy)).await),
        UpdateOutcome::Refused(UpdateRefused::Expiry(LifetimeError::BeyondMaximum {
            max_days: 1
        }))
    );
    let revocation = AuditEvent {
        at: epoch(),
        ..event(
            fixtures::event_number(target.id(), 5),
            AuditAction::TokenRevoked,
            &target,
        )
    };
    assert!(ok!(r.tokens.revoke(token_id(1), epoch(), &revocation).await).is_some());
    let rename = TokenUpdate {
        name: TokenName::parse("again").ok(),
        ..TokenUpdate::default()
    };
    assert_eq!(
        ok!(r
            .tokens
            .update(&update(6, rename.clone(), LifetimePolicy::UNLIMITED))
            .await),
        UpdateOutcome::Refused(UpdateRefused::Ended(TokenStatus::Revoked))
    );
    let unknown = Update {
        id: token_id(2),
        ..update(7, rename, LifetimePolicy::UNLIMITED)
    };
    assert_eq!(
        ok!(r.tokens.update(&unknown).await),
        UpdateOutcome::NotFound
    );
    let events = ok!(r.events.list(space_id(1), None, 10).await);
    let logged: Vec<(AuditAction, ChangedFields)> =
        events.iter().map(|e| (e.action, e.changed)).collect();
    assert_eq!(
        logged,
        [
            (AuditAction::TokenRevoked, ChangedFields::NONE),
            (AuditAction::TokenUpdated, every),
            (AuditAction::TokenCreated, ChangedFields::NONE),
        ]
    );
}

/// Concurrent inserts and revocations on one space all land: none is lost.
pub async fn concurrent_inserts_and_revocations_are_never_lost(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let n: u128 = 40;
    let inserts = (1..=n).map(|i| {
        let r = r.clone();
        async move { insert(&r, &token(i, space_id(1), TokenLevel::Client)).await }
    });
    for inserted in futures::future::join_all(inserts).await {
        assert!(inserted);
    }
    let revokes = (1..=n).filter(|i| i % 2 == 0).map(|i| {
        let r = r.clone();
        async move { revoke(&r, i, epoch()).await }
    });
    for revoked in futures::future::join_all(revokes).await {
        assert!(revoked.is_some_and(|t| t.revoked_at().is_some()));
    }
    let all = TokenQuery {
        statuses: StatusFilter::ALL,
        limit: 1000,
        ..query(1)
    };
    let listed = ok!(r.tokens.list(&all).await);
    assert_eq!(listed.len(), 40);
    for t in listed {
        let even = t.id().as_uuid().as_u128() % 2 == 0;
        assert_eq!(t.revoked_at().is_some(), even, "token {}", t.id());
    }
}

/// The rotation of token `old` into `new` at [`epoch`], the old one working until `grace_end`.
fn rotation(old: u128, new: u128, grace_end: time::OffsetDateTime) -> Rotation {
    fixtures::rotation(old, new, epoch(), grace_end - epoch())
}

/// Rotation marks the old token, stores the new one and logs the event, all at once; a token
/// that is not active is left alone.
pub async fn rotation_replaces_an_active_token_whole(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let long_lived = expiring(1, epoch() + Duration::days(30));
    assert!(insert(&r, &long_lived).await);
    let grace_end = epoch() + Duration::hours(1);
    let RotateOutcome::Rotated(old) = ok!(r.tokens.rotate(&rotation(1, 2, grace_end)).await) else {
        panic!("an active token rotates");
    };
    assert_eq!(old.replaced_by(), Some(token_id(2)));
    assert_eq!(old.rotated_at(), Some(epoch()));
    assert_eq!(
        old.expires_at(),
        Some(grace_end),
        "the grace end comes before its own expiry"
    );
    assert_eq!(ok!(r.tokens.get(token_id(1)).await).as_ref(), Some(&*old));
    let new = ok!(r.tokens.get(token_id(2)).await);
    assert_eq!(new.and_then(|t| t.replaces()), Some(token_id(1)));
    let actions: Vec<AuditAction> = ok!(r.events.list(space_id(1), None, 10).await)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [AuditAction::TokenRotated, AuditAction::TokenCreated]
    );

    // Rotated already, revoked, expired, unknown: nothing changes.
    assert!(matches!(
        ok!(r.tokens.rotate(&rotation(1, 3, grace_end)).await),
        RotateOutcome::NotActive(_)
    ));
    assert!(insert(&r, &token(4, space_id(1), TokenLevel::Client)).await);
    revoke(&r, 4, epoch()).await;
    assert!(matches!(
        ok!(r.tokens.rotate(&rotation(4, 5, grace_end)).await),
        RotateOutcome::NotActive(_)
    ));
    assert!(insert(&r, &expiring(6, epoch())).await);
    assert!(matches!(
        ok!(r.tokens.rotate(&rotation(6, 7, grace_end)).await),
        RotateOutcome::NotActive(_)
    ));
    assert_eq!(
        ok!(r.tokens.rotate(&rotation(8, 9, grace_end)).await),
        RotateOutcome::NotFound
    );
    for never in [3, 5, 7, 9] {
        assert_eq!(
            ok!(r.tokens.get(token_id(never)).await),
            None,
            "token {never} must not exist"
        );
    }
    // A grace period ending after the token's own expiry keeps the earlier one.
    assert!(insert(&r, &expiring(10, epoch() + Duration::minutes(5))).await);
    let RotateOutcome::Rotated(old) = ok!(r.tokens.rotate(&rotation(10, 11, grace_end)).await)
    else {
        panic!("an active token rotates");
    };
    assert_eq!(old.expires_at(), Some(epoch() + Duration::minutes(5)));
}

/// Of concurrent rotations of one token, exactly one wins.
pub async fn concurrent_rotations_of_one_token_let_exactly_one_win(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(insert(&r, &token(1, space_id(1), TokenLevel::Client)).await);
    let attempts = (2..12).map(|new| {
        let r = r.clone();
        async move { ok!(r.tokens.rotate(&rotation(1, new, epoch())).await) }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let winners = outcomes
        .iter()
        .filter(|o| matches!(o, RotateOutcome::Rotated(_)))
        .count();
    assert_eq!(winners, 1, "{outcomes:?}");
    let listed = ok!(r
        .tokens
        .list(&TokenQuery {
            statuses: StatusFilter::ALL,
            ..query(1)
        })
        .await);
    assert_eq!(listed.len(), 2, "the old token and one replacement");
}

fn ip(text: &str) -> std::net::IpAddr {
    text.parse()
        .unwrap_or_else(|_| unreachable!("a test address"))
}

/// `record_uses` keeps the latest time per token with the address of that use (v4 or v6, or
/// none where none was known), folds several uses of one token in a batch, and ignores unknown
/// ids.
pub async fn last_used_keeps_the_latest_time_and_its_address(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(insert(&r, &token(1, space_id(1), TokenLevel::Client)).await);
    assert!(insert(&r, &token(2, space_id(1), TokenLevel::Client)).await);
    assert!(insert(&r, &token(4, space_id(1), TokenLevel::Client)).await);
    let t = |s: i64| epoch() + Duration::seconds(s);
    let (v4, v6) = (Some(ip("192.0.2.10")), Some(ip("2001:db8::a")));
    ok!(r
        .tokens
        .record_uses(&[
            TokenUse::new(token_id(1), t(10), v4),
            TokenUse::new(token_id(2), t(5), v6),
            TokenUse::new(token_id(3), t(5), v4),
            TokenUse::new(token_id(4), t(3), v4),
            TokenUse::new(token_id(4), t(8), v6),
            TokenUse::new(token_id(4), t(6), v4),
        ])
        .await);
    // An older use changes nothing, not even the address.
    ok!(r
        .tokens
        .record_uses(&[TokenUse::new(token_id(1), t(7), v6)])
        .await);
    ok!(r.tokens.record_uses(&[]).await);
    let last = |id| {
        let r = r.clone();
        async move {
            ok!(r.tokens.get(token_id(id)).await).map(|t| (t.last_used_at(), t.last_used_ip()))
        }
    };
    assert_eq!(last(1).await, Some((Some(t(10)), v4)));
    assert_eq!(last(2).await, Some((Some(t(5)), v6)));
    assert_eq!(
        last(4).await,
        Some((Some(t(8)), v6)),
        "the batch's latest use"
    );
    assert_eq!(last(3).await, None);
    // A later use from an unknown address leaves no stale address behind.
    ok!(r
        .tokens
        .record_uses(&[TokenUse::new(token_id(2), t(11), None)])
        .await);
    assert_eq!(last(2).await, Some((Some(t(11)), None)));
}

/// A hash the way the stores keep them, with `tag` in place of the digest.
fn phc(tag: &str) -> SecretHash {
    SecretHash::new(format!(
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$dGFn{tag}"
    ))
}

/// A use of token `id` at `at` that carries a re-hash from `old` to `new`.
fn rehashed(id: u128, at: time::OffsetDateTime, old: &SecretHash, new: &SecretHash) -> TokenUse {
    TokenUse {
        rehash: Some(Rehash {
            old: old.clone(),
            new: new.clone(),
        }),
        ..TokenUse::new(token_id(id), at, None)
    }
}

/// A re-hash in a batch replaces the secret's hash only where the stored hash is still the one
/// it was made against, whether or not the use beside it is newer than the stored one; changes
/// nothing else of the token; and of two batches re-hashing one hash at once, exactly one wins.
pub async fn a_rehash_replaces_only_the_hash_it_was_made_against(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let (old, new, other) = (phc("old"), phc("new"), phc("other"));
    let stored = edited(&token(1, space_id(1), TokenLevel::Client), |t| {
        t.secret_hash = old.clone();
        t.last_used_at = Some(epoch() + Duration::seconds(100));
    });
    assert!(insert(&r, &stored).await);
    let hash_of = |id| {
        let r = r.clone();
        async move { ok!(r.tokens.get(token_id(id)).await).map(|t| t.secret_hash().clone()) }
    };
    // The use is older than the stored one: the re-hash still lands, the time stays.
    ok!(r
        .tokens
        .record_uses(&[rehashed(1, epoch(), &old, &new)])
        .await);
    let after = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(after.as_ref().map(ApiToken::secret_hash), Some(&new));
    let mut expected = stored.clone();
    assert!(expected.rehash(&old, new.clone()));
    assert_eq!(after, Some(expected), "nothing but the hash changed");
    // Made against a hash that is no longer there (another node re-hashed first): kept.
    ok!(r
        .tokens
        .record_uses(&[rehashed(1, epoch() + Duration::seconds(200), &old, &other)])
        .await);
    assert_eq!(hash_of(1).await, Some(new.clone()));
    let used = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(
        used.and_then(|t| t.last_used_at()),
        Some(epoch() + Duration::seconds(200)),
        "the use in the same entry is written all the same"
    );
    // Two nodes re-hash the same hash at once: one wins, whole.
    for round in 0..5_u128 {
        let id = 10 + round;
        let base = edited(&token(id, space_id(1), TokenLevel::Client), |t| {
            t.secret_hash = old.clone();
        });
        assert!(insert(&r, &base).await);
        let (a, b) = (phc(&format!("a{round}")), phc(&format!("b{round}")));
        let (ua, ub) = (
            [rehashed(id, epoch(), &old, &a)],
            [rehashed(id, epoch(), &old, &b)],
        );
        let (ra, rb) = tokio::join!(r.tokens.record_uses(&ua), r.tokens.record_uses(&ub));
        ok!(ra);
        ok!(rb);
        let won = hash_of(id).await;
        assert!(won == Some(a) || won == Some(b), "round {round}");
    }
}

/// The whole re-hash path on this store (issue 16): a token hashed with OWASP's password
/// parameters (what earlier versions made) verifies on a node that hashes with the token
/// parameters; that verification queues a new hash and writes nothing; the flush stores it
/// with the use; and the token still verifies with it, on a node that never saw it before,
/// without being re-hashed again.
pub async fn an_owasp_hash_is_verified_then_rehashed_then_still_verifies(r: Repositories) {
    use crate::adapters::{Argon2Hasher, ManualClock, OsRandomSource};
    use crate::services::{NewSpace, NewToken, SpaceService, TokenService};

    let clock = Arc::new(ManualClock::default());
    let node = |hasher: Argon2Hasher| {
        TokenService::new(
            Arc::clone(&r.spaces),
            Arc::clone(&r.tokens),
            Arc::clone(&r.events),
            Arc::new(hasher),
            clock.clone(),
            Arc::new(OsRandomSource),
        )
    };
    let stored_hash = |id| {
        let r = r.clone();
        async move {
            ok!(r.tokens.get(id).await)
                .map(|t| t.secret_hash().as_str().to_owned())
                .unwrap_or_default()
        }
    };

    let before = node(Argon2Hasher::owasp());
    let admin = ok!(before.ensure_instance_admin().await).unwrap_or_else(|| unreachable!());
    let admin = tollgate_domain::Actor::for_token(admin.token());
    let spaces = SpaceService::new(
        Arc::clone(&r.spaces),
        Arc::clone(before.verifier()),
        clock.clone(),
        Arc::new(OsRandomSource),
    );
    let new_space = NewSpace {
        name: ok!(tollgate_domain::SpaceName::parse("rehash")),
    };
    let space = ok!(spaces.create(&admin, new_space).await);
    let issued = ok!(before
        .create(
            &admin,
            space.id,
            NewToken {
                name: ok!(TokenName::parse("old")),
                level: TokenLevel::Client,
                expires_at: None,
            },
        )
        .await);
    let (id, secret) = (issued.token().id(), issued.secret().expose().to_owned());
    let owasp = stored_hash(id).await;
    assert!(
        owasp.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "an OWASP hash"
    );

    let after = node(Argon2Hasher::for_tokens());
    let from = Some(ip("198.51.100.23"));
    assert!(
        after.verify_from(&secret, from).await.is_ok(),
        "the old hash verifies"
    );
    assert_eq!(stored_hash(id).await, owasp, "no write on the request path");
    assert_eq!(ok!(after.verifier().flush_last_used().await), 1);
    let rehashed = stored_hash(id).await;
    assert!(
        rehashed.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
        "re-hashed with the token parameters"
    );
    let used = ok!(r.tokens.get(id).await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        used.last_used_ip(),
        from,
        "written in the same batch as the use"
    );

    let fresh = node(Argon2Hasher::for_tokens());
    assert!(fresh.verify(&secret).await.is_ok(), "the new hash verifies");
    assert_eq!(ok!(fresh.verifier().flush_last_used().await), 1);
    assert_eq!(
        stored_hash(id).await,
        rehashed,
        "a current hash is not re-hashed"
    );
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    assert!(fresh.verify(&wrong).await.is_err());
}

/// Events list per space, newest first, before a cursor, up to a limit, and read back whole.
pub async fn audit_events_list_newest_first_per_space(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    let mine = token(1, space_id(1), TokenLevel::Client);
    let theirs = token(2, space_id(2), TokenLevel::Client);
    for n in 1..=5 {
        let mut e = event(n, AuditAction::TokenRejected, &mine);
        e.actor = CreatedBy::Token(mine.id());
        ok!(r.events.record(&e).await);
    }
    ok!(r
        .events
        .record(&event(6, AuditAction::TokenCreated, &theirs))
        .await);
    let numbers = |events: Vec<AuditEvent>| {
        events
            .into_iter()
            .map(|e| e.id.as_uuid().as_u128())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        numbers(ok!(r.events.list(space_id(1), None, 10).await)),
        [5, 4, 3, 2, 1]
    );
    assert_eq!(
        numbers(ok!(r.events.list(space_id(1), None, 2).await)),
        [5, 4]
    );
    let before = Some(EventId::from_uuid(Uuid::from_u128(4)));
    assert_eq!(
        numbers(ok!(r.events.list(space_id(1), before, 2).await)),
        [3, 2]
    );
    assert_eq!(
        numbers(ok!(r.events.list(space_id(2), None, 10).await)),
        [6]
    );
    let read = ok!(r.events.list(space_id(1), None, 1).await);
    let mut expected = event(5, AuditAction::TokenRejected, &mine);
    expected.actor = CreatedBy::Token(mine.id());
    assert_eq!(read, vec![expected]);
}

/// Every way an event is written (with a new token, a revocation, a rotation, alone) keeps the
/// instance admin token a platform acted through for a member, and events without one read
/// back without one.
pub async fn audit_events_keep_the_token_a_platform_acted_through(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let via = Some(token_id(99));
    let member = CreatedBy::Member(ok!(UserId::parse("user-7")));
    let acted = |e: AuditEvent| AuditEvent {
        actor: member.clone(),
        ..e.via(via)
    };
    let first = token(1, space_id(1), TokenLevel::Client);
    let created = acted(event(1, AuditAction::TokenCreated, &first));
    assert!(ok!(r.tokens.insert(&first, &created).await));
    let revoked = acted(event(2, AuditAction::TokenRevoked, &first));
    assert!(ok!(r.tokens.revoke(token_id(1), epoch(), &revoked).await).is_some());
    assert!(insert(&r, &token(3, space_id(1), TokenLevel::Client)).await);
    let base = fixtures::rotation(3, 4, epoch(), Duration::minutes(5));
    let rotation = Rotation {
        event: acted(base.event.clone()),
        ..base
    };
    let rotated = ok!(r.tokens.rotate(&rotation).await);
    assert!(matches!(rotated, RotateOutcome::Rotated(_)), "{rotated:?}");
    let alone = acted(event(5, AuditAction::TokenRejected, &first));
    ok!(r.events.record(&alone).await);
    let listed = ok!(r.events.list(space_id(1), None, 10).await);
    for expected in [&created, &revoked, &rotation.event, &alone] {
        assert!(listed.contains(expected), "{expected:?} in {listed:?}");
    }
    let plain: Vec<_> = listed.iter().filter(|e| e.via_token_id.is_none()).collect();
    assert_eq!(
        plain.len(),
        1,
        "the creation of token 3 went through no one: {listed:?}"
    );
}

/// A revocation by a leak report records its actor `leak_report`, for a space token and for an
/// instance admin token alike, and a token may record it as its creator (no store is stricter
/// than the domain).
pub async fn a_leak_reports_revocation_records_its_actor(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let by_report = |e: AuditEvent| AuditEvent {
        actor: CreatedBy::LeakReport,
        ..e
    };
    let client = token(1, space_id(1), TokenLevel::Client);
    let instance = instance_token(2);
    for stored in [&client, &instance] {
        assert!(insert(&r, stored).await);
        let revoked = by_report(event(
            10 + stored.id().as_uuid().as_u128(),
            AuditAction::TokenRevoked,
            stored,
        ));
        let after = ok!(r.tokens.revoke(stored.id(), epoch(), &revoked).await);
        assert_eq!(after.and_then(|t| t.revoked_at()), Some(epoch()));
    }
    let listed = ok!(r.events.list(space_id(1), None, 10).await);
    assert!(
        listed
            .iter()
            .any(|e| e.actor == CreatedBy::LeakReport && e.token_id == Some(client.id())),
        "{listed:?}"
    );
    let created = fixtures::edited(&token(3, space_id(1), TokenLevel::Client), |t| {
        t.created_by = CreatedBy::LeakReport;
    });
    assert!(insert(&r, &created).await);
    assert_eq!(ok!(r.tokens.get(token_id(3)).await), Some(created));
}

/// `any_instance_admin` sees instance tokens, revoked or not, and nothing else.
pub async fn any_instance_admin_counts_instance_tokens_only(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(!ok!(r.tokens.any_instance_admin().await));
    assert!(insert(&r, &token(1, space_id(1), TokenLevel::Admin)).await);
    assert!(!ok!(r.tokens.any_instance_admin().await));
    assert!(insert(&r, &instance_token(2)).await);
    revoke(&r, 2, epoch()).await;
    assert!(ok!(r.tokens.any_instance_admin().await));
    let stored = ok!(r.tokens.get(token_id(2)).await);
    assert_eq!(stored.map(|t| t.scope()), Some(TokenScope::Instance));
}

/// Every subset of the four statuses, the empty one included.
fn every_status_set() -> Vec<Vec<TokenStatus>> {
    (0u8..1 << TokenStatus::ALL.len())
        .map(|bits| {
            TokenStatus::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, s)| s)
                .collect()
        })
        .collect()
}

/// Tokens of space 1 in every state at `epoch()`, alternating levels.
fn tokens_in_every_state() -> Vec<ApiToken> {
    let edits: Vec<fn(&mut TokenRecord)> = vec![
        |_| {},
        |t| t.expires_at = Some(epoch() + Duration::days(1)),
        |t| t.expires_at = Some(epoch()),
        |t| t.expires_at = Some(epoch() - Duration::days(1)),
        |t| t.revoked_at = Some(epoch() - Duration::hours(1)),
        |t| {
            t.revoked_at = Some(epoch() - Duration::hours(1));
            t.expires_at = Some(epoch() - Duration::days(1));
        },
        |t| {
            t.replaced_by = Some(token_id(1));
            t.rotated_at = Some(epoch() - Duration::hours(1));
            t.expires_at = Some(epoch() + Duration::hours(1));
        },
        |t| {
            t.replaced_by = Some(token_id(1));
            t.rotated_at = Some(epoch() - Duration::hours(1));
            t.expires_at = Some(epoch() - Duration::minutes(1));
        },
        |t| {
            t.replaced_by = Some(token_id(1));
            t.rotated_at = Some(epoch() - Duration::hours(1));
            t.revoked_at = Some(epoch() - Duration::minutes(30));
        },
        |t| t.replaces = Some(token_id(7)),
        |t| t.suspended_at = Some(epoch() - Duration::hours(1)),
        |t| {
            t.suspended_at = Some(epoch() - Duration::hours(1));
            t.expires_at = Some(epoch() + Duration::days(1));
        },
        |t| {
            t.suspended_at = Some(epoch() - Duration::hours(1));
            t.expires_at = Some(epoch());
        },
        |t| {
            t.suspended_at = Some(epoch() - Duration::hours(1));
            t.revoked_at = Some(epoch() - Duration::minutes(30));
        },
    ];
    edits
        .into_iter()
        .zip(1u128..)
        .map(|(edit, n)| {
            let level = if n % 2 == 0 {
                TokenLevel::Admin
            } else {
                TokenLevel::Client
            };
            edited(&token(n, space_id(1), level), edit)
        })
        .collect()
}

/// Listing by status: the store's filter of every status set agrees with the domain's
/// [`ApiToken::status_at`], on tokens in every state and at the edges (expiring exactly now,
/// revoked and rotated, rotated and past the grace period, suspended and expired or revoked),
/// with and without a level.
pub async fn every_status_set_lists_exactly_the_tokens_whose_status_is_in_it(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    let tokens = tokens_in_every_state();
    for t in &tokens {
        assert!(insert(&r, t).await);
    }
    // A token of another space, in every list of its own space and none of space 1's.
    assert!(insert(&r, &token(99, space_id(2), TokenLevel::Client)).await);
    assert!(
        TokenStatus::ALL
            .iter()
            .all(|s| tokens.iter().any(|t| t.status_at(epoch()) == *s)),
        "the fixtures cover every status"
    );

    // Judged now, a second before and a day later, when other tokens have expired.
    for now in [
        epoch(),
        epoch() - Duration::seconds(1),
        epoch() + Duration::days(2),
    ] {
        for statuses in every_status_set() {
            for level in [None, Some(TokenLevel::Client), Some(TokenLevel::Admin)] {
                let query = TokenQuery {
                    space_id: space_id(1),
                    level,
                    statuses: StatusFilter::of(&statuses),
                    now,
                    name: None,
                    after: None,
                    limit: 100,
                    order: ListOrder::OldestFirst,
                };
                let listed = ids(ok!(r.tokens.list(&query).await));
                let expected: Vec<_> = tokens
                    .iter()
                    .filter(|t| statuses.contains(&t.status_at(now)))
                    .filter(|t| level.is_none_or(|l| t.level() == l))
                    .map(|t| t.id())
                    .collect();
                assert_eq!(listed, expected, "{statuses:?} of {level:?} at {now}");
            }
        }
    }
}

/// Runs every contract case as its own `#[tokio::test]`, each on the fresh repositories that
/// the given async function returns.
#[macro_export]
macro_rules! repository_contract_tests {
    ($fresh:path) => {
        $crate::repository_contract_tests!(@cases $fresh;
            space_reads_back_as_stored,
            space_ids_are_unique,
            spaces_list_in_id_order_after_a_cursor,
            token_reads_back_with_every_field,
            inserting_a_token_id_twice_changes_nothing,
            token_list_filters_by_space_level_and_status,
            token_list_pages_by_ascending_id,
            token_list_pages_newest_first_as_the_reverse_of_oldest_first,
            every_status_set_lists_exactly_the_tokens_whose_status_is_in_it,
            revocation_keeps_the_first_time_and_logs_once,
            suspension_and_resumption_change_the_token_once_each,
            an_update_writes_what_changed_and_records_which_fields,
            concurrent_inserts_and_revocations_are_never_lost,
            rotation_replaces_an_active_token_whole,
            concurrent_rotations_of_one_token_let_exactly_one_win,
            last_used_keeps_the_latest_time_and_its_address,
            a_rehash_replaces_only_the_hash_it_was_made_against,
            an_owasp_hash_is_verified_then_rehashed_then_still_verifies,
            audit_events_list_newest_first_per_space,
            audit_events_keep_the_token_a_platform_acted_through,
            a_leak_reports_revocation_records_its_actor,
            any_instance_admin_counts_instance_tokens_only,
            instance_admins_are_every_instance_token_in_id_order,
            the_last_active_instance_admin_is_never_revoked,
            concurrent_revocations_of_the_last_two_instance_admins_leave_one,
            a_renamed_space_reads_back_renamed_with_its_event,
            deleting_a_space_revokes_its_tokens_keeps_its_events_and_is_final,
            deleting_a_space_of_ten_thousand_tokens_revokes_every_one,
            no_token_outlives_a_deletion_it_raced,
            a_name_search_lists_the_names_that_contain_it_ignoring_case,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let repositories = $fresh().await;
                $crate::testing::contract::$case(repositories).await;
            }
        )*
    };
}

/// The contract of a [`ServerKeyRepository`](crate::ports::ServerKeyRepository): the first key
/// stored is the key, for every caller and every later call, even when callers race. Run it
/// with `tollgate_app::server_key_contract_tests!(fresh)`, where `fresh()` gives an empty
/// store's repository.
pub mod server_keys {
    use std::sync::Arc;

    use crate::pagination::CursorKey;
    use crate::ports::ServerKeyRepository;

    /// The first candidate is kept; a later, different one changes nothing.
    pub async fn the_first_cursor_key_stored_is_the_key(keys: Arc<dyn ServerKeyRepository>) {
        let first = CursorKey::from_bytes([1; 32]);
        let second = CursorKey::from_bytes([2; 32]);
        assert_eq!(keys.cursor_key(&first).await.ok(), Some(first.clone()));
        assert_eq!(keys.cursor_key(&second).await.ok(), Some(first.clone()));
        assert_eq!(keys.cursor_key(&first).await.ok(), Some(first));
    }

    /// Callers racing with different candidates all get one and the same key.
    pub async fn racing_callers_all_get_one_key(keys: Arc<dyn ServerKeyRepository>) {
        let calls = (0..8u8).map(|n| {
            let keys = Arc::clone(&keys);
            async move { keys.cursor_key(&CursorKey::from_bytes([n; 32])).await.ok() }
        });
        let got = futures::future::join_all(calls).await;
        let first = got[0].clone();
        assert!(first.is_some(), "{got:?}");
        assert!(got.iter().all(|key| *key == first), "{got:?}");
    }
}

/// One `#[tokio::test]` per case of [`server_keys`], each on `$fresh().await`.
#[macro_export]
macro_rules! server_key_contract_tests {
    ($fresh:path) => {
        $crate::server_key_contract_tests!(@cases $fresh;
            the_first_cursor_key_stored_is_the_key,
            racing_callers_all_get_one_key,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::testing::contract::server_keys::$case($fresh().await).await;
            }
        )*
    };
}
