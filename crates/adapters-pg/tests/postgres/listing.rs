//! Listing by status: the SQL conditions of every status set agree with the domain's
//! `ApiToken::status_at`, on tokens in every state and at the edges (expiring exactly now,
//! revoked and rotated, rotated and past the grace period).

use time::Duration;
use tollgate_app::ports::{SpaceRepository, StatusFilter, TokenQuery, TokenRepository};
use tollgate_app::testing::fixtures::{edited, epoch, insert, space, space_id, token, token_id};
use tollgate_domain::{ApiToken, TokenLevel, TokenRecord, TokenStatus};
use tollgate_pg::testing::TestDatabase;

/// Every subset of the four statuses, the empty one included.
fn every_status_set() -> Vec<Vec<TokenStatus>> {
    (0u8..16)
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

#[tokio::test]
async fn every_status_set_lists_exactly_the_tokens_whose_status_is_in_it() {
    let store = TestDatabase::create().await.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    SpaceRepository::insert(&store, &space(2)).await.unwrap();
    let tokens = tokens_in_every_state();
    for t in &tokens {
        assert!(insert(&store, t).await.unwrap());
    }
    // A token of another space, in every list of its own space and none of space 1's.
    assert!(insert(&store, &token(99, space_id(2), TokenLevel::Client))
        .await
        .unwrap());
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
                    after: None,
                    limit: 100,
                };
                let listed: Vec<_> = TokenRepository::list(&store, &query)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.id())
                    .collect();
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
