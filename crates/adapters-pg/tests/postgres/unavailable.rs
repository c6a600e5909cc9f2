//! Postgres going away: every method answers `StoreError::Unavailable` (so the HTTP layer
//! answers 503 and readiness fails), and the same store works again when Postgres is back.
//!
//! The outage is staged with a TCP proxy between the store and the real server: stopping it
//! cuts every connection and refuses new ones; a "hang-up" mode accepts connections and closes
//! them at once, as a server that is shutting down does; starting it again on the same port
//! ends the outage.

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::ConnectOptions;
use tollgate_app::ports::{
    AuditRepository, ListOrder, SpaceRepository, StatusFilter, StoreHealth, TokenQuery,
    TokenRepository, TokenUse,
};
use tollgate_app::testing::fixtures::{epoch, event, space, space_id, token, token_id};
use tollgate_app::StoreError;
use tollgate_domain::{AuditAction, TokenLevel};
use tollgate_pg::testing::{postgres_address, ProxyMode, TcpProxy, TestDatabase};
use tollgate_pg::{PgOptions, PgStore};

use tollgate_app::testing::fixtures::{insert, revoke, rotation};

/// Calls every method of the store once, concurrently; `round` keeps written ids apart.
async fn every_method(store: &PgStore, round: u128) -> Vec<(&'static str, Result<(), StoreError>)> {
    let query = TokenQuery {
        space_id: space_id(1),
        level: None,
        statuses: StatusFilter::ALL,
        now: epoch(),
        name: None,
        after: None,
        limit: 10,
        order: ListOrder::OldestFirst,
    };
    let new_space = space(100 + round);
    let new_token = token(100 + round, space_id(1), TokenLevel::Client);
    // Token 2 is active until a round rotates it; later rounds find it rotated (`NotActive`),
    // which is an answer, not a failure.
    let rotated = rotation(2, 10_000 + round, epoch(), time::Duration::ZERO);
    let used = [TokenUse::new(token_id(1), epoch(), None)];
    let rejected = event(20_000 + round, AuditAction::TokenRejected, &new_token);
    let (a, b, c, d, e, f, g, h, i, j, k, l, m) = tokio::join!(
        SpaceRepository::insert(store, &new_space),
        SpaceRepository::get(store, space_id(1)),
        SpaceRepository::list(store, None, 10),
        insert(store, &new_token),
        TokenRepository::get(store, token_id(1)),
        TokenRepository::list(store, &query),
        revoke(store, token_id(1), space_id(1), epoch()),
        store.rotate(&rotated),
        store.record_uses(&used),
        store.any_instance_admin(),
        AuditRepository::record(store, &rejected),
        AuditRepository::list(store, space_id(1), None, 10),
        store.check(),
    );
    vec![
        ("SpaceRepository::insert", a),
        ("SpaceRepository::get", b.map(drop)),
        ("SpaceRepository::list", c.map(drop)),
        ("TokenRepository::insert", d.map(drop)),
        ("TokenRepository::get", e.map(drop)),
        ("TokenRepository::list", f.map(drop)),
        ("TokenRepository::revoke", g.map(drop)),
        ("TokenRepository::rotate", h.map(drop)),
        ("TokenRepository::record_uses", i),
        ("TokenRepository::any_instance_admin", j.map(drop)),
        ("AuditRepository::record", k),
        ("AuditRepository::list", l.map(drop)),
        ("StoreHealth::check", m),
    ]
}

fn assert_all_unavailable(results: Vec<(&'static str, Result<(), StoreError>)>, when: &str) {
    for (method, result) in results {
        match result {
            Err(err) if err.is_unavailable() => {}
            other => panic!("{method} {when}: expected Unavailable, got {other:?}"),
        }
    }
}

/// Retries every method until all succeed, for at most `within`.
async fn assert_recovers(store: &PgStore, round: u128, within: Duration) {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let results = every_method(store, round * 100 + attempt).await;
        let failures: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
        if failures.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < within,
            "the store did not recover within {within:?}: {failures:?}"
        );
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_is_unavailable_while_postgres_is_down_and_the_same_store_recovers() {
    let db = TestDatabase::create().await;
    let seed = db.store();
    SpaceRepository::insert(&seed, &space(1)).await.unwrap();
    for (n, level) in [(1, TokenLevel::Admin), (2, TokenLevel::Client)] {
        assert!(insert(&seed, &token(n, space_id(1), level)).await.unwrap());
    }

    let mut proxy = TcpProxy::start(postgres_address().await).await;
    let url = db
        .connect_options()
        .host("127.0.0.1")
        .port(proxy.port())
        .to_url_lossy()
        .to_string();
    let options = PgOptions {
        max_connections: 3,
        acquire_timeout: Duration::from_secs(1),
    };
    let store = PgStore::connect(&url, options).await.unwrap();
    for (method, result) in every_method(&store, 1).await {
        result.unwrap_or_else(|e| panic!("{method} while up: {e:?}"));
    }

    // Down: connections cut, new ones refused.
    proxy.stop().await;
    let started = Instant::now();
    assert_all_unavailable(every_method(&store, 2).await, "while refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "an outage must fail fast, took {:?}",
        started.elapsed()
    );

    // Back.
    proxy.restart(ProxyMode::Forward).await;
    assert_recovers(&store, 3, Duration::from_secs(20)).await;

    // Down again, as a server shutting down: connections accepted, then closed.
    proxy.restart(ProxyMode::HangUp).await;
    assert_all_unavailable(every_method(&store, 4).await, "while hanging up");

    // Back again; what was written before the outages is all there.
    proxy.restart(ProxyMode::Forward).await;
    assert_recovers(&store, 5, Duration::from_secs(20)).await;
    let revoked = TokenRepository::get(&store, token_id(1)).await.unwrap();
    assert_eq!(revoked.and_then(|t| t.revoked_at()), Some(epoch()));
    let rotated = TokenRepository::get(&store, token_id(2)).await.unwrap();
    assert!(rotated.and_then(|t| t.replaced_by()).is_some());
    assert!(SpaceRepository::get(&store, space_id(101))
        .await
        .unwrap()
        .is_some());
}

/// Ends every other session on the test database, as `pg_terminate_backend` or a failover does.
async fn terminate_sessions(db: &TestDatabase) -> i64 {
    sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn terminated_idle_connections_are_replaced_without_an_error() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(db.url(), PgOptions::default())
        .await
        .unwrap();
    store.check().await.unwrap();
    assert!(terminate_sessions(&db).await >= 1);
    // The pool tests a connection before handing it out and opens a new one instead.
    store.check().await.unwrap();
    assert!(!store.any_instance_admin().await.unwrap());
}

#[tokio::test]
async fn a_connection_terminated_by_the_administrator_is_unavailable_then_replaced() {
    let db = TestDatabase::create().await;
    // Without the test before acquire, the query meets the terminated connection itself.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(db.connect_options())
        .await
        .unwrap();
    let store = PgStore::from_pool(pool);
    store.check().await.unwrap();
    let victim: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // sqlx returns a connection to the pool from a task of its own, after pinging it. Wait
    // until it is idle again: a ping delayed past the termination (on a busy machine) would
    // make the pool quietly replace the connection, and the query below would succeed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.pool().num_idle() == 0 {
        assert!(
            Instant::now() < deadline,
            "the connection did not return to the pool within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(terminate_sessions(&db).await >= 1);
    // Wait until the server has really ended the session (57P01 admin_shutdown, then the
    // socket closes), however slow the machine: a fixed sleep made this test flaky, and so did
    // a bound of 5 s on a machine busy creating and dropping the other tests' databases. The
    // deadline only turns a hang into a clear failure.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let alive: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(victim)
                .fetch_one(db.pool())
                .await
                .unwrap();
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "session {victim} still runs 60 s after pg_terminate_backend"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let err = store.check().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    store.check().await.unwrap();
}
