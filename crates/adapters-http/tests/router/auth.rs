//! Authentication: both headers, the one 401 for every rejected token, 403 with its
//! challenge, the query-string guard, and store failures during verification.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use serde_json::json;
use time::Duration;
use tollgate_app::adapters::{InMemoryStore, ManualClock, OsRandomSource};
use tollgate_app::ports::MockTokenRepository;
use tollgate_app::testing::TestPorts;
use tollgate_app::{mint_token_string, StoreError};
use tollgate_domain::TokenKind;
use tollgate_http::{router, AppState};

use crate::support::{send, Req, TestApp};

const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"tollgate\", error=\"invalid_token\"";

#[tokio::test]
async fn whoami_describes_an_instance_admin_token() {
    let app = TestApp::new().await;
    let res = app.send(Req::get("/v1/whoami").token(&app.admin)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    assert!(body["token_id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .is_ok());
    assert_eq!(body["name"], "bootstrap");
    assert_eq!(body["level"], "admin");
    assert_eq!(body["space_id"], json!(null));
    assert_eq!(body["expires_at"], json!(null));
    assert_eq!(
        body["permissions"],
        json!([
            "MANAGE_SPACES",
            "CREATE_API_TOKEN",
            "CREATE_ADMIN_API_TOKEN",
            "READ_API_TOKEN",
            "READ_ADMIN_API_TOKEN",
            "REVOKE_API_TOKEN"
        ])
    );
    assert_eq!(body.as_object().unwrap().len(), 6, "{body}");
}

#[tokio::test]
async fn whoami_describes_space_tokens_and_their_permissions() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;

    let res = app.send(Req::get("/v1/whoami").token(&client)).await;
    assert_eq!(res.status, StatusCode::OK);
    let body = res.json();
    assert_eq!(body["level"], "client");
    assert_eq!(body["space_id"], space.to_string());
    assert_eq!(body["permissions"], json!(["READ_API_TOKEN"]));

    let res = app.send(Req::get("/v1/whoami").token(&admin)).await;
    assert_eq!(
        res.json()["permissions"],
        json!([
            "CREATE_API_TOKEN",
            "READ_API_TOKEN",
            "READ_ADMIN_API_TOKEN",
            "REVOKE_API_TOKEN"
        ])
    );
}

#[tokio::test]
async fn the_token_is_accepted_in_either_header_and_in_both_when_they_agree() {
    let app = TestApp::new().await;
    for req in [
        Req::get("/v1/whoami").token(&app.admin),
        Req::get("/v1/whoami").bearer(&app.admin),
        Req::get("/v1/whoami").header("authorization", &format!("bearer {}", app.admin)),
        Req::get("/v1/whoami").token(&app.admin).bearer(&app.admin),
        Req::get("/v1/whoami")
            .token(&app.admin)
            .header("authorization", "Basic dXNlcjpwYXNz"),
    ] {
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
}

#[tokio::test]
async fn two_different_tokens_in_the_two_headers_are_refused_with_400() {
    let app = TestApp::new().await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    let res = app
        .send(Req::get("/v1/whoami").token(&app.admin).bearer(&client))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "conflicting_tokens");
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_unauthenticated_with_a_bearer_challenge() {
    let app = TestApp::new().await;
    for req in [
        Req::get("/v1/whoami"),
        Req::get("/v1/spaces"),
        Req::get("/v1/whoami").header("authorization", "Basic dXNlcjpwYXNz"),
    ] {
        let res = app.send(req).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(
            res.header(header::WWW_AUTHENTICATE),
            Some("Bearer realm=\"tollgate\"")
        );
    }
}

#[tokio::test]
async fn malformed_unknown_expired_and_revoked_tokens_get_one_identical_401() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;

    let malformed = "tgc_not-a-token".to_owned();
    let unknown = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();

    let expiring = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens"))
                .token(&app.admin)
                .json(json!({
                    "name": "short-lived",
                    "level": "client",
                    "expires_at": "2030-01-01T01:00:00Z",
                })),
        )
        .await;
    assert_eq!(expiring.status, StatusCode::CREATED, "{}", expiring.text());
    let expired = expiring.json()["token"].as_str().unwrap().to_owned();

    let (revoked_id, revoked) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}/tokens/{revoked_id}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);

    // Both still work until the clock moves past the expiry.
    assert_eq!(
        app.send(Req::get("/v1/whoami").token(&expired))
            .await
            .status,
        StatusCode::OK
    );
    app.core.clock.advance(Duration::hours(2));

    let mut answers = Vec::new();
    for token in [&malformed, &unknown, &expired, &revoked] {
        for req in [
            Req::get("/v1/whoami").token(token),
            Req::get("/v1/whoami").bearer(token),
        ] {
            let res = app.send(req).await;
            res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
            assert_eq!(
                res.header(header::WWW_AUTHENTICATE),
                Some(INVALID_TOKEN_CHALLENGE)
            );
            answers.push(res.body.clone());
        }
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every rejected token gets the same body"
    );
    let body = String::from_utf8(answers[0].clone()).unwrap();
    for token in [&malformed, &unknown, &expired, &revoked] {
        assert!(!body.contains(token.as_str()));
    }
}

#[tokio::test]
async fn a_valid_token_without_the_permission_gets_403_insufficient_scope() {
    let app = TestApp::new().await;
    let (_, admin, client) = app.space_with_tokens("acme").await;
    for token in [&admin, &client] {
        let res = app
            .send(
                Req::post("/v1/spaces")
                    .token(token)
                    .json(json!({ "name": "mine" })),
            )
            .await;
        res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(
            res.header(header::WWW_AUTHENTICATE),
            Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\"")
        );
    }
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused_with_400_on_every_route() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let queries = [
        format!("token={}", app.admin),
        "api_token=x".to_owned(),
        "access_token=x".to_owned(),
        "apiToken=x".to_owned(),
        "x-undb-api-token=x".to_owned(),
        format!("q={}", app.admin),
        "limit=5&cursor=tga_abc".to_owned(),
        "tgi_abc".to_owned(),
    ];
    let paths = [
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/openapi.json".to_owned(),
        "/v1/whoami".to_owned(),
        "/v1/spaces".to_owned(),
        format!("/v1/spaces/{space}/tokens"),
        "/v1/unknown".to_owned(),
    ];
    for path in &paths {
        for query in &queries {
            // Even with a valid header token: the query string is refused first.
            let res = app
                .send(Req::get(&format!("{path}?{query}")).token(&app.admin))
                .await;
            let body = res.assert_problem(StatusCode::BAD_REQUEST, "token_in_query");
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains("x-undb-api-token"), "{detail}");
            assert!(detail.contains("Authorization: Bearer"), "{detail}");
            assert!(!res.text().contains(&app.admin));
        }
    }
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}/tokens/x?token=x")))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "token_in_query");
    let res = app
        .send(Req::post("/v1/spaces?access_token=x").json(json!({ "name": "x" })))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "token_in_query");
}

/// The queries that answered 200 with a token in the URL (issue 18, item 3), for `token`.
pub(crate) fn smuggled_token_queries(token: &str) -> Vec<String> {
    let body = &token[4..];
    let mut queries: Vec<String> = [
        "key", "api_key", "apikey", "secret", "auth", "jwt", "token[]",
    ]
    .iter()
    .flat_map(|name| [format!("{name}={token}"), format!("{name}=x")])
    .collect();
    queries.extend([
        "token%5B%5D=x".to_owned(),
        format!("+token+={token}"),
        "%20token%20=x".to_owned(),
        "++api_key=x".to_owned(),
        format!("q={}", token.to_ascii_uppercase()),
        format!("q=TGC_{body}"),
        format!("q={}%255F{body}", &token[..3]),
        format!("q={}%25255F{body}", &token[..3]),
        format!("q={body}"),
        format!("page=2&x={body}"),
    ]);
    queries
}

#[tokio::test]
async fn every_way_the_issue_smuggled_a_token_into_the_query_is_refused_with_400() {
    let app = TestApp::new().await;
    let (space, _, client) = app.space_with_tokens("acme").await;
    for query in smuggled_token_queries(&client) {
        for path in [
            "/v1/whoami".to_owned(),
            format!("/v1/spaces/{space}/tokens"),
        ] {
            let res = app
                .send(Req::get(&format!("{path}?{query}")).token(&app.admin))
                .await;
            res.assert_problem(StatusCode::BAD_REQUEST, "token_in_query");
            assert!(!res.text().contains(&client[4..]), "{query}");
        }
    }
    // An ordinary query still passes.
    let res = app
        .send(
            Req::get(&format!(
                "/v1/spaces/{space}/tokens?limit=5&status=all&level=client"
            ))
            .token(&app.admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

fn app_on_failing_tokens(failure: fn() -> StoreError) -> axum::Router {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(move |_| Err(failure()));
    let store = InMemoryStore::new();
    let ports = TestPorts {
        tokens: Arc::new(tokens),
        ..TestPorts::over(&store, Arc::new(ManualClock::default()))
    };
    let (spaces, tokens) = ports.services();
    router(AppState::new(spaces, tokens, Arc::new(store)))
}

#[tokio::test]
async fn an_unreachable_store_during_verification_is_503_not_401() {
    let app = app_on_failing_tokens(|| StoreError::Unavailable("connection refused".into()));
    let token = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();
    let res = send(&app, Req::get("/v1/whoami").token(&token)).await;
    let body = res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    assert!(!body.to_string().contains("connection refused"));
    assert!(res.header(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn a_broken_store_is_an_opaque_500() {
    let app = app_on_failing_tokens(|| StoreError::Corrupt("row 42 holds level 'root'".into()));
    let token = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();
    let res = send(&app, Req::get("/v1/whoami").token(&token)).await;
    let body = res.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(!body.to_string().contains("row 42"));
}

#[tokio::test]
async fn a_malformed_token_is_refused_without_asking_the_store() {
    // The failing store would answer 503: a 401 proves the checksum refused the token first.
    let app = app_on_failing_tokens(|| StoreError::Unavailable("down".into()));
    let res = send(&app, Req::get("/v1/whoami").token("tgc_typo")).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn the_extractor_works_on_routes_of_ones_own_over_app_state() {
    use axum::routing::get;
    use tollgate_http::Authenticated;

    let app = TestApp::new().await;
    let state = AppState::new(
        app.core.spaces.clone(),
        app.core.tokens.clone(),
        Arc::new(app.core.store.clone()),
    );
    let mine = axum::Router::new()
        .route(
            "/me",
            get(|auth: Authenticated| async move { auth.verified().token.name().to_string() }),
        )
        .with_state(state);
    let res = send(&mine, Req::get("/me").token(&app.admin)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text(), "bootstrap");
    // No limits on such routes: the 30th bad token is a 401 like the first.
    for _ in 0..30 {
        let res = send(&mine, Req::get("/me").token("tgc_nope")).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
}

#[tokio::test]
async fn an_empty_token_header_is_no_token_and_never_conflicts_with_a_real_one() {
    let app = TestApp::new().await;
    for req in [
        Req::get("/v1/whoami").token(""),
        Req::get("/v1/whoami").bearer(""),
    ] {
        let res = app.send(req).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let res = app
        .send(Req::get("/v1/whoami").token(&app.admin).bearer(""))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}
