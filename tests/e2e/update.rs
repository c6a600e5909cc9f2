//! PATCH a token over HTTP, on every store: renamed and described (kept across a restart on
//! the lasting stores), a shortened expiry refusing the token from then on, the event naming
//! the changed fields; and on Postgres, a shortened expiry reaching another node.

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::{
    eventually, on_every_store, on_lasting_stores, spawn_app, spawn_app_with, App, Store, PATIENCE,
};

on_every_store!(a_token_is_renamed_described_and_its_expiry_shortened);
on_lasting_stores!(a_description_outlives_a_restart);

async fn patch(app: &App, space: &str, id: &str, body: serde_json::Value) -> crate::support::Reply {
    app.call(
        Method::PATCH,
        &format!("/v1/spaces/{space}/tokens/{id}"),
        Some(&app.admin),
        Some(body),
    )
    .await
}

async fn a_token_is_renamed_described_and_its_expiry_shortened(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    let reply = patch(
        &app,
        &space,
        &id,
        json!({ "name": "billing sync", "description": "Nightly billing sync." }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let listed = app
        .get(&format!("/v1/spaces/{space}/tokens"), &app.admin)
        .await;
    let item = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (item["name"].clone(), item["description"].clone()),
        (json!("billing sync"), json!("Nightly billing sync."))
    );
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);

    // A few seconds from now, by the server's clock (its answer's `created_at` is near it).
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let reply = patch(
        &app,
        &space,
        &id,
        json!({ "expires_at": soon.format(&Rfc3339).unwrap() }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let refused = app
        .use_until_refused(&token, reply.time("expires_at"))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let events = app
        .get(&format!("/v1/spaces/{space}/events"), &app.admin)
        .await;
    let changed: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token.updated")
        .map(|e| e["changed"].clone())
        .collect();
    assert_eq!(
        changed,
        [json!(["expires_at"]), json!(["name", "description"])]
    );
}

async fn a_description_outlives_a_restart(store: Store) {
    let mut app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (id, _) = app.create_token(&app.admin, &space, "client").await;
    let reply = patch(&app, &space, &id, json!({ "description": "kept" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    app.restart().await;
    let read = app
        .get(&format!("/v1/spaces/{space}/tokens/{id}"), &app.admin)
        .await;
    assert_eq!(read.body["description"], "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_shortened_on_node_a_holds_on_node_b() {
    let a = spawn_app(Store::Postgres).await;
    let url = a.database_url().unwrap().to_owned();
    let b = spawn_app_with(Store::Memory, &[("DATABASE_URL", url.as_str())]).await;
    let space = a.create_space("shared").await;
    let (id, token) = a.create_token(&a.admin, &space, "client").await;
    assert_eq!(b.get("/v1/whoami", &token).await.status, StatusCode::OK);
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let reply = patch(
        &a,
        &space,
        &id,
        json!({ "expires_at": soon.format(&Rfc3339).unwrap() }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    // Node B had the token cached with no expiry: the notification makes it read the new one.
    eventually(
        "node B to refuse the token once its shortened expiry passed",
        PATIENCE,
        async || {
            (b.get("/v1/whoami", &token).await.status == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;
}
