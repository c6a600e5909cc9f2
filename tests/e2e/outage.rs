//! Postgres going away under a running server: readiness and API calls answer 503 problem+json
//! `store_unavailable`, nothing panics, nothing is half-written, and the server recovers by
//! itself when Postgres is back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_pg::testing::{postgres_address, ProxyMode, TcpProxy, TestDatabase};

use crate::support::{spawn_app_with, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_the_server_recovers_by_itself() {
    let db = TestDatabase::create().await;
    let mut proxy = TcpProxy::start(postgres_address().await).await;
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        proxy.port(),
        db.name()
    );
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("TOLLGATE_DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
    ];
    let app = spawn_app_with(Store::Memory, &env).await;
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
    // A token never seen by this node cannot be checked: 503, not a false 401.
    app.get("/v1/whoami", &never_used)
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    // A token verified before the outage is still known to this node's cache.
    assert_eq!(app.get("/v1/whoami", &cached).await.status, StatusCode::OK);

    proxy.restart(ProxyMode::Forward).await;
    let started = Instant::now();
    while app.call(Method::GET, "/readyz", None, None).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
