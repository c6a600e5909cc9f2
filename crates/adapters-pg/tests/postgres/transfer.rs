//! Export and import on Postgres: the app's transfer contract suite, an import that fails half
//! way and writes nothing, and an import in several batches whose rotation links cross them.

use std::sync::Arc;
use std::time::Instant;

use time::Duration;
use tollgate_app::ports::{ImportError, StoreTransfer};
use tollgate_app::testing::contract::Repositories;
use tollgate_app::testing::fixtures::{edited, epoch, event, space, space_id, token, token_id};
use tollgate_app::testing::transfer::TransferStore;
use tollgate_app::{StoreContents, StoreError, TransferService};
use tollgate_domain::{ApiToken, AuditAction, SecretHash, TokenLevel};
use tollgate_pg::testing::TestDatabase;

async fn fresh() -> TransferStore {
    let store = TestDatabase::create().await.store();
    TransferStore {
        transfer: Arc::new(store.clone()),
        repositories: Repositories {
            spaces: Arc::new(store.clone()),
            tokens: Arc::new(store.clone()),
            events: Arc::new(store),
        },
    }
}

tollgate_app::transfer_contract_tests!(fresh);

async fn count(db: &TestDatabase, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_import_that_fails_half_way_writes_nothing_and_never_shows_the_hash() {
    let db = TestDatabase::create().await;
    let store = db.store();
    // The domain takes any hash; the schema wants argon2id. The spaces are written before the
    // tokens, so this import fails after writing some rows.
    let not_argon = "$2b$12$bcrypt-hash-do-not-print-me";
    let bad = edited(&token(2, space_id(1), TokenLevel::Client), |t| {
        t.secret_hash = SecretHash::new(not_argon.into());
    });
    let first = token(1, space_id(1), TokenLevel::Client);
    let contents = StoreContents::new(
        vec![space(1), space(2)],
        vec![first.clone(), bad],
        vec![event(1, AuditAction::TokenCreated, &first)],
    )
    .unwrap();
    let err = store.import(&contents).await.unwrap_err();
    assert!(
        matches!(err, ImportError::Store(StoreError::Failed(_))),
        "{err:?}"
    );
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("do-not-print-me"), "{shown}");
    for table in ["spaces", "api_tokens", "audit_events"] {
        assert_eq!(count(&db, table).await, 0, "{table}");
    }
    // Nothing was left locked or half written: a good import succeeds now.
    let good = StoreContents::new(vec![space(1)], vec![first], vec![]).unwrap();
    store.import(&good).await.unwrap();
    assert_eq!(count(&db, "api_tokens").await, 1);
}

#[tokio::test]
async fn an_import_of_several_batches_keeps_rotation_links_that_cross_them() {
    const TOKENS: u128 = 12_000;
    const HALF: u128 = TOKENS / 2;
    // Token n of the first half was rotated into token n + HALF, in a later batch; every
    // third one of those was then revoked.
    let grace = tollgate_domain::GracePeriod::from_seconds(60).unwrap();
    let tokens: Vec<ApiToken> = (1..=TOKENS)
        .map(|n| {
            let space = space_id(n % 7 + 1);
            if n <= HALF {
                let mut old = token(n, space, TokenLevel::Client);
                old.rotate(token_id(n + HALF), epoch(), grace).unwrap();
                if n % 3 == 0 {
                    old.revoke(epoch() + Duration::seconds(1));
                }
                old
            } else {
                let old_space = space_id((n - HALF) % 7 + 1);
                edited(&token(n, old_space, TokenLevel::Admin), |t| {
                    t.replaces = Some(token_id(n - HALF));
                    t.last_used_at = Some(epoch() + Duration::minutes(1));
                })
            }
        })
        .collect();
    let events = tokens
        .iter()
        .zip(1..)
        .map(|(t, n)| event(n, AuditAction::TokenCreated, t))
        .collect();
    let contents = StoreContents::new((1..=7).map(space).collect(), tokens, events).unwrap();

    let db = TestDatabase::create().await;
    let store = db.store();
    let started = Instant::now();
    store.import(&contents).await.unwrap();
    eprintln!("imported {} in {:?}", contents.counts(), started.elapsed());

    let service = TransferService::new(Arc::new(store));
    let mut exported = Vec::new();
    let mut exported_events = 0;
    service
        .export(|record| {
            match record {
                tollgate_app::ExportRecord::Token(t) => exported.push(t.clone()),
                tollgate_app::ExportRecord::Event(_) => exported_events += 1,
                tollgate_app::ExportRecord::Space(_) => {}
            }
            Ok::<(), std::io::Error>(())
        })
        .await
        .unwrap();
    assert_eq!(exported, contents.tokens());
    assert_eq!(exported_events, contents.events().len());
}
