//! Postgres going away under a running server: readiness and API calls answer 503 problem+json
//! `store_unavailable`, nothing panics, nothing is half-written, and the server recovers by
//! itself when Postgres is back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_pg::testing::{postgres_address, ProxyMode, TcpProxy, TestDatabase};

use crate::support::{spawn_app_with, App, Store};

/// A server on a fresh database reached through a proxy that the test can cut.
async fn behind_a_proxy(extra_env: &[(&str, &str)]) -> (TestDatabase, TcpProxy, App) {
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

/// Waits, bounded, until the server is ready again by itself.
async fn wait_until_ready(app: &App) {
    let started = Instant::now();
    while app.call(Method::GET, "/readyz", None, None).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_the_server_recovers_by_itself() {
    let (_db, mut proxy, app) = behind_a_proxy(&[]).await;
    let space = app.create_space("acme").await;
    let (_, cached) = app.create_token(&app.admin, &space, "client").await;
    assert_eq!(app.get("/v1/whoami", &cached).await.status, StatusCode::OK);
    let (_, never_used) = app.create_token(&app.admin, &space, "client").await;

    proxy.stop().await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_the_database_mid_traffic_leaves_no_half_written_token() {
    // Cheap hashes: many creates per second make the cut land mid-write.
    let cheap = [
        ("TOLLGATE_ARGON2_MEMORY_KIB", "64"),
        ("TOLLGATE_ARGON2_ITERATIONS", "1"),
    ];
    let (_db, mut proxy, app) = behind_a_proxy(&cheap).await;
    let app = std::sync::Arc::new(app);
    let space = app.create_space("acme").await;
    let tokens = format!("/v1/spaces/{space}/tokens");

    let stop_at = Instant::now() + Duration::from_secs(4);
    let writers = (0..6).map(|w| {
        let (app, tokens) = (app.clone(), tokens.clone());
        tokio::spawn(async move {
            let mut answered = Vec::new();
            let mut n = 0;
            while Instant::now() < stop_at {
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
                    StatusCode::CREATED => answered.push((reply.str("id"), reply.str("token"))),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert_eq!(reply.body["code"], "store_unavailable", "{reply:?}");
                    }
                    other => panic!("a create answered {other}: {reply:?}"),
                }
            }
            answered
        })
    });
    let writers: Vec<_> = writers.collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restart(ProxyMode::Forward).await;
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
