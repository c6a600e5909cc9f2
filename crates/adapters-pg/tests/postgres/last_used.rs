//! `record_uses`: a whole batch is one `UPDATE` statement, however many tokens it holds;
//! times only move forward; and nodes flushing overlapping batches at once do not deadlock.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;
use tollgate_app::ports::{
    ListOrder, SpaceRepository, StatusFilter, TokenQuery, TokenRepository, TokenUse,
};
use tollgate_app::testing::fixtures::{epoch, space, space_id, token_id};
use tollgate_domain::TokenId;
use tollgate_pg::testing::TestDatabase;

const TOKENS: u128 = 1_000;

/// Stores tokens 1 to [`TOKENS`] in space 1 with one raw statement, and a statement-level
/// trigger that counts the `UPDATE` statements run on `api_tokens` (`pg_stat_statements` is
/// not available on every server; a trigger counts exactly, whatever runs concurrently).
async fn seeded() -> TestDatabase {
    let db = TestDatabase::create().await;
    SpaceRepository::insert(&db.store(), &space(1))
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        r"
        INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
        SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
               '00000000-0000-0000-0000-000000000001', 'client', 'token ' || n, now(), 'system',
               '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'
        FROM generate_series(1, {TOKENS}) n;

        CREATE TABLE test_update_statements (at timestamptz NOT NULL DEFAULT clock_timestamp());
        CREATE FUNCTION test_count_update_statement() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO test_update_statements DEFAULT VALUES;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER test_count_update_statements AFTER UPDATE ON api_tokens
            FOR EACH STATEMENT EXECUTE FUNCTION test_count_update_statement();
        "
    ))
    .execute(db.pool())
    .await
    .unwrap();
    db
}

/// Uses at these times from no known address, as a batch.
fn as_uses(uses: &[(TokenId, OffsetDateTime)]) -> Vec<TokenUse> {
    uses.iter()
        .map(|&(id, at)| TokenUse::new(id, at, None))
        .collect()
}

async fn update_statements(db: &TestDatabase) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM test_update_statements")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// Every token's `last_used_at`, by id.
async fn last_used(db: &TestDatabase) -> BTreeMap<TokenId, Option<OffsetDateTime>> {
    let query = TokenQuery {
        space_id: space_id(1),
        level: None,
        statuses: StatusFilter::ALL,
        now: epoch(),
        name: None,
        after: None,
        limit: 10_000,
        order: ListOrder::OldestFirst,
    };
    TokenRepository::list(&db.store(), &query)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id(), t.last_used_at()))
        .collect()
}

fn at(seconds: u128) -> OffsetDateTime {
    epoch() + Duration::seconds(i64::try_from(seconds).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_a_thousand_uses_is_one_statement_and_keeps_the_latest_times() {
    let db = seeded().await;
    let store = db.store();

    // Every token once, some twice (the later time counts, in whatever order), and ids that
    // are no token.
    let mut uses: Vec<(TokenId, OffsetDateTime)> =
        (1..=TOKENS).map(|n| (token_id(n), at(n))).collect();
    uses.extend((1..=TOKENS).step_by(10).map(|n| (token_id(n), at(n + 5))));
    uses.extend((1..=TOKENS).step_by(7).map(|n| (token_id(n), at(1))));
    uses.extend((1..=20).map(|n| (token_id(TOKENS + n), at(n))));
    uses.reverse();
    store.record_uses(&as_uses(&uses)).await.unwrap();
    assert_eq!(
        update_statements(&db).await,
        1,
        "one statement for the batch"
    );

    let stored = last_used(&db).await;
    assert_eq!(stored.len(), usize::try_from(TOKENS).unwrap());
    for n in 1..=TOKENS {
        let expected = if n % 10 == 1 { at(n + 5) } else { at(n) };
        assert_eq!(stored[&token_id(n)], Some(expected), "token {n}");
    }

    // An older batch moves nothing back; an empty one runs no statement at all.
    let older: Vec<_> = (1..=TOKENS).map(|n| (token_id(n), epoch())).collect();
    store.record_uses(&as_uses(&older)).await.unwrap();
    store.record_uses(&[]).await.unwrap();
    assert_eq!(update_statements(&db).await, 2);
    assert_eq!(last_used(&db).await, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_flushing_overlapping_batches_at_once_neither_deadlock_nor_lose_the_latest() {
    let db = seeded().await;
    // Four "nodes", each on a connection of its own, flush the same tokens at once, half of them in
    // ascending and half in descending order, with times of their own. Small batches are
    // planned as index lookups in the batch's order, large ones as a hash join: both must lock
    // in one order.
    let nodes: u128 = 4;
    let rounds: u128 = 10;
    for batch in [50, TOKENS] {
        let mut tasks = JoinSet::new();
        for node in 0..nodes {
            let store = db.store();
            tasks.spawn(async move {
                for round in 0..rounds {
                    let mut uses: Vec<_> = (1..=batch)
                        .map(|n| (token_id(n), at(batch * 10 + round * 10 + node)))
                        .collect();
                    if node % 2 == 1 {
                        uses.reverse();
                    }
                    store.record_uses(&as_uses(&uses)).await.unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let latest = at(batch * 10 + (rounds - 1) * 10 + nodes - 1);
        let stored = last_used(&db).await;
        for n in 1..=batch {
            assert_eq!(
                stored[&token_id(n)],
                Some(latest),
                "token {n}, batch {batch}"
            );
        }
    }
}
