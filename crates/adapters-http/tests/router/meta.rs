//! Probes, fallbacks, timeout and the headers every response carries.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::{header, Method, StatusCode};
use serde_json::json;
use tollgate_app::ports::StoreHealth;
use tollgate_app::StoreError;
use tollgate_http::HttpConfig;

use crate::support::{Req, TestApp};

struct DownStore;

#[async_trait]
impl StoreHealth for DownStore {
    async fn check(&self) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

struct HangingStore;

#[async_trait]
impl StoreHealth for HangingStore {
    async fn check(&self) -> Result<(), StoreError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    }
}

#[tokio::test]
async fn healthz_answers_200_without_a_token() {
    let app = TestApp::new().await;
    let res = app.send(Req::get("/healthz")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_answers_200_when_the_store_answers() {
    let app = TestApp::new().await;
    let res = app.send(Req::get("/readyz")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json(), json!({ "status": "ready" }));
}

#[tokio::test]
async fn readyz_answers_503_store_unavailable_when_the_store_is_down() {
    let app = TestApp::with(HttpConfig::default(), Some(Arc::new(DownStore))).await;
    let res = app.send(Req::get("/readyz")).await;
    let body = res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    assert!(!body["detail"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
}

#[tokio::test]
async fn a_request_over_the_timeout_is_answered_with_a_503_timeout_problem() {
    let config = HttpConfig::default().with_request_timeout(Duration::from_millis(50));
    let app = TestApp::with(config, Some(Arc::new(HangingStore))).await;
    let res = app.send(Req::get("/readyz")).await;
    res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));
}

#[tokio::test]
async fn unknown_routes_are_404_not_found_problems() {
    let app = TestApp::new().await;
    for path in ["/", "/v2/spaces", "/v1/spaces/x/y/z/w", "/v1/whoami/extra"] {
        let res = app.send(Req::get(path).token(&app.admin)).await;
        res.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_method_not_allowed_problems_with_an_allow_header() {
    let app = TestApp::new().await;
    let cases = [
        (Method::PUT, "/v1/spaces"),
        (Method::DELETE, "/v1/whoami"),
        (Method::POST, "/healthz"),
        (
            Method::PATCH,
            "/v1/spaces/00000000-0000-0000-0000-000000000000/tokens",
        ),
    ];
    for (method, path) in cases {
        let res = app.send(Req::new(method, path).token(&app.admin)).await;
        res.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert!(res.header(header::ALLOW).is_some(), "{path}");
    }
}

#[tokio::test]
async fn every_v1_response_says_cache_control_no_store() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let created = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens"))
                .token(&app.admin)
                .json(json!({ "name": "ci", "level": "client" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.header(header::CACHE_CONTROL), Some("no-store"));
    for req in [
        Req::get("/v1/whoami").token(&app.admin),
        Req::get("/v1/whoami"),
        Req::get("/v1/spaces").token(&app.admin),
        Req::get("/v1/nothing"),
        Req::get("/v1/whoami?token=x"),
    ] {
        let res = app.send(req).await;
        assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));
    }
}
