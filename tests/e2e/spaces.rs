//! Renaming and deleting a space over HTTP, on every store: every token of a deleted space is
//! refused from the 204 on (cached or not), console sessions signed in with them end, its events
//! stay readable by the instance admin, and nothing brings it back, not even a restart; and on
//! Postgres, a deletion on one node reaches another node's cache.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console_client::ConsoleClient;
use crate::support::{
    eventually, on_every_store, on_lasting_stores, spawn_app, spawn_app_with, App, Store, PATIENCE,
};

on_every_store!(a_deleted_spaces_tokens_and_sessions_end_at_once_and_its_events_stay);
on_lasting_stores!(a_deleted_space_stays_deleted_across_a_restart);

async fn rename(app: &App, space: &str, name: &str) -> crate::support::Reply {
    app.call(
        Method::PATCH,
        &format!("/v1/spaces/{space}"),
        Some(&app.admin),
        Some(json!({ "name": name })),
    )
    .await
}

/// The actions of `space`'s events, newest first, as the instance admin reads them, without
/// the refused uses (`token.rejected`, recorded for any refused use).
async fn actions(app: &App, space: &str) -> Vec<String> {
    let events = app
        .get(&format!("/v1/spaces/{space}/events"), &app.admin)
        .await;
    assert_eq!(events.status, StatusCode::OK, "{events:?}");
    events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .filter(|action| action != "token.rejected")
        .collect()
}

async fn a_deleted_spaces_tokens_and_sessions_end_at_once_and_its_events_stay(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let other = app.create_space("globex").await;
    let renamed = rename(&app, &space, "acme (eu)").await;
    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    assert_eq!(renamed.body["name"], "acme (eu)");
    let (_, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (_, client) = app.create_token(&app.admin, &space, "client").await;
    let (_, elsewhere) = app.create_token(&app.admin, &other, "client").await;
    for token in [&admin, &client, &elsewhere] {
        assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
    let console = ConsoleClient::sign_in(&app, &admin).await;
    let page = format!("/admin/spaces/{space}/tokens");
    assert_eq!(console.get(&page).await.status, StatusCode::OK);

    let deleted = app.delete(&format!("/v1/spaces/{space}"), &app.admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    for token in [&admin, &client] {
        app.get("/v1/whoami", token)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(
        app.get("/v1/whoami", &elsewhere).await.status,
        StatusCode::OK
    );
    let ended = console.get(&page).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location.as_deref(), Some("/admin/sign-in?ended=1"));

    app.get(&format!("/v1/spaces/{space}"), &app.admin)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    rename(&app, &space, "back")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    assert_eq!(app.get("/v1/spaces", &app.admin).await.ids(), [other]);
    assert_eq!(
        actions(&app, &space).await,
        [
            "space.deleted",
            "token.created",
            "token.created",
            "space.renamed"
        ]
    );
    let again = app.delete(&format!("/v1/spaces/{space}"), &app.admin).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{again:?}");
    assert_eq!(actions(&app, &space).await.len(), 4);
}

async fn a_deleted_space_stays_deleted_across_a_restart(store: Store) {
    let mut app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (_, client) = app.create_token(&app.admin, &space, "client").await;
    let deleted = app.delete(&format!("/v1/spaces/{space}"), &app.admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    app.restart().await;
    assert_eq!(
        app.get("/v1/whoami", &client).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.get(&format!("/v1/spaces/{space}"), &app.admin)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    assert_eq!(actions(&app, &space).await[0], "space.deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_deleted_on_node_a_stops_its_tokens_on_node_b() {
    let a = spawn_app(Store::Postgres).await;
    let url = a.database_url().unwrap().to_owned();
    let b = spawn_app_with(Store::Memory, &[("DATABASE_URL", url.as_str())]).await;
    let space = a.create_space("shared").await;
    let (_, admin) = a.create_token(&a.admin, &space, "admin").await;
    let (_, client) = a.create_token(&a.admin, &space, "client").await;
    // Cached on node B.
    for token in [&admin, &client] {
        assert_eq!(b.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
    let on_b = ConsoleClient::sign_in(&b, &admin).await;

    let deleted = a.delete(&format!("/v1/spaces/{space}"), &a.admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    // The revocations' NOTIFY reaches node B; the deadline only bounds a hang (cluster.rs).
    for token in [&admin, &client] {
        eventually(
            "node B to refuse a token of the space deleted on node A",
            PATIENCE,
            async || {
                (b.get("/v1/whoami", token).await.status == StatusCode::UNAUTHORIZED).then_some(())
            },
        )
        .await;
    }
    let page = on_b.get(&format!("/admin/spaces/{space}/tokens")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    b.get(&format!("/v1/spaces/{space}"), &b.admin)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
}
