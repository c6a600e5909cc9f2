//! Suspend and resume over HTTP, on every store: a suspended token gets a revoked token's 401
//! until it is resumed, survives a restart suspended, shows in the `status=` filter and in the
//! events, and does not rotate.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{on_every_store, on_lasting_stores, spawn_app, Store};

on_every_store!(a_suspended_token_is_refused_like_a_revoked_one_until_it_is_resumed);
on_lasting_stores!(a_suspension_outlives_a_restart_and_so_does_the_resumption);

async fn a_suspended_token_is_refused_like_a_revoked_one_until_it_is_resumed(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    let (revoked_id, revoked) = app.create_token(&app.admin, &space, "client").await;
    app.delete(
        &format!("/v1/spaces/{space}/tokens/{revoked_id}"),
        &app.admin,
    )
    .await;
    // Verified first, so it is cached: suspension must not wait for the cache.
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);

    let base = format!("/v1/spaces/{space}/tokens/{id}");
    let reply = app
        .post(&format!("{base}/suspend"), &app.admin, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body["status"], "suspended");
    let refused = app.get("/v1/whoami", &token).await;
    let like_revoked = app.get("/v1/whoami", &revoked).await;
    refused.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        (
            refused.body.clone(),
            refused.header("www-authenticate").to_owned()
        ),
        (
            like_revoked.body.clone(),
            like_revoked.header("www-authenticate").to_owned()
        )
    );
    let listed = app
        .get(
            &format!("/v1/spaces/{space}/tokens?status=suspended"),
            &app.admin,
        )
        .await;
    assert_eq!(listed.ids(), [id.as_str()]);
    app.post(&format!("{base}/rotate"), &app.admin, json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "token_not_active");

    let reply = app
        .post(&format!("{base}/resume"), &app.admin, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body["status"], "active");
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    let events = app
        .get(&format!("/v1/spaces/{space}/events"), &app.admin)
        .await;
    let actions: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["token_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    // The refused use is recorded as for a revoked token.
    assert_eq!(
        actions,
        [
            "token.resumed",
            "token.rejected",
            "token.suspended",
            "token.created"
        ]
    );
}

async fn a_suspension_outlives_a_restart_and_so_does_the_resumption(store: Store) {
    let mut app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    let base = format!("/v1/spaces/{space}/tokens/{id}");
    let reply = app
        .post(&format!("{base}/suspend"), &app.admin, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    app.restart().await;
    assert_eq!(
        app.get("/v1/whoami", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = app
        .post(&format!("{base}/resume"), &app.admin, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    app.restart().await;
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
}
