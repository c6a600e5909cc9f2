//! `POST /v1/introspect` (RFC 7662): the answers for active and inactive tokens, who may ask,
//! the brute-force limits, and every way the form can be wrong.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::mint_token_string;
use tollgate_domain::TokenKind;
use tollgate_http::{AuthFailureLimit, HttpConfig};

use crate::support::{Req, Res, TestApp};

fn form(token: &str) -> Vec<u8> {
    format!("token={token}&token_type_hint=access_token").into_bytes()
}

async fn introspect(app: &TestApp, caller: &str, token: &str) -> Res {
    app.send(
        Req::post("/v1/introspect")
            .token(caller)
            .raw("application/x-www-form-urlencoded", form(token)),
    )
    .await
}

#[track_caller]
fn assert_inactive(res: &Res) {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json(), json!({ "active": false }));
}

#[tokio::test]
async fn an_active_space_token_is_described_as_rfc_7662_says() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let res = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens"))
                .token(&app.admin)
                .json(json!({ "name": "ci", "level": "client", "expires_at": "2031-01-01T00:00:00Z" })),
        )
        .await;
    let created = res.json();
    let res = introspect(&app, &app.admin, created["token"].as_str().unwrap()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));
    let iat = time::OffsetDateTime::parse(
        created["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert_eq!(
        res.json(),
        json!({
            "active": true,
            "token_type": "Bearer",
            "kind": "tgc",
            "scope": "READ_API_TOKEN",
            "sub": created["id"],
            "space_id": space,
            "level": "client",
            "name": "ci",
            "exp": 1_924_992_000,
            "iat": iat,
        })
    );
}

#[tokio::test]
async fn an_instance_admin_token_has_every_permission_no_space_and_no_expiry() {
    let app = TestApp::new().await;
    let body = introspect(&app, &app.admin, &app.admin).await.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["kind"], "tgi");
    assert_eq!(body["level"], "admin");
    assert_eq!(
        body["scope"],
        "MANAGE_SPACES CREATE_API_TOKEN CREATE_ADMIN_API_TOKEN READ_API_TOKEN \
         READ_ADMIN_API_TOKEN REVOKE_API_TOKEN"
    );
    let members = body.as_object().unwrap();
    assert!(!members.contains_key("space_id"), "{body}");
    assert!(!members.contains_key("exp"), "{body}");
}

#[tokio::test]
async fn a_space_admin_introspects_its_own_space_and_nothing_else() {
    let app = TestApp::new().await;
    let (_, a_admin, a_client) = app.space_with_tokens("a").await;
    let (_, b_admin, b_client) = app.space_with_tokens("b").await;
    let body = introspect(&app, &a_admin, &a_client).await.json();
    assert_eq!(body["active"], true, "{body}");
    let body = introspect(&app, &a_admin, &a_admin).await.json();
    assert_eq!(body["kind"], "tga", "{body}");
    assert_eq!(
        body["scope"],
        "CREATE_API_TOKEN READ_API_TOKEN READ_ADMIN_API_TOKEN REVOKE_API_TOKEN"
    );
    for foreign in [&b_client, &b_admin, &app.admin] {
        assert_inactive(&introspect(&app, &a_admin, foreign).await);
    }
}

#[tokio::test]
async fn junk_unknown_and_revoked_tokens_are_exactly_active_false() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, client) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}/tokens/{id}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let unknown = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();
    for token in ["", "junk", "tgc_x", unknown.as_str(), client.as_str()] {
        assert_inactive(&introspect(&app, &app.admin, token).await);
    }
}

#[tokio::test]
async fn a_client_token_may_not_introspect_and_a_missing_or_bad_caller_token_is_401() {
    let app = TestApp::new().await;
    let (_, admin, client) = app.space_with_tokens("acme").await;
    let body = introspect(&app, &client, &admin)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("READ_ADMIN_API_TOKEN"));

    let res = app
        .send(Req::post("/v1/introspect").raw("application/x-www-form-urlencoded", form(&admin)))
        .await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(res.header(header::WWW_AUTHENTICATE).is_some());
    introspect(&app, "junk", &admin)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn an_introspected_token_counts_as_used() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, client) = app.token(&app.admin, space, "client").await;
    assert_eq!(
        introspect(&app, &app.admin, &client).await.json()["active"],
        true
    );
    app.core.tokens.verifier().flush_last_used().await.unwrap();
    let res = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens/{id}")).token(&app.admin))
        .await;
    assert!(res.json()["last_used_at"].is_string(), "{}", res.text());
}

#[tokio::test]
async fn failed_introspections_count_against_the_caller_and_end_in_429() {
    let config = HttpConfig::default()
        .with_failed_auth_per_address(AuthFailureLimit::new(2, 2))
        .with_failed_auth_per_token(None);
    let app = TestApp::with(config, None).await;
    for _ in 0..2 {
        assert_inactive(&introspect(&app, &app.admin, "junk").await);
    }
    let res = introspect(&app, &app.admin, &app.admin).await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(res.header(header::RETRY_AFTER).is_some());
}

fn post(app: &TestApp) -> Req {
    Req::post("/v1/introspect").token(&app.admin)
}

#[tokio::test]
async fn a_form_that_is_not_one_is_a_problem() {
    let app = TestApp::new().await;
    let cases: Vec<(Req, StatusCode, &str)> = vec![
        (
            post(&app).json(json!({ "token": app.admin })),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post(&app),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post(&app).raw(
                "application/x-www-form-urlencoded",
                b"token_type_hint=x".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_form",
        ),
        (
            post(&app).raw("application/x-www-form-urlencoded", Vec::new()),
            StatusCode::BAD_REQUEST,
            "invalid_form",
        ),
        (
            post(&app).raw(
                "application/x-www-form-urlencoded",
                format!("token={0}&token={0}", app.admin).into_bytes(),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_form",
        ),
        (
            post(&app).raw(
                "application/x-www-form-urlencoded",
                format!("token={}&pad={}", app.admin, "x".repeat(64 * 1024)).into_bytes(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let body: Value = app.send(req).await.assert_problem(status, code);
        let detail = body["detail"].as_str().unwrap();
        assert!(!detail.contains(&app.admin[4..]), "{detail}");
    }
}

#[tokio::test]
async fn unknown_parameters_and_hints_are_ignored() {
    let app = TestApp::new().await;
    let body = format!(
        "token={}&token_type_hint=refresh_token&resource=x",
        app.admin
    );
    let res = app
        .send(post(&app).raw(
            "application/x-www-form-urlencoded; charset=utf-8",
            body.into_bytes(),
        ))
        .await;
    assert_eq!(res.json()["active"], true, "{}", res.text());
}
