//! What a platform's backend does with tollgate over HTTP: introspect token strings
//! (RFC 7662) and act for its own members (`X-Tollgate-Act-As`), on every store, so that each
//! store's events keep the acting instance token.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{eventually, on_every_store, spawn_app_with, App, Reply, Store, PATIENCE};

on_every_store!(
    introspection_describes_active_tokens_and_answers_everything_else_inactive,
    a_member_acted_for_is_held_to_its_role_and_its_events_name_the_instance_token,
    a_space_admin_never_learns_the_instance_admin_token_s_id,
);

async fn introspect(app: &App, caller: &str, token: &str) -> Reply {
    let response = app
        .client
        .post(format!("{}/v1/introspect", app.base))
        .header("x-undb-api-token", caller)
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await
        .expect("request failed");
    Reply::read(response).await
}

async fn introspection_describes_active_tokens_and_answers_everything_else_inactive(store: Store) {
    let app = spawn_app_with(store, &[("TOLLGATE_LAST_USED_FLUSH_SECONDS", "1")]).await;
    let space = app.create_space("acme").await;
    let (admin_id, space_admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&app.admin, &space, "client").await;
    let other = app.create_space("other").await;
    let (_, foreign) = app.create_token(&app.admin, &other, "client").await;

    let reply = introspect(&app, &space_admin, &client).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let body = &reply.body;
    assert_eq!(
        (
            &body["active"],
            &body["token_type"],
            &body["kind"],
            &body["sub"],
            &body["space_id"],
            &body["level"],
            &body["scope"],
        ),
        (
            &json!(true),
            &json!("Bearer"),
            &json!("tgc"),
            &json!(client_id),
            &json!(space),
            &json!("client"),
            &json!("READ_API_TOKEN"),
        ),
        "{body}"
    );
    assert!(body["iat"].is_i64() && body.get("exp").is_none(), "{body}");
    let admin_view = introspect(&app, &app.admin, &space_admin).await;
    assert_eq!(admin_view.body["sub"], admin_id.as_str(), "{admin_view:?}");

    // It counted as a use of the introspected token.
    let path = format!("/v1/spaces/{space}/tokens/{client_id}");
    eventually(
        "last_used_at of the introspected token",
        PATIENCE,
        async || {
            let read = app.get(&path, &app.admin).await;
            read.body["last_used_at"].is_string().then_some(())
        },
    )
    .await;

    let revoked = app.delete(&path, &app.admin).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    for (caller, token) in [
        (&space_admin, client.as_str()),
        (&space_admin, foreign.as_str()),
        (&space_admin, app.admin.as_str()),
        (&app.admin, "junk"),
    ] {
        let reply = introspect(&app, caller, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.body, json!({ "active": false }));
    }
    let (_, fresh_client) = app.create_token(&app.admin, &space, "client").await;
    introspect(&app, &fresh_client, &space_admin)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

async fn as_member(
    app: &App,
    method: Method,
    path: &str,
    act_as: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("x-undb-api-token", &app.admin)
        .header("x-tollgate-act-as", act_as);
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::read(request.send().await.expect("request failed")).await
}

async fn a_member_acted_for_is_held_to_its_role_and_its_events_name_the_instance_token(
    store: Store,
) {
    let app = spawn_app_with(store, &[]).await;
    let space = app.create_space("acme").await;
    let (others, _) = app.create_token(&app.admin, &space, "client").await;
    let editor = format!("user=ada@example.org; space={space}; role=editor");
    let tokens = format!("/v1/spaces/{space}/tokens");

    let created = as_member(
        &app,
        Method::POST,
        &tokens,
        &editor,
        Some(json!({ "name": "ada's script", "level": "client" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["created_by"], "user:ada@example.org");
    let mine = created.str("id");
    as_member(
        &app,
        Method::POST,
        &tokens,
        &editor,
        Some(json!({ "name": "x", "level": "admin" })),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    as_member(
        &app,
        Method::DELETE,
        &format!("{tokens}/{others}"),
        &editor,
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let revoked = as_member(
        &app,
        Method::DELETE,
        &format!("{tokens}/{mine}"),
        &editor,
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");

    let instance_id = app.get("/v1/whoami", &app.admin).await.str("token_id");
    let events = app
        .get(&format!("/v1/spaces/{space}/events"), &app.admin)
        .await;
    let by_ada: Vec<&Value> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "user:ada@example.org")
        .collect();
    assert_eq!(by_ada.len(), 2, "{events:?}");
    for event in by_ada {
        assert_eq!(event["via_token_id"], instance_id.as_str(), "{event}");
    }
    let (_, space_admin) = app.create_token(&app.admin, &space, "admin").await;
    let seen = app
        .get(&format!("/v1/spaces/{space}/events"), &space_admin)
        .await;
    assert!(
        seen.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("via_token_id").is_none()),
        "{seen:?}"
    );

    let reply = app
        .client
        .get(format!("{}/v1/whoami", app.base))
        .header("x-undb-api-token", &space_admin)
        .header("x-tollgate-act-as", &editor)
        .send()
        .await
        .expect("request failed");
    Reply::read(reply)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "act_as_forbidden");
    as_member(&app, Method::GET, "/v1/whoami", "user=ada", None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_act_as");
}

/// Issue 18, item 2: every space admin used to learn the instance admin token's id from
/// `created_by` and the events' `actor`, the first step of locking it out.
async fn a_space_admin_never_learns_the_instance_admin_token_s_id(store: Store) {
    let app = spawn_app_with(store, &[]).await;
    let instance_id = app.get("/v1/whoami", &app.admin).await.str("token_id");
    let space = app.create_space("acme").await;
    let (admin_id, space_admin) = app.create_token(&app.admin, &space, "admin").await;
    let (by_instance, _) = app.create_token(&app.admin, &space, "client").await;
    let (by_space_admin, _) = app.create_token(&space_admin, &space, "client").await;

    let tokens = format!("/v1/spaces/{space}/tokens");
    let mut paths = vec![
        format!("{tokens}?status=all"),
        format!("/v1/spaces/{space}/events"),
    ];
    paths.extend(
        [&admin_id, &by_instance, &by_space_admin]
            .iter()
            .map(|id| format!("{tokens}/{id}")),
    );
    for path in &paths {
        let reply = app.get(path, &space_admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
        let text = reply.body.to_string();
        assert!(!text.contains(&instance_id), "{path}: {text}");
    }
    let read = app
        .get(&format!("{tokens}/{by_instance}"), &space_admin)
        .await;
    assert_eq!(read.body["created_by"], "instance");
    let read = app
        .get(&format!("{tokens}/{by_space_admin}"), &space_admin)
        .await;
    assert_eq!(read.body["created_by"], format!("token:{admin_id}"));
    let events = app
        .get(&format!("/v1/spaces/{space}/events"), &space_admin)
        .await;
    assert!(
        events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "instance"),
        "{events:?}"
    );
    // The instance admin still sees which token it was.
    let read = app
        .get(&format!("{tokens}/{by_instance}"), &app.admin)
        .await;
    assert_eq!(read.body["created_by"], format!("token:{instance_id}"));
}
