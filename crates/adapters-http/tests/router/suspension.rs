//! Suspend and resume: the same 401 as a revoked token while suspended, working again after
//! resume, the `suspended` status and filter, who may, 409 for ended tokens, the events.

use axum::http::{header, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

fn token(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}")
}

fn suspend(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}/suspend")
}

fn resume(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}/resume")
}

async fn whoami(app: &TestApp, secret: &str) -> Res {
    app.send(Req::get("/v1/whoami").token(secret)).await
}

/// The parts of a 401 a client can tell apart.
fn rejection(res: &Res) -> (StatusCode, Option<String>, serde_json::Value) {
    (
        res.status,
        res.header(header::WWW_AUTHENTICATE).map(str::to_owned),
        res.json(),
    )
}

#[tokio::test]
async fn a_suspended_token_gets_the_revoked_tokens_401_until_it_is_resumed() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, secret) = app.token(&app.admin, space, "client").await;
    let (revoked_id, revoked) = app.token(&app.admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked_id)).token(&app.admin))
        .await;
    assert_eq!(whoami(&app, &secret).await.status, StatusCode::OK);

    let res = app
        .send(Req::post(&suspend(space, id)).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["suspended_at"], "2030-01-01T00:00:00Z");

    let suspended = whoami(&app, &secret).await;
    suspended.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        rejection(&suspended),
        rejection(&whoami(&app, &revoked).await)
    );
    let meta = app
        .send(Req::get(&token(space, id)).token(&app.admin))
        .await
        .json();
    assert_eq!(meta["status"], "suspended");

    let res = app
        .send(Req::post(&resume(space, id)).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "active");
    assert_eq!(res.json()["suspended_at"], serde_json::Value::Null);
    assert_eq!(whoami(&app, &secret).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_status_filter_lists_suspended_tokens_and_active_ones_leave_them_out() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (active, _) = app.token(&app.admin, space, "client").await;
    let (suspended, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::post(&suspend(space, suspended)).token(&app.admin))
        .await;
    let listed = |query: &'static str| {
        let app = &app;
        async move {
            let res = app
                .send(Req::get(&format!("/v1/spaces/{space}/tokens{query}")).token(&app.admin))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().parse::<Uuid>().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("").await, [active]);
    assert_eq!(listed("?status=suspended").await, [suspended]);
    assert_eq!(
        listed("?status=active,suspended").await,
        [active, suspended]
    );
}

#[tokio::test]
async fn suspending_needs_revoke_api_token_and_hides_what_the_caller_may_not_see() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let (target, _) = app.token(&app.admin, space, "client").await;
    let (admin_level, _) = app.token(&app.admin, space, "admin").await;
    for path in [suspend(space, target), resume(space, target)] {
        let res = app.send(Req::post(&path).token(&client)).await;
        let body = res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("REVOKE_API_TOKEN"),
            "{body}"
        );
    }
    // A client token never learns that an admin token exists.
    app.send(Req::post(&suspend(space, admin_level)).token(&client))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    // A space admin token suspends in its own space, and finds no other space.
    let res = app
        .send(Req::post(&suspend(space, target)).token(&admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let other = app.space("other").await;
    let (elsewhere, _) = app.token(&app.admin, other, "client").await;
    app.send(Req::post(&suspend(other, elsewhere)).token(&admin))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    app.send(Req::post(&suspend(space, Uuid::now_v7())).token(&admin))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    app.send(Req::post(&format!("/v1/spaces/{space}/tokens/nope/suspend")).token(&admin))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
}

#[tokio::test]
async fn an_ended_token_is_409_token_ended_and_a_suspended_one_does_not_rotate() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (revoked, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked)).token(&app.admin))
        .await;
    for path in [suspend(space, revoked), resume(space, revoked)] {
        let body = app
            .send(Req::post(&path).token(&app.admin))
            .await
            .assert_problem(StatusCode::CONFLICT, "token_ended");
        assert!(
            body["detail"].as_str().unwrap().contains("revoked"),
            "{body}"
        );
    }
    let (suspended, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::post(&suspend(space, suspended)).token(&app.admin))
        .await;
    let body = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens/{suspended}/rotate"))
                .token(&app.admin)
                .json(json!({})),
        )
        .await
        .assert_problem(StatusCode::CONFLICT, "token_not_active");
    assert!(
        body["detail"].as_str().unwrap().contains("suspended"),
        "{body}"
    );
}

#[tokio::test]
async fn suspension_and_resumption_are_recorded_once_each() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, _) = app.token(&app.admin, space, "client").await;
    for path in [
        suspend(space, id),
        suspend(space, id),
        resume(space, id),
        resume(space, id),
    ] {
        let res = app.send(Req::post(&path).token(&app.admin)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await
        .json();
    let actions: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["token.resumed", "token.suspended", "token.created"]
    );
}
