//! Postgres going away under a running server: readiness and API calls answer 503 problem+json
//! `store_unavailable`, nothing panics, nothing is half-written, and the server recovers by
//! itself when Postgres is back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::task::JoinHandle;
use tollgate_pg::testing::{postgres_address, ProxyMode, TcpProxy, TestDatabase};

use crate::support::{eventually, spawn_app_with, App, Reply, Store, PATIENCE};

/// A server on a fresh database reached through a proxy that the test can cut.
pub(crate) async fn behind_a_proxy(extra_env: &[(&str, &str)]) -> (TestDatabase, TcpProxy, App) {
    let db = TestDatabase::create().await;
    let proxy = TcpProxy::start(postgres_address().await).await;
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        proxy.port(),
        db.name()
    );
    let mut env = vec![
        ("DATABASE_URL", url.as_str()),
        ("TOLLGATE_DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
    ];
    env.extend_from_slice(extra_env);
    let app = spawn_app_with(Store::Memory, &env).await;
    (db, proxy, app)
}

/// Waits until the server is ready again by itself.
async fn wait_until_ready(app: &App) {
    eventually(
        "the server to recover (GET /readyz 200)",
        PATIENCE,
        async || (readyz(app).await.status == StatusCode::OK).then_some(()),
    )
    .await;
}

/// Waits until the server notices that the database is gone, and returns its first not-ready
/// answer. `TcpProxy::stop` returns once its listener is closed; the connections it proxied
/// close a moment later, as their aborted tasks are dropped, so one `/readyz` at once might
/// still get through on a pooled connection.
pub(crate) async fn wait_until_not_ready(app: &App) -> Reply {
    eventually(
        "the server to notice the outage (GET /readyz not 200)",
        PATIENCE,
        async || {
            let reply = readyz(app).await;
            (reply.status != StatusCode::OK).then_some(reply)
        },
    )
    .await
}

async fn readyz(app: &App) -> Reply {
    app.call(Method::GET, "/readyz", None, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_the_server_recovers_by_itself() {
    let (_db, mut proxy, app) = behind_a_proxy(&[]).await;
    let space = app.create_space("acme").await;
    let (_, cached) = app.create_token(&app.admin, &space, "client").await;
    assert_eq!(app.get("/v1/whoami", &cached).await.status, StatusCode::OK);
    let (_, never_used) = app.create_token(&app.admin, &space, "client").await;

    proxy.stop().await;
    let ready = wait_until_not_ready(&app).await;
    ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    let tokens = format!("/v1/spaces/{space}/tokens");
    app.get(&tokens, &app.admin)
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    app.post(
        &tokens,
        &app.admin,
        json!({ "name": "during the outage", "level": "client" }),
    )
    .await
    .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    // A token this node never verified cannot be checked: 503, never a false 401.
    let reply = app.get("/v1/whoami", &never_used).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    // One it verified before is served from its cache until the node notices that its
    // revocation listener is gone, then gets 503 (nothing can be revoked meanwhile: revoking
    // needs the database). Never a 401 either way.
    let reply = app.get("/v1/whoami", &cached).await;
    assert!(
        reply.status == StatusCode::OK || reply.status == StatusCode::SERVICE_UNAVAILABLE,
        "{reply:?}"
    );

    proxy.restart(ProxyMode::Forward).await;
    wait_until_ready(&app).await;
    assert_eq!(
        app.get("/v1/whoami", &never_used).await.status,
        StatusCode::OK
    );
    // The create refused during the outage left nothing behind.
    let names: Vec<String> = app.get(&tokens, &app.admin).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["client token", "client token"]);
    assert!(!app.logs().contains("panicked"), "{}", app.logs());
}

/// How many tasks create tokens at once in `cutting_the_database_mid_traffic_...`.
const WRITERS: usize = 6;

/// What the writers of `cutting_the_database_mid_traffic_leaves_no_half_written_token` have
/// seen so far, for the test to wait on.
#[derive(Default)]
struct Tally {
    /// Creates answered 201.
    created: AtomicUsize,
    /// Writers that have had a create answered 503 at least once.
    writers_refused: AtomicUsize,
    /// Set by the test: the writers finish their request in flight and stop.
    stop: AtomicBool,
}

/// Waits until `done(tally)`, failing at once if a writer stopped by itself (it panicked at an
/// unexpected answer; its message is above).
async fn wait_for_writers<T>(
    what: &str,
    writers: &[JoinHandle<T>],
    tally: &Tally,
    done: impl Fn(&Tally) -> bool,
) {
    eventually(what, PATIENCE, async || {
        assert!(
            !writers.iter().any(JoinHandle::is_finished),
            "a writer stopped while the test waited for {what}; its panic is above"
        );
        done(tally).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_the_database_mid_traffic_leaves_no_half_written_token() {
    // Cheap hashes: many creates per second make the cut land mid-write.
    let cheap = [
        ("TOLLGATE_ARGON2_MEMORY_KIB", "64"),
        ("TOLLGATE_ARGON2_ITERATIONS", "1"),
    ];
    let (_db, mut proxy, app) = behind_a_proxy(&cheap).await;
    let app = Arc::new(app);
    let space = app.create_space("acme").await;
    let tokens = format!("/v1/spaces/{space}/tokens");

    let tally = Arc::new(Tally::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (app, tokens, tally) = (app.clone(), tokens.clone(), tally.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new();
                let mut refused = false;
                let mut n = 0;
                while !tally.stop.load(Ordering::Relaxed) {
                    let name = format!("w{w}-{n}");
                    n += 1;
                    let reply = app
                        .post(
                            &tokens,
                            &app.admin,
                            json!({ "name": name, "level": "client" }),
                        )
                        .await;
                    match reply.status {
                        StatusCode::CREATED => {
                            answered.push((reply.str("id"), reply.str("token")));
                            tally.created.fetch_add(1, Ordering::Relaxed);
                        }
                        StatusCode::SERVICE_UNAVAILABLE => {
                            assert_eq!(reply.body["code"], "store_unavailable", "{reply:?}");
                            if !refused {
                                refused = true;
                                tally.writers_refused.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        other => panic!("a create answered {other}: {reply:?}"),
                    }
                }
                answered
            })
        })
        .collect();
    // The cut comes once the writers are in full swing, a few creates each...
    wait_for_writers("creates to succeed before the cut", &writers, &tally, |t| {
        t.created.load(Ordering::Relaxed) >= 5 * WRITERS
    })
    .await;
    proxy.stop().await;
    // ...and lasts until every writer has been refused (its create failed mid-write or timed
    // out waiting for a connection)...
    wait_for_writers(
        "every writer to be refused 503 during the outage",
        &writers,
        &tally,
        |t| t.writers_refused.load(Ordering::Relaxed) == WRITERS,
    )
    .await;
    proxy.restart(ProxyMode::Forward).await;
    // ...and the writers keep writing through the recovery, until creates succeed again.
    let created_before_the_restart = tally.created.load(Ordering::Relaxed);
    wait_for_writers(
        "a create to succeed after the outage",
        &writers,
        &tally,
        |t| t.created.load(Ordering::Relaxed) > created_before_the_restart,
    )
    .await;
    tally.stop.store(true, Ordering::Relaxed);
    let mut created = Vec::new();
    for writer in writers {
        created.extend(writer.await.unwrap());
    }

    wait_until_ready(&app).await;
    assert!(!created.is_empty(), "some creates succeeded before the cut");
    // Every token answered 201 exists and works.
    for (id, token) in &created {
        assert_eq!(
            app.get(&format!("{tokens}/{id}"), &app.admin).await.status,
            StatusCode::OK
        );
        assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
    // Every stored token is whole: it has its creation event (written in the same transaction).
    let mut stored = Vec::new();
    let mut path = format!("{tokens}?status=all&limit=100");
    loop {
        let page = app.get(&path, &app.admin).await;
        stored.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("{tokens}?status=all&limit=100&cursor={cursor}"),
            None => break,
        }
    }
    let mut logged = std::collections::HashSet::new();
    let mut path = format!("/v1/spaces/{space}/events?limit=100");
    loop {
        let page = app.get(&path, &app.admin).await;
        for event in page.body["items"].as_array().unwrap() {
            if event["action"] == "token.created" {
                logged.insert(event["token_id"].as_str().unwrap().to_owned());
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/spaces/{space}/events?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    for id in &stored {
        assert!(
            logged.contains(id),
            "token {id} is stored without its creation event"
        );
    }
    assert!(stored.len() >= created.len());
    assert!(!app.logs().contains("panicked"), "{}", app.logs());
}
