//! Forward auth (`/v1/auth` and below, docs/gateways.md): identity headers for a valid token,
//! 401/403 with `WWW-Authenticate` otherwise, the requirements of the auth URL, a token in the
//! original request's query refused, and no status but 200, 401, 403 and 503, whatever part of
//! the stack answers.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use serde_json::Value;
use tollgate_app::adapters::{InMemoryStore, ManualClock, OsRandomSource};
use tollgate_app::ports::MockTokenRepository;
use tollgate_app::testing::TestPorts;
use tollgate_app::{mint_token_string, StoreError};
use tollgate_domain::TokenKind;
use tollgate_http::{router, AppState, AuthFailureLimit, HttpConfig};

use crate::support::{router_with_stalled_hashes, send, Req, Res, TestApp};

const ANSWERS: [StatusCode; 4] = [
    StatusCode::OK,
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::SERVICE_UNAVAILABLE,
];

/// Asserts one of forward auth's answers: 200 with no body, or a problem+json whose `status`
/// member is the HTTP status, with `WWW-Authenticate` on 401 and 403. Returns the body.
#[track_caller]
fn assert_answer(res: &Res) -> Value {
    assert!(
        ANSWERS.contains(&res.status),
        "{} {}",
        res.status,
        res.text()
    );
    if res.status == StatusCode::OK {
        assert!(res.body.is_empty(), "{}", res.text());
        return Value::Null;
    }
    let body = res.json();
    assert_eq!(body["status"], res.status.as_u16(), "{body}");
    assert_eq!(
        res.header(header::CONTENT_TYPE),
        Some("application/problem+json")
    );
    let challenged = res.header(header::WWW_AUTHENTICATE).is_some();
    assert_eq!(
        challenged,
        res.status != StatusCode::SERVICE_UNAVAILABLE,
        "{} {body}",
        res.status
    );
    body
}

/// Asserts a refusal with this status and problem code.
#[track_caller]
fn assert_refused(res: &Res, status: StatusCode, code: &str) {
    let body = assert_answer(res);
    assert_eq!(res.status, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

#[track_caller]
fn identity(res: &Res) -> [String; 4] {
    assert_answer(res);
    assert_eq!(res.status, StatusCode::OK);
    [
        "x-tollgate-token-id",
        "x-tollgate-space-id",
        "x-tollgate-level",
        "x-tollgate-permissions",
    ]
    .map(|name| {
        res.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    })
}

#[tokio::test]
async fn a_valid_token_gets_200_with_its_identity_in_headers() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (client_id, client) = app.token(&app.admin, space, "client").await;
    let (admin_id, admin) = app.token(&app.admin, space, "admin").await;

    let res = app.send(Req::get("/v1/auth").token(&client)).await;
    assert_eq!(
        identity(&res),
        [
            client_id.to_string(),
            space.to_string(),
            "client".to_owned(),
            "READ_API_TOKEN".to_owned(),
        ]
    );
    assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));

    let res = app.send(Req::get("/v1/auth").bearer(&admin)).await;
    let [id, space_id, level, permissions] = identity(&res);
    assert_eq!(
        (id, space_id, level),
        (admin_id.to_string(), space.to_string(), "admin".to_owned())
    );
    let permissions: Vec<&str> = permissions.split(',').collect();
    assert_eq!(
        permissions,
        [
            "CREATE_API_TOKEN",
            "READ_API_TOKEN",
            "READ_ADMIN_API_TOKEN",
            "REVOKE_API_TOKEN"
        ]
    );

    // An instance admin has every permission and no space: `*`, never an empty header.
    let res = app.send(Req::get("/v1/auth").token(&app.admin)).await;
    let [_, space_id, level, permissions] = identity(&res);
    assert_eq!((space_id.as_str(), level.as_str()), ("*", "admin"));
    assert!(permissions.contains("MANAGE_SPACES"), "{permissions}");
}

#[tokio::test]
async fn any_method_and_any_path_below_answer_the_same() {
    let app = TestApp::new().await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND",
    ];
    let paths = [
        "/v1/auth",
        "/v1/auth/",
        "/v1/auth/api/v2/items",
        "/v1/auth//x/",
        "/v1/auth/%ff",
    ];
    for method in methods {
        for path in paths {
            let method: Method = method.parse().unwrap();
            let res = app
                .send(Req::new(method.clone(), path).token(&client))
                .await;
            assert_eq!(
                res.status,
                StatusCode::OK,
                "{method} {path}: {}",
                res.text()
            );
            assert!(res.headers.contains_key("x-tollgate-token-id"));
            let res = app.send(Req::new(method.clone(), path)).await;
            if method == Method::HEAD {
                // The router sends no body with a HEAD answer.
                assert_eq!(res.status, StatusCode::UNAUTHORIZED);
                assert!(res.header(header::WWW_AUTHENTICATE).is_some());
            } else {
                assert_refused(&res, StatusCode::UNAUTHORIZED, "unauthenticated");
            }
        }
    }
}

#[tokio::test]
async fn a_missing_or_invalid_token_gets_401_with_a_challenge() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (revoked_id, revoked) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}/tokens/{revoked_id}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    let unknown = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();

    let res = app.send(Req::get("/v1/auth")).await;
    assert_refused(&res, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        res.header(header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"tollgate\"")
    );
    for token in ["junk", "tgc_typo", unknown.as_str(), revoked.as_str()] {
        let res = app.send(Req::get("/v1/auth").token(token)).await;
        assert_refused(&res, StatusCode::UNAUTHORIZED, "invalid_token");
        assert_eq!(
            res.header(header::WWW_AUTHENTICATE),
            Some("Bearer realm=\"tollgate\", error=\"invalid_token\"")
        );
        assert!(!res.headers.contains_key("x-tollgate-token-id"));
    }
}

#[tokio::test]
async fn the_space_and_level_requirements_of_the_auth_url_are_403_when_unmet() {
    let app = TestApp::new().await;
    let (acme, acme_admin, acme_client) = app.space_with_tokens("acme").await;
    let (_, _, other_client) = app.space_with_tokens("other").await;
    let in_acme = format!("/v1/auth?space={acme}");
    let acme_admins = format!("/v1/auth?space={acme}&level=admin");
    // (auth URL, token, passes)
    let cases = [
        (in_acme.as_str(), &acme_client, true),
        (in_acme.as_str(), &acme_admin, true),
        (in_acme.as_str(), &other_client, false),
        (in_acme.as_str(), &app.admin, true),
        ("/v1/auth?level=admin", &acme_admin, true),
        ("/v1/auth?level=admin", &acme_client, false),
        ("/v1/auth?level=admin", &app.admin, true),
        ("/v1/auth?level=client", &acme_client, true),
        (acme_admins.as_str(), &acme_admin, true),
        (acme_admins.as_str(), &acme_client, false),
        ("/v1/auth/any/path?level=admin&page=2", &acme_client, false),
        ("/v1/auth?page=2&sort=name", &other_client, true),
    ];
    for (url, token, passes) in cases {
        let res = app.send(Req::get(url).token(token)).await;
        if passes {
            assert_eq!(res.status, StatusCode::OK, "{url}: {}", res.text());
        } else {
            assert_refused(&res, StatusCode::FORBIDDEN, "requirement_not_met");
            assert_eq!(
                res.header(header::WWW_AUTHENTICATE),
                Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\""),
                "{url}"
            );
        }
    }
}

#[tokio::test]
async fn a_malformed_requirement_refuses_every_token_but_bad_tokens_are_still_401() {
    let app = TestApp::new().await;
    let (acme, acme_admin, _) = app.space_with_tokens("acme").await;
    for url in [
        "/v1/auth?space=acme".to_owned(),
        "/v1/auth?space=".to_owned(),
        "/v1/auth?level=owner".to_owned(),
        format!("/v1/auth?space={acme}&space={acme}"),
        "/v1/auth?level=admin&level=client".to_owned(),
    ] {
        for token in [&acme_admin, &app.admin] {
            let res = app.send(Req::get(&url).token(token)).await;
            assert_refused(&res, StatusCode::FORBIDDEN, "invalid_requirement");
        }
        let res = app.send(Req::get(&url).token("junk")).await;
        assert_refused(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    }
}

#[tokio::test]
async fn a_token_in_the_original_request_s_query_is_refused_before_verification() {
    let app = TestApp::new().await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    for header_name in ["x-forwarded-uri", "x-original-uri"] {
        for uri in [
            format!("/api/items?token={client}"),
            "/api/items?access_token=abc".to_owned(),
            format!("/api/items?q={}", client.replacen("tgc_", "%74gc%5F", 1)),
            format!("https://api.example.com/items?page=2&x={client}"),
        ] {
            let res = app
                .send(
                    Req::get("/v1/auth")
                        .token(&client)
                        .header(header_name, &uri),
                )
                .await;
            assert_refused(&res, StatusCode::UNAUTHORIZED, "token_in_query");
            assert!(!res.text().contains(&client));
        }
        let res = app
            .send(
                Req::get("/v1/auth")
                    .token(&client)
                    .header(header_name, "/api/items?page=2#token=x"),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
}

#[tokio::test]
async fn every_way_the_issue_smuggled_a_token_into_the_original_query_is_refused() {
    let app = TestApp::new().await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    for query in crate::auth::smuggled_token_queries(&client) {
        for header_name in ["x-forwarded-uri", "x-original-uri"] {
            let res = app
                .send(
                    Req::get("/v1/auth")
                        .token(&client)
                        .header(header_name, &format!("/api/items?{query}")),
                )
                .await;
            assert_refused(&res, StatusCode::UNAUTHORIZED, "token_in_query");
            assert!(!res.text().contains(&client[4..]), "{query}");
        }
    }
}

#[tokio::test]
async fn the_status_set_is_200_401_403_503_whatever_part_of_the_stack_answers() {
    let app = TestApp::new().await;
    let (_, admin, client) = app.space_with_tokens("acme").await;

    // The body limit (by Content-Length, in the middleware).
    let res = app
        .send(
            Req::post("/v1/auth")
                .token(&client)
                .header("content-length", &(64 * 1024 + 1).to_string())
                .raw("application/octet-stream", vec![b'x'; 64 * 1024 + 1]),
        )
        .await;
    assert_refused(&res, StatusCode::UNAUTHORIZED, "payload_too_large");
    assert_eq!(
        res.header(header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"tollgate\", error=\"invalid_request\"")
    );
    // Two different tokens.
    let res = app
        .send(Req::get("/v1/auth").token(&client).bearer(&admin))
        .await;
    assert_refused(&res, StatusCode::UNAUTHORIZED, "conflicting_tokens");
    // A token in the auth URL itself (the middleware's guard).
    let res = app
        .send(Req::get(&format!("/v1/auth?token={client}")).token(&client))
        .await;
    assert_refused(&res, StatusCode::UNAUTHORIZED, "token_in_query");
    // Odd sub-paths are still forward auth.
    for path in [
        "/v1/auth/..",
        "/v1/auth/%2e%2e/whoami",
        "/v1/auth/v1/whoami",
    ] {
        let res = app.send(Req::get(path)).await;
        assert_refused(&res, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Other routes are not confined.
    let res = app.send(Req::get("/v1/authz").token(&client)).await;
    res.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let res = app
        .send(Req::get("/v1/whoami").token(&client).bearer(&admin))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "conflicting_tokens");
}

#[tokio::test]
async fn a_rate_limited_client_gets_401_with_retry_after_never_429() {
    let config = HttpConfig::default()
        .with_failed_auth_per_address(AuthFailureLimit::new(2, 2))
        .with_failed_auth_per_token(None);
    let app = TestApp::with(config, None).await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    for _ in 0..2 {
        let res = app.send(Req::get("/v1/auth").token("junk")).await;
        assert_refused(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    // Blocked now, whatever it presents: the same limits as every route.
    for token in ["junk", client.as_str()] {
        let res = app.send(Req::get("/v1/auth").token(token)).await;
        assert_refused(&res, StatusCode::UNAUTHORIZED, "too_many_requests");
        assert_eq!(
            res.header(header::WWW_AUTHENTICATE),
            Some("Bearer realm=\"tollgate\"")
        );
        let retry: u64 = res.header(header::RETRY_AFTER).unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    let res = app.send(Req::get("/v1/whoami").token(&client)).await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

#[tokio::test]
async fn failures_on_other_routes_count_against_forward_auth_too() {
    let config = HttpConfig::default()
        .with_failed_auth_per_address(AuthFailureLimit::new(1, 1))
        .with_failed_auth_per_token(None);
    let app = TestApp::with(config, None).await;
    let res = app.send(Req::get("/v1/whoami").token("junk")).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let res = app.send(Req::get("/v1/auth").token(&app.admin)).await;
    assert_refused(&res, StatusCode::UNAUTHORIZED, "too_many_requests");
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
async fn a_store_that_cannot_decide_is_503_never_401() {
    let token = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();
    let app = app_on_failing_tokens(|| StoreError::Unavailable("connection refused".into()));
    let res = send(&app, Req::get("/v1/auth").token(&token)).await;
    assert_refused(&res, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    assert!(!res.text().contains("connection refused"));
    // A broken store is a 500 elsewhere; here it is 503 too, and says nothing more.
    let app = app_on_failing_tokens(|| StoreError::Corrupt("row 42 holds level 'root'".into()));
    let res = send(&app, Req::get("/v1/auth").token(&token)).await;
    assert_refused(&res, StatusCode::SERVICE_UNAVAILABLE, "internal");
    assert!(!res.text().contains("row 42"));
    let res = send(&app, Req::get("/v1/whoami").token(&token)).await;
    res.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
}

#[tokio::test]
async fn a_verification_over_the_timeout_is_503() {
    // A verification that never ends: the hasher's gate is never opened.
    let config = HttpConfig::default().with_request_timeout(Duration::from_millis(50));
    let (app, admin, hasher) = router_with_stalled_hashes(config).await;
    let res = send(&app, Req::get("/v1/auth").token(&admin)).await;
    assert_refused(&res, StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert_eq!(hasher.started(), 1);
}

#[tokio::test]
async fn the_identity_of_a_space_token_never_names_another_space() {
    let app = TestApp::new().await;
    let (acme, _, client) = app.space_with_tokens("acme").await;
    // Whatever the request says about identities, tollgate answers from the token alone.
    let res = app
        .send(
            Req::get("/v1/auth")
                .token(&client)
                .header("x-tollgate-space-id", "*")
                .header("x-tollgate-level", "admin"),
        )
        .await;
    let [_, space_id, level, _] = identity(&res);
    assert_eq!((space_id, level), (acme.to_string(), "client".to_owned()));
}
