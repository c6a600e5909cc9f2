//! The change feed: a token change made through another handle on the file (another process,
//! as far as SQLite is concerned) reaches the feed; uses do not.

use std::time::Duration;

use tollgate_app::ports::{
    RevocationEvent, RevocationFeed, SpaceRepository, TokenRepository, TokenUse,
};
use tollgate_app::testing::fixtures::{epoch, insert, revoke, space, space_id, token, token_id};
use tollgate_domain::TokenLevel;
use tollgate_sqlite::testing::TestFile;
use tollgate_sqlite::SqliteChangeFeed;

/// Generous: it only bounds a hang.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_revocation_by_another_handle_reaches_the_feed_and_uses_do_not() {
    let file = TestFile::create().await;
    let server = file.open().await.lock_for_serving().unwrap();
    SpaceRepository::insert(&server, &space(1)).await.unwrap();
    for n in [1, 2] {
        assert!(insert(&server, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    let mut feed = SqliteChangeFeed::new(&server).await.unwrap();

    // Another handle, as a CLI command would open the file: a use, then a revocation.
    let other = file.open().await;
    other
        .record_uses(&[TokenUse::new(token_id(1), epoch(), None)])
        .await
        .unwrap();
    revoke(&other, token_id(2), space_id(1), epoch())
        .await
        .unwrap()
        .expect("token 2 exists");

    // A third change, after both: if the use had been reported, it would come before this.
    revoke(&other, token_id(1), space_id(1), epoch())
        .await
        .unwrap()
        .expect("token 1 exists");
    for expected in [token_id(2), token_id(1)] {
        let event = tokio::time::timeout(PATIENCE, feed.next())
            .await
            .expect("the change reached the feed");
        assert_eq!(
            event,
            RevocationEvent::Revoked(expected),
            "the use is no change"
        );
    }
}

#[tokio::test]
async fn a_suspension_and_a_resumption_by_another_handle_reach_the_feed() {
    use tollgate_app::ports::Suspension;
    use tollgate_app::testing::fixtures::event;
    use tollgate_domain::AuditAction;

    let file = TestFile::create().await;
    let server = file.open().await.lock_for_serving().unwrap();
    SpaceRepository::insert(&server, &space(1)).await.unwrap();
    let target = token(1, space_id(1), TokenLevel::Client);
    assert!(insert(&server, &target).await.unwrap());
    let mut feed = SqliteChangeFeed::new(&server).await.unwrap();

    let other = file.open().await;
    for (n, suspension, action) in [
        (50, Suspension::Suspend, AuditAction::TokenSuspended),
        (51, Suspension::Resume, AuditAction::TokenResumed),
    ] {
        other
            .set_suspended(token_id(1), suspension, epoch(), &event(n, action, &target))
            .await
            .unwrap();
    }
    for what in ["suspension", "resumption"] {
        let event = tokio::time::timeout(PATIENCE, feed.next())
            .await
            .expect("the change reached the feed");
        assert_eq!(event, RevocationEvent::Revoked(token_id(1)), "{what}");
    }
}

#[tokio::test]
async fn changes_made_before_the_feed_began_are_not_reported_and_read_ones_are_pruned() {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in 1..=3 {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    revoke(&store, token_id(1), space_id(1), epoch())
        .await
        .unwrap();
    let mut feed = SqliteChangeFeed::new(&store).await.unwrap();
    revoke(&store, token_id(3), space_id(1), epoch())
        .await
        .unwrap();
    let event = tokio::time::timeout(PATIENCE, feed.next()).await.unwrap();
    assert_eq!(event, RevocationEvent::Revoked(token_id(3)));

    let mut connection = sqlx::Connection::connect(&file.url()).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM token_changes")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(left, 0, "what the feed read is deleted");
    let _: &sqlx::SqliteConnection = &connection;
}
