//! The revocation feed: a change that can end a token's validity early (revocation, rotation,
//! a shortened expiry), by any writer, reaches every listener; a lost listening connection is
//! reported, then re-established.

use std::time::Duration;

use tollgate_app::ports::{
    RevocationEvent, RevocationFeed, RotateOutcome, SpaceRepository, TokenRepository, TokenUse,
};
use tollgate_app::testing::fixtures::{epoch, space, space_id, token, token_id};
use tollgate_domain::TokenLevel;
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::PgRevocationFeed;

use tollgate_app::testing::fixtures::{insert, revoke, rotation};

async fn next(feed: &mut PgRevocationFeed) -> RevocationEvent {
    tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("the feed reported nothing within 10 s")
}

/// Two feeds on `db`, each past its opening `Listening`.
async fn listening(db: &TestDatabase) -> [PgRevocationFeed; 2] {
    let mut feeds = [
        PgRevocationFeed::new(db.pool()),
        PgRevocationFeed::new(db.pool()),
    ];
    for feed in &mut feeds {
        assert_eq!(
            next(feed).await,
            RevocationEvent::Listening,
            "a new feed starts by saying it knows nothing, and that nothing is wrong"
        );
    }
    feeds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_every_listener_once_committed() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap();
    let mut feeds = listening(&db).await;
    revoke(&store, token_id(1), space_id(1), epoch())
        .await
        .unwrap();
    // Revoking again changes nothing and notifies nothing; a raw UPDATE by hand does notify.
    revoke(&store, token_id(1), space_id(1), epoch())
        .await
        .unwrap();
    sqlx::query("INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash) SELECT '00000000-0000-0000-0000-000000000002', space_id, level, name, created_at, created_by, secret_hash FROM api_tokens WHERE id = '00000000-0000-0000-0000-000000000001'")
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
async fn a_rotation_or_a_changed_expiry_reaches_every_listener_and_last_used_does_not() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in [1, 3] {
        insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap();
    }
    let mut feeds = listening(&db).await;

    // Writes that leave validity alone notify nothing: a new token (the rotation's replacement
    // included), a use, an expiry set to what it is.
    store
        .record_uses(&[
            TokenUse::new(token_id(1), epoch(), None),
            TokenUse::new(token_id(3), epoch(), None),
        ])
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = expires_at WHERE id = $1")
        .bind(token_id(3).as_uuid())
        .execute(db.pool())
        .await
        .unwrap();
    let outcome = store
        .rotate(&rotation(1, 2, epoch(), time::Duration::hours(1)))
        .await
        .unwrap();
    assert!(matches!(outcome, RotateOutcome::Rotated(_)), "{outcome:?}");
    // A shortened expiry by hand notifies too.
    sqlx::query("UPDATE api_tokens SET expires_at = now() WHERE id = $1")
        .bind(token_id(3).as_uuid())
        .execute(db.pool())
        .await
        .unwrap();
    for feed in &mut feeds {
        assert_eq!(
            next(feed).await,
            RevocationEvent::Revoked(token_id(1)),
            "the rotated token, and nothing before it"
        );
        assert_eq!(next(feed).await, RevocationEvent::Revoked(token_id(3)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listening_connection_is_reported_and_listening_resumes() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap();
    let mut feed = PgRevocationFeed::new(db.pool()).with_retry(Duration::from_millis(50));
    assert_eq!(next(&mut feed).await, RevocationEvent::Listening);

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
        RevocationEvent::Listening,
        "and that it listens again"
    );

    revoke(&store, token_id(1), space_id(1), epoch())
        .await
        .unwrap();
    assert_eq!(next(&mut feed).await, RevocationEvent::Revoked(token_id(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_and_a_resumption_each_reach_every_listener() {
    use tollgate_app::ports::{SuspendOutcome, Suspension};
    use tollgate_app::testing::fixtures::event;
    use tollgate_domain::AuditAction;

    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let target = token(1, space_id(1), TokenLevel::Client);
    insert(&store, &target).await.unwrap();
    let mut feeds = listening(&db).await;
    for (n, suspension, action) in [
        (50, Suspension::Suspend, AuditAction::TokenSuspended),
        // Suspending again changes nothing and notifies nothing.
        (51, Suspension::Suspend, AuditAction::TokenSuspended),
        (52, Suspension::Resume, AuditAction::TokenResumed),
    ] {
        let outcome = store
            .set_suspended(token_id(1), suspension, epoch(), &event(n, action, &target))
            .await
            .unwrap();
        assert!(
            matches!(outcome, SuspendOutcome::Done { .. }),
            "{outcome:?}"
        );
    }
    // A revocation after both: had the repeated suspension notified, it would come first.
    revoke(&store, token_id(1), space_id(1), epoch())
        .await
        .unwrap();
    for feed in &mut feeds {
        for what in ["suspension", "resumption", "revocation"] {
            assert_eq!(
                next(feed).await,
                RevocationEvent::Revoked(token_id(1)),
                "{what}"
            );
        }
    }
}
