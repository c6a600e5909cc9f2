//! Rotation on Postgres: all or nothing, one winner against concurrent writers, and the links
//! between the two tokens kept sound when rows are deleted by hand.

use time::Duration;
use tokio::task::JoinSet;
use tollgate_app::ports::{
    AuditRepository, RotateOutcome, Rotation, SpaceRepository, TokenRepository,
};
use tollgate_app::testing::fixtures::{
    edited, epoch, event, instance_token, space, space_id, token, token_id,
};
use tollgate_app::StoreError;
use tollgate_domain::{AuditAction, AuditEvent, TokenLevel, TokenScope, TokenStatus};
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::PgStore;

use tollgate_app::testing::fixtures::{insert, revoke, rotation};

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_rotation_that_fails_changes_nothing() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let old = edited(&token(1, space_id(1), TokenLevel::Client), |t| {
        t.expires_at = Some(epoch() + Duration::days(30));
    });
    assert!(insert(&store, &old).await.unwrap());
    assert!(insert(&store, &token(2, space_id(1), TokenLevel::Client))
        .await
        .unwrap());

    // The replacement's id is taken: the new row fails, after the old one was locked.
    let err = store
        .rotate(&rotation(1, 2, epoch(), Duration::hours(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    assert!(format!("{err:?}").contains("exists already"), "{err:?}");
    assert_eq!(
        TokenRepository::get(&store, token_id(1)).await.unwrap(),
        Some(old.clone()),
        "the old token is untouched"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE action = 'token.rotated'"
        )
        .await,
        0
    );

    // The rotation's event clashes with a recorded one: the new token is not kept either.
    let mut clashing = rotation(1, 3, epoch(), Duration::hours(1));
    let recorded = event(77, AuditAction::TokenRejected, &old);
    AuditRepository::record(&store, &recorded).await.unwrap();
    clashing.event.id = recorded.id;
    store.rotate(&clashing).await.unwrap_err();
    assert_eq!(
        TokenRepository::get(&store, token_id(3)).await.unwrap(),
        None
    );
    assert_eq!(
        TokenRepository::get(&store, token_id(1)).await.unwrap(),
        Some(old),
        "the old token is untouched"
    );

    // The connection that failed went back to the pool clean: the next rotation works.
    let outcome = store
        .rotate(&rotation(1, 4, epoch(), Duration::hours(1)))
        .await
        .unwrap();
    assert!(matches!(outcome, RotateOutcome::Rotated(_)), "{outcome:?}");
}

#[tokio::test]
async fn an_instance_admin_token_rotates_with_an_event_outside_every_space() {
    let db = TestDatabase::create().await;
    let store = db.store();
    let old = instance_token(1);
    assert!(insert(&store, &old).await.unwrap());
    let base = rotation(1, 2, epoch(), Duration::minutes(5));
    let new_token = edited(&instance_token(2), |t| t.replaces = Some(token_id(1)));
    let instance = Rotation {
        new_token,
        event: AuditEvent {
            space_id: None,
            ..base.event.clone()
        },
        ..base
    };
    let RotateOutcome::Rotated(rotated) = store.rotate(&instance).await.unwrap() else {
        panic!("an active instance token rotates");
    };
    assert_eq!(rotated.scope(), TokenScope::Instance);
    assert_eq!(rotated.replaced_by(), Some(token_id(2)));
    assert_eq!(rotated.expires_at(), Some(epoch() + Duration::minutes(5)));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE space_id IS NULL AND action = 'token.rotated'"
        )
        .await,
        1
    );
}

/// Rotates token `n` into `n + 1000` while revoking it.
async fn rotate_while_revoking(store: PgStore, n: u128) -> (u128, RotateOutcome, bool) {
    let rotating = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .rotate(&rotation(n, n + 1000, epoch(), Duration::hours(1)))
                .await
                .unwrap()
        })
    };
    let revoked = revoke(&store, token_id(n), space_id(1), epoch())
        .await
        .unwrap()
        .is_some_and(|t| t.revoked_at().is_some());
    (n, rotating.await.unwrap(), revoked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotations_racing_revocations_each_land_whole_in_one_order_or_the_other() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let tokens: u128 = 40;
    for n in 1..=tokens {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    let mut races = JoinSet::new();
    for n in 1..=tokens {
        races.spawn(rotate_while_revoking(store.clone(), n));
    }
    let mut rotations = 0;
    while let Some(race) = races.join_next().await {
        let (n, outcome, revoked) = race.unwrap();
        assert!(revoked, "a revocation always lands");
        match outcome {
            RotateOutcome::Rotated(old) => {
                rotations += 1;
                let new =
                    TokenRepository::get(&store, token_id(old.id().as_uuid().as_u128() + 1000))
                        .await
                        .unwrap();
                assert_eq!(new.and_then(|t| t.replaces()), Some(old.id()));
            }
            RotateOutcome::NotActive(status) => {
                assert_eq!(status, TokenStatus::Revoked);
                let new = TokenRepository::get(&store, token_id(n + 1000))
                    .await
                    .unwrap();
                assert_eq!(new, None, "a refused rotation stores no token");
            }
            RotateOutcome::NotFound => panic!("every token exists"),
        }
    }
    // Every old token is revoked; the log holds one revocation per token and one rotation per
    // replacement stored.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL"
        )
        .await,
        40
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE action = 'token.revoked'"
        )
        .await,
        40
    );
    let replacements = count(
        &db,
        "SELECT count(*) FROM api_tokens WHERE replaces IS NOT NULL",
    )
    .await;
    assert_eq!(replacements, rotations);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE action = 'token.rotated'"
        )
        .await,
        rotations
    );
}

#[tokio::test]
async fn deleting_rotated_tokens_by_hand_keeps_the_links_sound() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in [1, 3] {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    for (old, new) in [(1, 2), (3, 4)] {
        let outcome = store
            .rotate(&rotation(old, new, epoch(), Duration::ZERO))
            .await
            .unwrap();
        assert!(matches!(outcome, RotateOutcome::Rotated(_)), "{outcome:?}");
    }
    let delete = |ids: &[u128]| {
        let ids: Vec<String> = ids.iter().map(|n| format!("'{}'", token_id(*n))).collect();
        let pool = db.pool().clone();
        let sql = format!("DELETE FROM api_tokens WHERE id IN ({})", ids.join(", "));
        async move { sqlx::query(&sql).execute(&pool).await.map(drop) }
    };

    // A replacement cannot go while the token it replaced points at it...
    let err = delete(&[2]).await.unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("api_tokens_replaced_by_fkey")
    );
    // ...but both can, at once; and purging an old token leaves its replacement whole.
    delete(&[1, 2]).await.unwrap();
    delete(&[3]).await.unwrap();
    let survivor = TokenRepository::get(&store, token_id(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(survivor.replaces(), None);
    // The log keeps what happened to the deleted tokens.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE action = 'token.rotated'"
        )
        .await,
        2
    );
}
