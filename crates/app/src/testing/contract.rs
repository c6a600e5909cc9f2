//! The repository contract: the behaviour every [`SpaceRepository`] and [`TokenRepository`]
//! must have, written once. Each case takes a fresh, empty pair of repositories.
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
use tollgate_domain::{CreatedBy, TokenLevel, TokenScope, UserId};

use super::fixtures::{epoch, instance_token, space, space_id, token, token_id};
use crate::ports::{SpaceRepository, TokenQuery, TokenRepository};

/// A fresh, empty pair of repositories over one store.
#[derive(Clone)]
pub struct Repositories {
    /// The spaces.
    pub spaces: Arc<dyn SpaceRepository>,
    /// The tokens.
    pub tokens: Arc<dyn TokenRepository>,
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

fn query(space: u128) -> TokenQuery {
    TokenQuery {
        space_id: space_id(space),
        level: None,
        include_revoked: false,
        after: None,
        limit: 100,
    }
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
    let mut full = token(7, space_id(1), TokenLevel::Admin);
    full.created_by =
        CreatedBy::Member(UserId::parse("user-42").unwrap_or_else(|_| unreachable!()));
    full.expires_at = Some(epoch() + Duration::days(30));
    full.last_used_at = Some(epoch() + Duration::hours(1));
    let mut by_token = token(8, space_id(1), TokenLevel::Client);
    by_token.created_by = CreatedBy::Token(token_id(7));
    let instance = instance_token(9);
    for t in [&full, &by_token, &instance] {
        assert!(ok!(r.tokens.insert(t).await));
        assert_eq!(ok!(r.tokens.get(t.id).await).as_ref(), Some(t));
    }
    assert_eq!(ok!(r.tokens.get(token_id(10)).await), None);
}

/// Inserting a token id twice returns `false` and changes nothing.
pub async fn inserting_a_token_id_twice_changes_nothing(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let first = token(1, space_id(1), TokenLevel::Client);
    assert!(ok!(r.tokens.insert(&first).await));
    let twin = token(1, space_id(1), TokenLevel::Admin);
    assert!(!ok!(r.tokens.insert(&twin).await));
    assert_eq!(ok!(r.tokens.get(token_id(1)).await), Some(first));
}

/// Lists hold only the space's tokens, of the asked level, revoked ones only on request.
pub async fn token_list_filters_by_space_level_and_revocation(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    for t in [
        token(1, space_id(1), TokenLevel::Client),
        token(2, space_id(1), TokenLevel::Admin),
        token(3, space_id(2), TokenLevel::Client),
        token(4, space_id(1), TokenLevel::Client),
        instance_token(5),
    ] {
        assert!(ok!(r.tokens.insert(&t).await));
    }
    ok!(r.tokens.revoke(token_id(4), epoch()).await);
    let ids = |v: Vec<tollgate_domain::ApiToken>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok!(r.tokens.list(&query(1)).await)),
        [1, 2].map(token_id)
    );
    let clients = TokenQuery {
        level: Some(TokenLevel::Client),
        ..query(1)
    };
    assert_eq!(ids(ok!(r.tokens.list(&clients).await)), [1].map(token_id));
    let admins = TokenQuery {
        level: Some(TokenLevel::Admin),
        ..query(1)
    };
    assert_eq!(ids(ok!(r.tokens.list(&admins).await)), [2].map(token_id));
    let all = TokenQuery {
        include_revoked: true,
        ..query(1)
    };
    assert_eq!(ids(ok!(r.tokens.list(&all).await)), [1, 2, 4].map(token_id));
    assert_eq!(ids(ok!(r.tokens.list(&query(2)).await)), [3].map(token_id));
    assert!(ok!(r.tokens.list(&query(3)).await).is_empty());
}

/// Token lists page by ascending id.
pub async fn token_list_pages_by_ascending_id(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    for n in [5, 3, 1, 4, 2] {
        assert!(ok!(r
            .tokens
            .insert(&token(n, space_id(1), TokenLevel::Client))
            .await));
    }
    let ids = |v: Vec<tollgate_domain::ApiToken>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let first = TokenQuery {
        limit: 2,
        ..query(1)
    };
    assert_eq!(ids(ok!(r.tokens.list(&first).await)), [1, 2].map(token_id));
    let second = TokenQuery {
        after: Some(token_id(2)),
        ..first
    };
    assert_eq!(ids(ok!(r.tokens.list(&second).await)), [3, 4].map(token_id));
    let last = TokenQuery {
        after: Some(token_id(4)),
        ..first
    };
    assert_eq!(ids(ok!(r.tokens.list(&last).await)), [5].map(token_id));
}

/// Revoking sets `revoked_at` once; a second revocation keeps the first time; an unknown id
/// gives `None`.
pub async fn revocation_keeps_the_first_time(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(ok!(r
        .tokens
        .insert(&token(1, space_id(1), TokenLevel::Client))
        .await));
    let first = ok!(r
        .tokens
        .revoke(token_id(1), epoch() + Duration::minutes(1))
        .await);
    assert_eq!(
        first.and_then(|t| t.revoked_at),
        Some(epoch() + Duration::minutes(1))
    );
    let again = ok!(r
        .tokens
        .revoke(token_id(1), epoch() + Duration::minutes(2))
        .await);
    assert_eq!(
        again.and_then(|t| t.revoked_at),
        Some(epoch() + Duration::minutes(1))
    );
    let stored = ok!(r.tokens.get(token_id(1)).await);
    assert_eq!(
        stored.and_then(|t| t.revoked_at),
        Some(epoch() + Duration::minutes(1))
    );
    assert_eq!(ok!(r.tokens.revoke(token_id(2), epoch()).await), None);
}

/// Concurrent inserts and revocations on one space all land: none is lost.
pub async fn concurrent_inserts_and_revocations_are_never_lost(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    let n: u128 = 40;
    let inserts = (1..=n).map(|i| {
        let tokens = r.tokens.clone();
        async move {
            tokens
                .insert(&token(i, space_id(1), TokenLevel::Client))
                .await
        }
    });
    for inserted in futures::future::join_all(inserts).await {
        assert!(ok!(inserted));
    }
    let revokes = (1..=n).filter(|i| i % 2 == 0).map(|i| {
        let tokens = r.tokens.clone();
        async move { tokens.revoke(token_id(i), epoch()).await }
    });
    for revoked in futures::future::join_all(revokes).await {
        assert!(ok!(revoked).is_some_and(|t| t.revoked_at.is_some()));
    }
    let all = TokenQuery {
        include_revoked: true,
        limit: 1000,
        ..query(1)
    };
    let listed = ok!(r.tokens.list(&all).await);
    assert_eq!(listed.len(), 40);
    for t in listed {
        let even = t.id.as_uuid().as_u128() % 2 == 0;
        assert_eq!(t.revoked_at.is_some(), even, "token {}", t.id);
    }
}

/// `any_instance_admin` sees instance tokens, revoked or not, and nothing else.
pub async fn any_instance_admin_counts_instance_tokens_only(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(!ok!(r.tokens.any_instance_admin().await));
    assert!(ok!(r
        .tokens
        .insert(&token(1, space_id(1), TokenLevel::Admin))
        .await));
    assert!(!ok!(r.tokens.any_instance_admin().await));
    assert!(ok!(r.tokens.insert(&instance_token(2)).await));
    ok!(r.tokens.revoke(token_id(2), epoch()).await);
    assert!(ok!(r.tokens.any_instance_admin().await));
    let stored = ok!(r.tokens.get(token_id(2)).await);
    assert_eq!(stored.map(|t| t.scope), Some(TokenScope::Instance));
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
            token_list_filters_by_space_level_and_revocation,
            token_list_pages_by_ascending_id,
            revocation_keeps_the_first_time,
            concurrent_inserts_and_revocations_are_never_lost,
            any_instance_admin_counts_instance_tokens_only,
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
