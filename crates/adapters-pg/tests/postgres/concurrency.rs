//! Many writers, revokers and readers on one space at once, on real threads and connections:
//! nothing is lost, every revocation keeps the first time and is logged once, and readers only
//! ever see whole, ordered pages.

use std::collections::BTreeSet;
use std::sync::Arc;

use time::Duration;
use tokio::task::JoinSet;
use tollgate_app::ports::{ListOrder, SpaceRepository, StatusFilter, TokenQuery, TokenRepository};
use tollgate_app::testing::fixtures::{epoch, space, space_id, token, token_id};
use tollgate_domain::{TokenId, TokenLevel};
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::{PgOptions, PgStore};

use tollgate_app::testing::fixtures::{insert, revoke};

const WRITERS: u128 = 8;
const PER_WRITER: u128 = 50;
const TOKENS: u128 = WRITERS * PER_WRITER;
const REVOKERS: i64 = 6;

fn query(include_revoked: bool, after: Option<TokenId>, limit: usize) -> TokenQuery {
    TokenQuery {
        space_id: space_id(1),
        level: None,
        statuses: if include_revoked {
            StatusFilter::ALL
        } else {
            StatusFilter::ACTIVE
        },
        now: epoch(),
        name: None,
        after,
        limit,
        order: ListOrder::OldestFirst,
    }
}

/// Reads every page of the space; checks each is in ascending id order.
async fn read_all(store: &PgStore, include_revoked: bool) -> Vec<TokenId> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = TokenRepository::list(store, &query(include_revoked, after, 37))
            .await
            .unwrap();
        let page_ids: Vec<_> = page.iter().map(|t| t.id()).collect();
        assert!(page_ids.windows(2).all(|w| w[0] < w[1]), "{page_ids:?}");
        if let (Some(last), Some(first)) = (ids.last(), page_ids.first()) {
            assert!(last < first, "pages overlap");
        }
        ids.extend(&page_ids);
        match page_ids.last() {
            Some(&last) if page_ids.len() == 37 => after = Some(last),
            _ => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_revokes_and_reads_on_one_space_stay_consistent() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(
        db.url(),
        PgOptions {
            max_connections: 8,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();

    // Writers insert 400 tokens while readers page through the space.
    let mut tasks = JoinSet::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..PER_WRITER {
                let t = token(1 + w * PER_WRITER + i, space_id(1), TokenLevel::Client);
                assert!(insert(&store, &t).await.unwrap());
            }
        });
    }
    for _ in 0..2 {
        let store = store.clone();
        tasks.spawn(async move {
            for _ in 0..5 {
                read_all(&store, false).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let expected: BTreeSet<TokenId> = (1..=TOKENS).map(token_id).collect();
    let listed: BTreeSet<TokenId> = read_all(&store, true).await.into_iter().collect();
    assert_eq!(listed, expected);

    // Every third token is revoked by six revokers at once, each with its own time, while
    // readers page through the active tokens.
    let revoked_ids: Vec<u128> = (1..=TOKENS).filter(|n| n % 3 == 0).collect();
    let min_active = usize::try_from(TOKENS).unwrap() - revoked_ids.len();
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = JoinSet::new();
    for r in 0..REVOKERS {
        let store = store.clone();
        let ids = revoked_ids.clone();
        let answers = Arc::clone(&answers);
        tasks.spawn(async move {
            let at = epoch() + Duration::minutes(r + 1);
            for n in ids {
                let after = revoke(&store, token_id(n), space_id(1), at)
                    .await
                    .unwrap()
                    .unwrap();
                answers.lock().unwrap().push((n, after.revoked_at()));
            }
        });
    }
    for _ in 0..2 {
        let store = store.clone();
        tasks.spawn(async move {
            for _ in 0..5 {
                let active = read_all(&store, false).await.len();
                assert!(
                    (min_active..=400).contains(&active),
                    "{active} active tokens"
                );
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let answers = answers.lock().unwrap().clone();
    assert_eq!(
        answers.len(),
        revoked_ids.len() * usize::try_from(REVOKERS).unwrap()
    );
    for n in &revoked_ids {
        let stored = TokenRepository::get(&store, token_id(*n))
            .await
            .unwrap()
            .unwrap()
            .revoked_at();
        let first = stored.expect("revoked");
        assert!(first > epoch() && first <= epoch() + Duration::minutes(REVOKERS));
        for (_, seen) in answers.iter().filter(|(m, _)| m == n) {
            assert_eq!(
                *seen, stored,
                "token {n}: every revoker sees the first time"
            );
        }
    }
    // Each revocation logged once, whichever revoker won it; each creation once.
    let logged: Vec<(String, i64)> =
        sqlx::query_as("SELECT action, count(*) FROM audit_events GROUP BY action ORDER BY action")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        logged,
        [
            ("token.created".to_owned(), i64::try_from(TOKENS).unwrap()),
            (
                "token.revoked".to_owned(),
                i64::try_from(revoked_ids.len()).unwrap()
            ),
        ]
    );
    let active: BTreeSet<TokenId> = read_all(&store, false).await.into_iter().collect();
    let expected_active: BTreeSet<TokenId> =
        (1..=TOKENS).filter(|n| n % 3 != 0).map(token_id).collect();
    assert_eq!(active, expected_active);
}
