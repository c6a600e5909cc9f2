//! The transfer contract: the behaviour every [`StoreTransfer`] must have, written once. Each
//! case takes a function that opens a fresh, empty store, and may open several (a round trip
//! exports from one store and imports into another).
//!
//! An adapter crate runs the whole suite with one line in a test file:
//!
//! ```ignore
//! async fn fresh() -> tollgate_app::testing::transfer::TransferStore { /* empty store */ }
//! tollgate_app::transfer_contract_tests!(fresh);
//! ```
//!
//! which expands to one `#[tokio::test]` per case (the caller needs tokio as a dev-dependency).

use std::future::Future;
use std::sync::Arc;

use time::Duration;
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, CreatedBy, EventId, GracePeriod, LifetimePolicy,
    NewApiToken, Space, TokenDescription, TokenLevel, TokenUpdate, UserId,
};
use uuid::Uuid;

use super::contract::Repositories;
use super::fixtures::{
    self, edited, epoch, event, instance_token, new_token, rotation, space, space_id, token,
    token_id,
};
use crate::ports::{
    ImportError, ListOrder, RotateOutcome, StatusFilter, StoreTransfer, SuspendOutcome, Suspension,
    TokenQuery, TokenUse, Update, UpdateOutcome,
};
use crate::services::{ExportRecord, TransferService};
use crate::store_contents::StoreContents;

/// A fresh, empty store: its transfer port, and its repositories to fill it and read it back.
#[derive(Clone)]
pub struct TransferStore {
    /// The store's [`StoreTransfer`].
    pub transfer: Arc<dyn StoreTransfer>,
    /// The same store's repositories.
    pub repositories: Repositories,
}

impl std::fmt::Debug for TransferStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferStore")
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

/// Everything a store holds, read through its transfer port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Everything {
    spaces: Vec<Space>,
    tokens: Vec<ApiToken>,
    events: Vec<AuditEvent>,
}

impl Everything {
    fn contents(&self) -> StoreContents {
        ok!(StoreContents::new(
            self.spaces.clone(),
            self.tokens.clone(),
            self.events.clone()
        ))
    }
}

/// Everything in `store`, exported `page_size` records at a time.
async fn export(store: &TransferStore, page_size: usize) -> Everything {
    let mut all = Everything {
        spaces: Vec::new(),
        tokens: Vec::new(),
        events: Vec::new(),
    };
    let service = TransferService::new(Arc::clone(&store.transfer)).with_page_size(page_size);
    ok!(service
        .export(|record| {
            match record {
                ExportRecord::Space(s) => all.spaces.push(s.clone()),
                ExportRecord::Token(t) => all.tokens.push(t.clone()),
                ExportRecord::Event(e) => all.events.push(e.clone()),
            }
            Ok::<(), std::io::Error>(())
        })
        .await);
    all
}

fn event_id(n: u128) -> EventId {
    EventId::from_uuid(Uuid::from_u128(n))
}

/// Fills `r` through the repositories, as a running server would: three spaces (one empty), a
/// rotated token and its replacement, a revoked admin token created by a member, a suspended
/// client token created by a token with an expiry and a last use, an instance admin token, and
/// events of
/// every kind, one of them of the instance token, by every kind of actor (`leak_report` too).
async fn fill(r: &Repositories) {
    for n in [1, 2, 3] {
        ok!(r.spaces.insert(&space(n)).await);
    }
    let member = CreatedBy::Member(ok!(UserId::parse("user-7")));
    let stored = [
        token(1, space_id(1), TokenLevel::Client),
        ApiToken::issue(NewApiToken {
            created_by: member,
            ..new_token(3, space_id(1), TokenLevel::Admin)
        }),
        ApiToken::issue(NewApiToken {
            created_by: CreatedBy::Token(token_id(3)),
            expires_at: Some(epoch() + Duration::days(30)),
            ..new_token(4, space_id(2), TokenLevel::Client)
        }),
        instance_token(10),
    ];
    for t in &stored {
        assert!(ok!(fixtures::insert(r.tokens.as_ref(), t).await));
    }
    let rotated = ok!(r
        .tokens
        .rotate(&rotation(1, 2, epoch(), Duration::hours(1)))
        .await);
    assert!(matches!(rotated, RotateOutcome::Rotated(_)), "{rotated:?}");
    ok!(fixtures::revoke(r.tokens.as_ref(), token_id(3), space_id(1), epoch()).await);
    ok!(r
        .tokens
        .record_uses(&[
            TokenUse::new(
                token_id(4),
                epoch() + Duration::minutes(5),
                Some(std::net::IpAddr::from([192, 0, 2, 4])),
            ),
            TokenUse::new(token_id(10), epoch() + Duration::minutes(6), None),
        ])
        .await);
    // The client token with an expiry is suspended: `suspended_at` moves with it.
    let suspended = event(43, AuditAction::TokenSuspended, &stored[2]);
    let outcome = ok!(r
        .tokens
        .set_suspended(token_id(4), Suspension::Suspend, suspended.at, &suspended)
        .await);
    assert!(
        matches!(outcome, SuspendOutcome::Done { changed: true, .. }),
        "{outcome:?}"
    );
    // ... and described: the description and the event's changed fields move too.
    let described = ok!(r
        .tokens
        .update(&Update {
            id: token_id(4),
            changes: TokenUpdate {
                description: Some(TokenDescription::parse("moved with its description").ok()),
                ..TokenUpdate::default()
            },
            policy: LifetimePolicy::UNLIMITED,
            now: epoch(),
            event: event(44, AuditAction::TokenUpdated, &stored[2]),
        })
        .await);
    assert!(
        matches!(&described, UpdateOutcome::Done { changed, .. } if !changed.is_empty()),
        "{described:?}"
    );
    let mut rejected = event(40, AuditAction::TokenRejected, &stored[1]);
    rejected.actor = CreatedBy::Token(token_id(3));
    ok!(r.events.record(&rejected).await);
    // A member a platform acted for, through the instance token: the token is kept too.
    let mut acted = event(41, AuditAction::TokenRevoked, &stored[2]);
    acted.actor = CreatedBy::Member(ok!(UserId::parse("user-7")));
    acted.via_token_id = Some(token_id(10));
    ok!(r.events.record(&acted).await);
    // A leak report revoked the instance token: its actor is kept too.
    let mut reported = event(42, AuditAction::TokenRevoked, &stored[3]);
    reported.actor = CreatedBy::LeakReport;
    ok!(r.events.record(&reported).await);
}

/// Contents made without a store: two spaces, a rotated pair, a revoked token used once, an
/// instance token, and events (one of them of the instance token). `n` shifts every id, so two
/// samples share none.
fn sample(n: u128) -> StoreContents {
    let base = n * 100;
    let mut old = token(base + 1, space_id(base + 1), TokenLevel::Client);
    let grace = ok!(GracePeriod::from_seconds(3600));
    ok!(old.rotate(token_id(base + 2), epoch(), grace));
    let new = edited(
        &token(base + 2, space_id(base + 1), TokenLevel::Client),
        |r| r.replaces = Some(token_id(base + 1)),
    );
    let mut revoked = token(base + 3, space_id(base + 2), TokenLevel::Admin);
    revoked.record_use(
        epoch() + Duration::seconds(30),
        Some(std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 3])),
    );
    revoked.revoke(epoch() + Duration::minutes(1));
    let instance = instance_token(base + 4);
    let events = vec![
        event(base + 1, AuditAction::TokenCreated, &old),
        event(base + 2, AuditAction::TokenRotated, &old),
        event(base + 3, AuditAction::TokenRevoked, &revoked).via(Some(token_id(base + 4))),
        event(base + 4, AuditAction::TokenCreated, &instance),
    ];
    ok!(StoreContents::new(
        vec![space(base + 1), space(base + 2)],
        vec![old, new, revoked, instance],
        events,
    ))
}

fn everything_in(contents: &StoreContents) -> Everything {
    Everything {
        spaces: contents.spaces().to_vec(),
        tokens: contents.tokens().to_vec(),
        events: contents.events().to_vec(),
    }
}

/// A store exported page by page imports into a fresh store that then holds exactly the same:
/// every field of every token (hashes, rotation links, revocations, last uses, instance
/// tokens), every space and every event, and its repositories answer as the first store's do.
pub async fn an_exported_store_imports_into_a_fresh_one_with_every_field<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let source = fresh().await;
    fill(&source.repositories).await;
    let exported = export(&source, 2).await;
    assert_eq!(exported.spaces.len(), 3);
    assert_eq!(exported.tokens.len(), 5);
    // Four creations, a rotation, a revocation, a suspension, an update, a rejected use, a
    // member's revocation and a leak report's.
    assert_eq!(exported.events.len(), 11, "{:?}", exported.events);
    assert!(
        exported.events.iter().any(|e| !e.changed.is_empty()),
        "an update's changed fields"
    );
    assert!(
        exported
            .events
            .iter()
            .any(|e| e.actor == CreatedBy::LeakReport),
        "a leak report's revocation"
    );
    assert!(
        exported.events.iter().any(|e| e.via_token_id.is_some()),
        "an event acted through an instance token"
    );

    let target = fresh().await;
    ok!(target.transfer.import(&exported.contents()).await);
    assert_eq!(export(&target, 1000).await, exported);

    let (from, to) = (&source.repositories, &target.repositories);
    for n in [1, 2, 3, 4, 10] {
        let original = ok!(from.tokens.get(token_id(n)).await);
        assert!(original.is_some(), "token {n} is in the source");
        assert_eq!(ok!(to.tokens.get(token_id(n)).await), original, "token {n}");
    }
    let old = ok!(to.tokens.get(token_id(1)).await);
    assert_eq!(
        old.as_ref().and_then(ApiToken::replaced_by),
        Some(token_id(2))
    );
    assert_eq!(old.and_then(|t| t.rotated_at()), Some(epoch()));
    assert!(
        ok!(to.tokens.get(token_id(4)).await)
            .is_some_and(|t| t.suspended_at().is_some() && t.description().is_some()),
        "the suspension and the description moved too"
    );
    for space in [1, 2, 3] {
        assert_eq!(
            ok!(to.spaces.get(space_id(space)).await),
            ok!(from.spaces.get(space_id(space)).await)
        );
        let all = TokenQuery {
            space_id: space_id(space),
            level: None,
            statuses: StatusFilter::ALL,
            now: epoch(),
            name: None,
            after: None,
            limit: 100,
            order: ListOrder::OldestFirst,
        };
        assert_eq!(
            ok!(to.tokens.list(&all).await),
            ok!(from.tokens.list(&all).await)
        );
        assert_eq!(
            ok!(to.events.list(space_id(space), None, 100).await),
            ok!(from.events.list(space_id(space), None, 100).await)
        );
    }
    assert!(ok!(to.tokens.any_instance_admin().await));
}

/// Export pages hold every record once, in ascending id order, after the cursor, up to the
/// limit: tokens of every space and instance tokens, events of every space and of instance
/// tokens.
pub async fn export_pages_hold_every_record_once_in_ascending_id_order<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let store = fresh().await;
    let contents = sample(0);
    ok!(store.transfer.import(&contents).await);
    let t = &store.transfer;

    let spaces = ok!(t.export_spaces(None, 1).await);
    assert_eq!(spaces, [space(1)]);
    assert_eq!(ok!(t.export_spaces(Some(space_id(1)), 5).await), [space(2)]);
    assert!(ok!(t.export_spaces(Some(space_id(2)), 5).await).is_empty());

    let ids = |tokens: Vec<ApiToken>| tokens.iter().map(ApiToken::id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok!(t.export_tokens(None, 2).await)),
        [1, 2].map(token_id)
    );
    assert_eq!(
        ids(ok!(t.export_tokens(Some(token_id(2)), 2).await)),
        [3, 4].map(token_id),
        "a token of another space and the instance token"
    );
    assert!(ok!(t.export_tokens(Some(token_id(4)), 2).await).is_empty());
    assert_eq!(ok!(t.export_tokens(None, 10).await), contents.tokens());

    let numbers = |events: Vec<AuditEvent>| events.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        numbers(ok!(t.export_events(None, 3).await)),
        [1, 2, 3].map(event_id)
    );
    assert_eq!(
        numbers(ok!(t.export_events(Some(event_id(3)), 3).await)),
        [4].map(event_id),
        "the instance token's event"
    );
    assert_eq!(ok!(t.export_events(None, 10).await), contents.events());
    for page_size in [1, 2, 3, 1000] {
        assert_eq!(
            export(&store, page_size).await,
            everything_in(&contents),
            "pages of {page_size}"
        );
    }
}

/// A store that holds only a space, only a token, or only an event refuses an import with
/// [`ImportError::NotEmpty`], and holds afterwards what it held before.
pub async fn import_refuses_a_store_that_holds_anything_and_changes_nothing<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let only_space = fresh().await;
    ok!(only_space.repositories.spaces.insert(&space(50)).await);
    let only_token = fresh().await;
    let instance = instance_token(51);
    ok!(only_token
        .repositories
        .tokens
        .insert(&instance, &event(51, AuditAction::TokenCreated, &instance))
        .await);
    let only_event = fresh().await;
    ok!(only_event
        .repositories
        .events
        .record(&event(52, AuditAction::TokenRejected, &instance))
        .await);
    for (what, store) in [
        ("a space", only_space),
        ("a token", only_token),
        ("an event", only_event),
    ] {
        let before = export(&store, 1000).await;
        let refused = store.transfer.import(&sample(0)).await;
        assert!(
            matches!(refused, Err(ImportError::NotEmpty)),
            "a store holding {what}: {refused:?}"
        );
        assert_eq!(export(&store, 1000).await, before, "a store holding {what}");
    }
}

/// A second import into the same store is refused, and the first one's contents stay as they
/// were.
pub async fn a_second_import_is_refused_and_the_first_is_kept<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let store = fresh().await;
    ok!(store.transfer.import(&sample(0)).await);
    for again in [sample(0), sample(1)] {
        assert!(matches!(
            store.transfer.import(&again).await,
            Err(ImportError::NotEmpty)
        ));
    }
    assert_eq!(export(&store, 1000).await, everything_in(&sample(0)));
}

/// Of two imports into one empty store at once, exactly one succeeds, and the store holds
/// exactly its contents.
pub async fn of_two_concurrent_imports_exactly_one_wins<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let store = fresh().await;
    let (first, second) = (sample(0), sample(1));
    let (a, b) = futures::join!(
        store.transfer.import(&first),
        store.transfer.import(&second)
    );
    let winner = match (a, b) {
        (Ok(()), Err(ImportError::NotEmpty)) => first,
        (Err(ImportError::NotEmpty), Ok(())) => second,
        other => panic!("exactly one import must win: {other:?}"),
    };
    assert_eq!(export(&store, 1000).await, everything_in(&winner));
}

/// Importing nothing into an empty store succeeds and leaves it empty, so a real import can
/// follow.
pub async fn importing_nothing_leaves_the_store_empty<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = TransferStore>,
{
    let store = fresh().await;
    ok!(store.transfer.import(&StoreContents::default()).await);
    assert_eq!(
        export(&store, 1000).await,
        everything_in(&StoreContents::default())
    );
    ok!(store.transfer.import(&sample(0)).await);
    assert_eq!(export(&store, 1000).await, everything_in(&sample(0)));
}

/// Runs every transfer contract case as its own `#[tokio::test]`, each opening fresh stores
/// with the given async function.
#[macro_export]
macro_rules! transfer_contract_tests {
    ($fresh:path) => {
        $crate::transfer_contract_tests!(@cases $fresh;
            an_exported_store_imports_into_a_fresh_one_with_every_field,
            export_pages_hold_every_record_once_in_ascending_id_order,
            import_refuses_a_store_that_holds_anything_and_changes_nothing,
            a_second_import_is_refused_and_the_first_is_kept,
            of_two_concurrent_imports_exactly_one_wins,
            importing_nothing_leaves_the_store_empty,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::testing::transfer::$case($fresh).await;
            }
        )*
    };
}
