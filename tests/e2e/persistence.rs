//! Postgres keeps everything across a restart; the in-memory store says loudly that it does not.

use reqwest::StatusCode;

use crate::support::{spawn_app, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_postgres_keeps_tokens_revocations_and_the_bootstrap_token() {
    let mut app = spawn_app(Store::Postgres).await;
    let space = app.create_space("acme").await;
    let (_, kept) = app.create_token(&app.admin, &space, "client").await;
    let (revoked_id, revoked) = app.create_token(&app.admin, &space, "client").await;
    let reply = app
        .delete(
            &format!("/v1/spaces/{space}/tokens/{revoked_id}"),
            &app.admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    app.restart().await;

    assert!(app.logs().contains("already registered"), "{}", app.logs());
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/v1/whoami", &kept).await.status, StatusCode::OK);
    app.get("/v1/whoami", &revoked)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(app.get("/v1/spaces", &app.admin).await.ids(), vec![space]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_store_says_that_nothing_is_kept() {
    let app = spawn_app(Store::Memory).await;
    assert!(app.logs().contains("Nothing is kept"), "{}", app.logs());
}
