//! Opening a store, migrating, closing; and the test-database helper itself.

use std::time::Duration;

use sqlx::ConnectOptions;
use tollgate_app::ports::{SpaceRepository, StoreHealth, TokenRepository};
use tollgate_app::testing::fixtures::{space, space_id};
use tollgate_pg::testing::{drop_stale_test_databases, TestDatabase, TEST_DATABASE_PREFIX};
use tollgate_pg::{ConnectError, MigrateError, PgOptions, PgStore};
use uuid::Uuid;

/// A local port where nothing listens.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn quick() -> PgOptions {
    PgOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
    }
}

async fn database_exists(name: &str) -> bool {
    let admin = PgStore::connect(&TestDatabase::admin_url(), quick())
        .await
        .unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin.pool())
        .await
        .unwrap()
}

#[test]
fn options_default_to_ten_connections_and_three_seconds() {
    assert_eq!(
        PgOptions::default(),
        PgOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3)
        }
    );
}

#[tokio::test]
async fn a_store_connects_by_url_migrates_idempotently_and_answers() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(db.url(), PgOptions::default())
        .await
        .unwrap();
    // TestDatabase migrated it already: running again changes nothing and succeeds.
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.check().await.unwrap();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    assert_eq!(
        SpaceRepository::get(&store, space_id(1)).await.unwrap(),
        Some(space(1))
    );
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        applied,
        i64::try_from(tollgate_pg::MIGRATOR.iter().count()).unwrap()
    );
    let application: String = sqlx::query_scalar("SELECT current_setting('application_name')")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(application, "tollgate");

    // A lazy store connects on first use.
    let lazy = PgStore::connect_lazy(db.url(), PgOptions::default()).unwrap();
    assert_eq!(
        SpaceRepository::list(&lazy, None, 10).await.unwrap(),
        vec![space(1)]
    );
}

#[tokio::test]
async fn connecting_to_a_server_that_is_down_fails_as_unavailable_instead_of_hanging() {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        closed_port().await
    );
    // The bound only turns a hang into a clear failure; how fast it fails is not asserted.
    let err = tokio::time::timeout(Duration::from_secs(60), PgStore::connect(&url, quick()))
        .await
        .expect("connecting to a closed port hung instead of failing")
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");

    // A lazy store starts anyway, and reports the outage from its methods.
    let lazy = PgStore::connect_lazy(&url, quick()).unwrap();
    assert!(lazy.check().await.unwrap_err().is_unavailable());
    assert!(matches!(
        lazy.migrate().await,
        Err(MigrateError::Unavailable(_))
    ));
}

#[tokio::test]
async fn an_unknown_database_is_a_failure_not_an_outage() {
    let url = TestDatabase::create()
        .await
        .connect_options()
        .database("tollgate_no_such_database")
        .to_url_lossy()
        .to_string();
    let err = PgStore::connect(&url, quick()).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::Connect(ref e) if !e.is_unavailable()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused_without_repeating_it() {
    for url in [
        "postgres://tollgate:s3cret-password@db:not-a-port/tollgate",
        "mysql//tollgate:s3cret-password@db",
    ] {
        let err = PgStore::connect_lazy(url, PgOptions::default()).unwrap_err();
        assert!(matches!(err, ConnectError::InvalidUrl(_)), "{err:?}");
        let mut text = format!("{err:?}");
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = source {
            text.push_str(&format!(" / {e}"));
            source = e.source();
        }
        assert!(!text.contains("s3cret"), "{text}");
    }
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(db.url(), quick()).await.unwrap();
    store.close().await;
    assert!(store.check().await.unwrap_err().is_unavailable());
    assert!(store
        .any_instance_admin()
        .await
        .unwrap_err()
        .is_unavailable());
}

#[tokio::test]
#[should_panic(expected = "pg_ctlcluster --skip-systemctl-redirect 15 main start")]
async fn without_a_server_a_test_database_panics_saying_how_to_start_one() {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        closed_port().await
    );
    TestDatabase::create_on(&url).await;
}

#[tokio::test]
async fn a_test_database_is_fresh_and_dropped_with_its_last_handle() {
    let db = TestDatabase::create().await;
    let name = db.name().to_owned();
    assert!(name.starts_with(TEST_DATABASE_PREFIX), "{name}");
    assert_eq!(
        db.store().pool().connect_options().get_database(),
        Some(name.as_str())
    );
    assert!(!TokenRepository::any_instance_admin(&db.store())
        .await
        .unwrap());

    let store = db.store();
    drop(db);
    assert!(database_exists(&name).await, "the store still holds it");
    store.check().await.unwrap();
    drop(store);
    assert!(!database_exists(&name).await, "{name} should be dropped");
}

#[tokio::test]
async fn stale_test_databases_are_dropped_and_fresh_ones_kept() {
    let admin_url = TestDatabase::admin_url();
    let admin = PgStore::connect(&admin_url, quick()).await.unwrap();
    let two_hours_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .saturating_sub(Duration::from_secs(2 * 3600));
    let old_id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        two_hours_ago.as_secs(),
        0,
    ));
    let stale = format!("{TEST_DATABASE_PREFIX}{}", old_id.simple());
    sqlx::query(&format!(r#"CREATE DATABASE "{stale}""#))
        .execute(admin.pool())
        .await
        .unwrap();
    let fresh = TestDatabase::create().await;

    let dropped = drop_stale_test_databases(&admin_url, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(dropped.contains(&stale), "{dropped:?}");
    assert!(
        !dropped.iter().any(|name| name == fresh.name()),
        "{dropped:?}"
    );
    assert!(!database_exists(&stale).await);
    fresh.store().check().await.unwrap();
}
