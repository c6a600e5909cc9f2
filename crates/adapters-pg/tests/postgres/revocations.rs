//! The revocation feed: a revocation by any writer reaches every listener, and a lost listening
//! connection is reported, then re-established.

use std::time::Duration;

use tollgate_app::ports::{RevocationEvent, RevocationFeed, SpaceRepository, TokenRepository};
use tollgate_app::testing::fixtures::{epoch, space, space_id, token, token_id};
use tollgate_domain::TokenLevel;
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::PgRevocationFeed;

async fn next(feed: &mut PgRevocationFeed) -> RevocationEvent {
    tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("the feed reported nothing within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_every_listener_once_committed() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    TokenRepository::insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap();
    let mut feeds = [
        PgRevocationFeed::new(db.pool().clone()),
        PgRevocationFeed::new(db.pool().clone()),
    ];
    for feed in &mut feeds {
        assert_eq!(
            next(feed).await,
            RevocationEvent::Lost,
            "a new feed starts by saying it knows nothing"
        );
    }
    store.revoke(token_id(1), epoch()).await.unwrap();
    // Revoking again changes nothing and notifies nothing; a raw UPDATE by hand does notify.
    store.revoke(token_id(1), epoch()).await.unwrap();
    sqlx::query("INSERT INTO api_tokens SELECT '00000000-0000-0000-0000-000000000002', space_id, level, name, created_at, created_by, expires_at, last_used_at, NULL, secret_hash FROM api_tokens WHERE id = '00000000-0000-0000-0000-000000000001'")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = '00000000-0000-0000-0000-000000000002'")
        .execute(db.pool())
        .await
        .unwrap();
    for feed in &mut feeds {
        assert_eq!(next(feed).await, RevocationEvent::Revoked(token_id(1)));
        assert_eq!(next(feed).await, RevocationEvent::Revoked(token_id(2)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listening_connection_is_reported_and_listening_resumes() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    TokenRepository::insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap();
    let mut feed = PgRevocationFeed::new(db.pool().clone()).with_retry(Duration::from_millis(50));
    assert_eq!(next(&mut feed).await, RevocationEvent::Lost);

    let terminated: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(terminated, 1, "exactly the listener's session");
    assert_eq!(
        next(&mut feed).await,
        RevocationEvent::Lost,
        "the loss is reported"
    );
    assert_eq!(
        next(&mut feed).await,
        RevocationEvent::Lost,
        "and once more when listening again"
    );

    store.revoke(token_id(1), epoch()).await.unwrap();
    assert_eq!(next(&mut feed).await, RevocationEvent::Revoked(token_id(1)));
}
