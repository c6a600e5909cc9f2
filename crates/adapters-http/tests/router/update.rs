//! PATCH a token: rename, describe, expiry within the lifetime policy, 409 for ended tokens,
//! who may, bad input, and the `token.updated` event naming the changed fields.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_domain::LifetimePolicy;
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

fn token(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}")
}

async fn patch(app: &TestApp, as_token: &str, space: Uuid, id: Uuid, body: Value) -> Res {
    app.send(
        Req::new(Method::PATCH, &token(space, id))
            .token(as_token)
            .json(body),
    )
    .await
}

#[tokio::test]
async fn a_token_is_renamed_and_described_and_listings_show_the_description() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, _) = app.token(&app.admin, space, "client").await;
    let created = app
        .send(Req::get(&token(space, id)).token(&app.admin))
        .await
        .json();
    assert_eq!(created["description"], Value::Null);

    let res = patch(
        &app,
        &app.admin,
        space,
        id,
        json!({ "name": "  ci deploy ", "description": "Deploys from CI." }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    assert_eq!(body["name"], "ci deploy");
    assert_eq!(body["description"], "Deploys from CI.");
    let listed = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens")).token(&app.admin))
        .await
        .json();
    assert_eq!(listed["items"][0]["description"], "Deploys from CI.");

    // null removes the description; an absent field is left alone.
    let res = patch(&app, &app.admin, space, id, json!({ "description": null })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["description"], Value::Null);
    assert_eq!(res.json()["name"], "ci deploy");

    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await
        .json();
    let updates: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token.updated")
        .collect();
    assert_eq!(updates.len(), 2, "{events}");
    assert_eq!(updates[0]["changed"], json!(["description"]));
    assert_eq!(updates[1]["changed"], json!(["name", "description"]));
    let created_event = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "token.created")
        .unwrap();
    assert!(created_event.get("changed").is_none(), "{created_event}");
}

#[tokio::test]
async fn a_shortened_expiry_holds_at_once() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, secret) = app.token(&app.admin, space, "client").await;
    let whoami = |secret: String| {
        let app = &app;
        async move { app.send(Req::get("/v1/whoami").token(&secret)).await.status }
    };
    assert_eq!(whoami(secret.clone()).await, StatusCode::OK);
    let res = patch(
        &app,
        &app.admin,
        space,
        id,
        json!({ "expires_at": "2030-01-01T00:00:01Z" }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["expires_at"], "2030-01-01T00:00:01Z");
    app.core.clock.advance(time::Duration::seconds(1));
    assert_eq!(whoami(secret).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn extending_beyond_the_maximum_or_never_under_one_is_422_naming_it() {
    let app =
        TestApp::with_lifetime_policy(LifetimePolicy::from_days(Some(30), None).unwrap()).await;
    let space = app.space("acme").await;
    let (id, _) = app.token(&app.admin, space, "client").await;
    for body in [
        json!({ "expires_at": "2030-02-01T00:00:00Z" }),
        json!({ "expires_at": null }),
    ] {
        let res = patch(&app, &app.admin, space, id, body.clone()).await;
        let problem = res.assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expires_at_beyond_maximum",
        );
        assert!(
            problem["detail"].as_str().unwrap().contains("30 days"),
            "{body}: {problem}"
        );
    }
    patch(
        &app,
        &app.admin,
        space,
        id,
        json!({ "expires_at": "2029-12-31T00:00:00Z" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "expires_at_not_in_future");
    // Within the maximum, and shorter again: both fine.
    for at in ["2030-01-31T00:00:00Z", "2030-01-02T00:00:00Z"] {
        let res = patch(&app, &app.admin, space, id, json!({ "expires_at": at })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
}

#[tokio::test]
async fn an_ended_token_is_409_token_ended() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (revoked, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked)).token(&app.admin))
        .await;
    let (rotated, _) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(
            Req::post(&format!("{}/rotate", token(space, rotated)))
                .token(&app.admin)
                .json(json!({ "grace_period_seconds": 3600 })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    for (id, status) in [(revoked, "revoked"), (rotated, "rotated")] {
        let body = patch(
            &app,
            &app.admin,
            space,
            id,
            json!({ "expires_at": "2030-06-01T00:00:00Z" }),
        )
        .await
        .assert_problem(StatusCode::CONFLICT, "token_ended");
        assert!(body["detail"].as_str().unwrap().contains(status), "{body}");
    }
}

#[tokio::test]
async fn updating_needs_the_rights_of_rotation_and_bad_input_is_refused() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let (target, _) = app.token(&app.admin, space, "client").await;
    let (admin_level, _) = app.token(&app.admin, space, "admin").await;
    patch(&app, &client, space, target, json!({ "name": "x" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // A space admin token updates client tokens, but not admin tokens (it could not create one).
    let res = patch(&app, &admin, space, target, json!({ "name": "ok" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    patch(&app, &admin, space, admin_level, json!({ "name": "x" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    patch(&app, &client, space, admin_level, json!({ "name": "x" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "token_not_found");

    for (body, code) in [
        (json!({ "name": "" }), "invalid_name"),
        (json!({ "name": null }), "invalid_body"),
        (json!({ "description": "" }), "invalid_description"),
        (
            json!({ "description": "x".repeat(501) }),
            "invalid_description",
        ),
        (
            json!({ "description": "two\nlines" }),
            "invalid_description",
        ),
        (json!({ "expires_at": "tomorrow" }), "invalid_body"),
        (json!({ "level": "admin" }), "invalid_body"),
    ] {
        patch(&app, &app.admin, space, target, body.clone())
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let longest = patch(
        &app,
        &app.admin,
        space,
        target,
        json!({ "description": "é".repeat(500) }),
    )
    .await;
    assert_eq!(longest.status, StatusCode::OK, "{}", longest.text());
}
