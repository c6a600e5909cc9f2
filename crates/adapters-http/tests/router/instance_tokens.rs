//! `/v1/instance/tokens`: instance admin tokens listed, created, read, updated, rotated and
//! revoked by instance admins alone; the last active one is never revoked.

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Req, TestApp};

const TOKENS: &str = "/v1/instance/tokens";

fn token(id: Uuid) -> String {
    format!("{TOKENS}/{id}")
}

async fn own_id(app: &TestApp, token: &str) -> Uuid {
    app.send(Req::get("/v1/whoami").token(token))
        .await
        .uuid("token_id")
}

/// Creates an instance admin token as `by`; its id and string.
async fn create(app: &TestApp, by: &str, name: &str) -> (Uuid, String) {
    let res = app
        .send(Req::post(TOKENS).token(by).json(json!({ "name": name })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    (res.uuid("id"), body["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_instance_admin_creates_another_instance_admin_token_shown_once() {
    let app = TestApp::new().await;
    let res = app
        .send(Req::post(TOKENS).token(&app.admin).json(json!({
            "name": "ops on-call",
            "expires_at": "2099-01-01T00:00:00Z",
        })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let id = res.uuid("id");
    assert_eq!(
        res.header(header::LOCATION),
        Some(token(id).as_str()),
        "Location"
    );
    assert_eq!(body["level"], "admin");
    assert_eq!(body["space_id"], serde_json::Value::Null);
    assert_eq!(body["name"], "ops on-call");
    assert_eq!(body["expires_at"], "2099-01-01T00:00:00Z");
    let creator = own_id(&app, &app.admin).await;
    assert_eq!(body["created_by"], format!("token:{creator}"));
    let secret = body["token"].as_str().unwrap();
    assert!(secret.starts_with("tgi_"), "{secret}");

    let whoami = app.send(Req::get("/v1/whoami").token(secret)).await.json();
    assert_eq!(whoami["level"], "admin");
    assert_eq!(whoami["space_id"], serde_json::Value::Null);
    let read = app.send(Req::get(&token(id)).token(&app.admin)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.json().get("token").is_none(), "never shown again");
}

#[tokio::test]
async fn instance_tokens_are_listed_oldest_first_active_unless_asked_page_by_page() {
    let app = TestApp::new().await;
    let first = own_id(&app, &app.admin).await;
    let (second, _) = create(&app, &app.admin, "second").await;
    let (third, _) = create(&app, &app.admin, "third").await;
    let res = app
        .send(Req::delete(&token(second)).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let space = app.space("acme").await;
    app.token(&app.admin, space, "admin").await;

    let ids = |body: &serde_json::Value| -> Vec<Uuid> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let active = app.send(Req::get(TOKENS).token(&app.admin)).await.json();
    assert_eq!(
        ids(&active),
        [first, third],
        "no space token, no revoked one"
    );
    for query in [
        "status=all",
        "status=active,revoked",
        "status=active&status=revoked",
    ] {
        let every = app
            .send(Req::get(&format!("{TOKENS}?{query}")).token(&app.admin))
            .await;
        assert_eq!(every.status, StatusCode::OK, "{query}: {}", every.text());
        assert_eq!(ids(&every.json()), [first, second, third], "{query}");
    }
    let page = app
        .send(Req::get(&format!("{TOKENS}?status=all&limit=2")).token(&app.admin))
        .await
        .json();
    assert_eq!(ids(&page), [first, second]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .send(Req::get(&format!("{TOKENS}?status=all&limit=2&cursor={cursor}")).token(&app.admin))
        .await
        .json();
    assert_eq!(ids(&rest), [third]);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    app.send(Req::get(&format!("{TOKENS}?status=gone")).token(&app.admin))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn the_last_active_instance_token_is_not_revoked_and_the_answer_says_how_to_go_on() {
    let app = TestApp::new().await;
    let only = own_id(&app, &app.admin).await;
    let res = app.send(Req::delete(&token(only)).token(&app.admin)).await;
    let body = res.assert_problem(StatusCode::CONFLICT, "last_instance_admin_token");
    let detail = body["detail"].as_str().unwrap();
    for says in [
        "POST /v1/instance/tokens",
        "tollgate token mint --instance-admin",
        "TOLLGATE_BOOTSTRAP_TOKEN",
        "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS",
    ] {
        assert!(detail.contains(says), "{detail}");
    }
    assert_eq!(
        app.send(Req::get("/v1/whoami").token(&app.admin))
            .await
            .status,
        StatusCode::OK,
        "still valid"
    );

    let (second, second_token) = create(&app, &app.admin, "second").await;
    let res = app
        .send(Req::delete(&token(only)).token(&second_token))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app
        .send(Req::delete(&token(only)).token(&second_token))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "again: 204 again");
    app.send(Req::get("/v1/whoami").token(&app.admin))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    app.send(Req::delete(&token(second)).token(&second_token))
        .await
        .assert_problem(StatusCode::CONFLICT, "last_instance_admin_token");
}

#[tokio::test]
async fn an_instance_token_is_rotated_with_no_body_and_updated() {
    let app = TestApp::new().await;
    let (id, secret) = create(&app, &app.admin, "ci").await;
    for body in [
        None,
        Some("".as_bytes()),
        Some(b"{}".as_slice()),
        Some(b"null".as_slice()),
    ] {
        let (id, secret) = create(&app, &app.admin, "rotated").await;
        let mut req = Req::post(&format!("{}/rotate", token(id))).token(&app.admin);
        if let Some(body) = body {
            req = req.raw("application/json", body.to_vec());
        }
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::CREATED, "{body:?}: {}", res.text());
        let new = res.json();
        assert_eq!(new["replaces"], id.to_string());
        assert_eq!(new["space_id"], serde_json::Value::Null);
        assert!(new["token"].as_str().unwrap().starts_with("tgi_"));
        app.send(Req::get("/v1/whoami").token(&secret))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let res = app
        .send(
            Req::new(Method::PATCH, &token(id))
                .token(&app.admin)
                .json(json!({ "name": "ci (eu)", "description": "Deploys." })),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["name"], "ci (eu)");
    let whoami = app.send(Req::get("/v1/whoami").token(&secret)).await.json();
    assert_eq!(whoami["name"], "ci (eu)");
}

#[tokio::test]
async fn space_tokens_may_not_manage_instance_tokens_nor_find_them() {
    let app = TestApp::new().await;
    let admin_id = own_id(&app, &app.admin).await;
    let (space, space_admin, client) = app.space_with_tokens("acme").await;
    for as_token in [&space_admin, &client] {
        let res = app.send(Req::get(TOKENS).token(as_token)).await;
        let body = res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("instance admin token"),
            "{body}"
        );
        app.send(
            Req::post(TOKENS)
                .token(as_token)
                .json(json!({ "name": "mine" })),
        )
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
        for req in [
            Req::get(&token(admin_id)),
            Req::delete(&token(admin_id)),
            Req::post(&format!("{}/rotate", token(admin_id))),
            Req::new(Method::PATCH, &token(admin_id)).json(json!({ "name": "x" })),
        ] {
            app.send(req.token(as_token))
                .await
                .assert_problem(StatusCode::NOT_FOUND, "token_not_found");
        }
    }
    // And an instance token is in no space.
    app.send(Req::delete(&format!("/v1/spaces/{space}/tokens/{admin_id}")).token(&app.admin))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "token_not_found");
}
