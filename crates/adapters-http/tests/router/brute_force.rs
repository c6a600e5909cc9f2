//! Brute-force limits: failed authentications per client address and per token id end in
//! 429 `too_many_requests` with `Retry-After`, before any verification, while valid tokens from
//! elsewhere keep working.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::{mint_token_string, TrustedProxies};
use tollgate_domain::{TokenId, TokenKind, TokenSecret, TokenString};
use tollgate_http::{router_with, AppState, AuthFailureLimit, HttpConfig};
use uuid::Uuid;

use crate::support::{send, Req, Res, TestApp, DEFAULT_PEER};

const ATTACKER: &str = "203.0.113.66:51000";
const VICTIM: &str = "198.51.100.7:43000";

/// Junk that fails the offline format check.
const JUNK: &str = "tgc_this-is-not-a-token";

/// A well-formed token for the id `id` with a secret nobody holds.
fn forged(kind: TokenKind, id: Uuid) -> String {
    let mut n = 0_u8;
    let secret = TokenSecret::from_random_bytes(|| {
        n = n.wrapping_add(37);
        n % 200
    });
    TokenString::new(kind, TokenId::from_uuid(id), &secret).into_exposed()
}

fn limits(
    per_address: Option<AuthFailureLimit>,
    per_token: Option<AuthFailureLimit>,
) -> HttpConfig {
    HttpConfig::default()
        .with_failed_auth_per_address(per_address)
        .with_failed_auth_per_token(per_token)
}

#[track_caller]
fn assert_too_many(res: &Res, max_wait: u64) {
    let body = res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(body["detail"].as_str().unwrap().contains("Retry-After"));
    let wait: u64 = res
        .header(header::RETRY_AFTER)
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!((1..=max_wait).contains(&wait), "Retry-After: {wait}");
    assert!(res.header(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn an_address_with_too_many_failures_gets_429_even_for_a_valid_token() {
    // Three in a row, then one every 20 seconds.
    let app = TestApp::with(limits(AuthFailureLimit::new(3, 3), None), None).await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    for _ in 0..3 {
        let res = app
            .send(Req::get("/v1/whoami").token(JUNK).from(ATTACKER))
            .await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    for token in [JUNK, client.as_str(), app.admin.as_str()] {
        let res = app
            .send(Req::get("/v1/whoami").bearer(token).from(ATTACKER))
            .await;
        assert_too_many(&res, 20);
        assert!(!res.text().contains(token));
    }
    // Every route that authenticates is closed to it; the others are not.
    let res = app
        .send(Req::get("/v1/spaces").token(&app.admin).from(ATTACKER))
        .await;
    assert_too_many(&res, 20);
    let res = app.send(Req::get("/healthz").from(ATTACKER)).await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app.send(Req::get("/v1/whoami").from(ATTACKER)).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Other addresses are not affected, and neither is the default one.
    for peer in [VICTIM, DEFAULT_PEER] {
        let res = app
            .send(Req::get("/v1/whoami").token(&client).from(peer))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
    let res = app
        .send(Req::get("/v1/whoami").token(JUNK).from(VICTIM))
        .await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn a_valid_token_keeps_working_from_another_address_during_an_attack() {
    let app = TestApp::new().await;
    let (space, _, client) = app.space_with_tokens("acme").await;
    let (target, _) = app.token(&app.admin, space, "client").await;
    let unknown = mint_token_string(&OsRandomSource, TokenKind::Client).into_exposed();
    let attempts = [JUNK.to_owned(), unknown, forged(TokenKind::Client, target)];
    let mut blocked = 0;
    for round in 0..40 {
        let res = app
            .send(
                Req::get("/v1/whoami")
                    .token(&attempts[round % attempts.len()])
                    .from(ATTACKER),
            )
            .await;
        assert!(
            res.status == StatusCode::UNAUTHORIZED || res.status == StatusCode::TOO_MANY_REQUESTS,
            "{}",
            res.text()
        );
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            blocked += 1;
        }
        let res = app
            .send(Req::get("/v1/whoami").token(&client).from(VICTIM))
            .await;
        assert_eq!(res.status, StatusCode::OK, "round {round}: {}", res.text());
    }
    assert!(blocked >= 15, "the attacker was blocked ({blocked} of 40)");
}

#[tokio::test]
async fn by_default_twenty_failures_from_one_address_are_allowed() {
    let app = TestApp::new().await;
    let started = Instant::now();
    let mut allowed = 0;
    loop {
        let res = app
            .send(Req::get("/v1/whoami").token(JUNK).from(ATTACKER))
            .await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            assert_too_many(&res, 3);
            break;
        }
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
        allowed += 1;
        assert!(allowed <= 40, "never limited");
    }
    // One more is allowed every 3 seconds: exact unless this machine was that slow.
    if started.elapsed() < Duration::from_secs(3) {
        assert_eq!(allowed, 20);
    } else {
        assert!(allowed >= 20, "{allowed}");
    }
}

#[tokio::test]
async fn a_token_id_with_too_many_failures_gets_429_only_from_the_address_that_failed() {
    let app = TestApp::with(limits(None, AuthFailureLimit::new(2, 2)), None).await;
    let (space, _, other) = app.space_with_tokens("acme").await;
    let (target, secret) = app.token(&app.admin, space, "client").await;
    let wrong = forged(TokenKind::Client, target);
    for _ in 0..2 {
        let res = app
            .send(Req::get("/v1/whoami").token(&wrong).from(ATTACKER))
            .await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    // The attacker is blocked for that id, whatever secret comes with it.
    for token in [&wrong, &secret] {
        let res = app
            .send(Req::get("/v1/whoami").token(token).from(ATTACKER))
            .await;
        assert_too_many(&res, 30);
    }
    // Its other tokens are not.
    let res = app
        .send(Req::get("/v1/whoami").token(&other).from(ATTACKER))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // The token's holder, from another address, is not locked out (the tenant's lockout).
    let res = app
        .send(Req::get("/v1/whoami").token(&secret).from(VICTIM))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // Nor is another address presenting a wrong secret refused before it is verified.
    let res = app
        .send(Req::get("/v1/whoami").token(&wrong).from("203.0.113.3:1"))
        .await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    // An id that exists nowhere is limited the same way: a 429 says nothing of existence.
    let nowhere = forged(TokenKind::Client, Uuid::now_v7());
    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let res = app
            .send(Req::get("/v1/whoami").token(&nowhere).from(VICTIM))
            .await;
        assert_eq!(res.status, expected, "{}", res.text());
    }
}

#[tokio::test]
async fn junk_counts_against_the_address_only_and_successes_never_count() {
    let app = TestApp::with(
        limits(AuthFailureLimit::new(3, 3), AuthFailureLimit::new(1, 1)),
        None,
    )
    .await;
    let (_, admin, client) = app.space_with_tokens("acme").await;
    // Successes from one address, many times the limit: never limited.
    for _ in 0..20 {
        let res = app
            .send(Req::get("/v1/whoami").token(&client).from(ATTACKER))
            .await;
        assert_eq!(res.status, StatusCode::OK);
    }
    // Junk from many addresses: never limited (no token id to count it against).
    for n in 0..20 {
        let res = app
            .send(
                Req::get("/v1/whoami")
                    .token(JUNK)
                    .from(&format!("192.0.2.{n}:1")),
            )
            .await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    // A token header that is not visible ASCII is junk as well, and counts for the address.
    let mut requests = 0;
    loop {
        let res = app
            .send(
                Req::get("/v1/whoami")
                    .header_bytes("x-undb-api-token", b"tgc_caf\xe9")
                    .from(VICTIM),
            )
            .await;
        requests += 1;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(requests < 10, "never limited");
    }
    assert_eq!(requests, 4);
    let res = app
        .send(Req::get("/v1/whoami").token(&admin).from(ATTACKER))
        .await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    let app = TestApp::with(limits(AuthFailureLimit::new(2, 2), None), None).await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    for peer in ["[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1"] {
        let res = app
            .send(Req::get("/v1/whoami").token(JUNK).from(peer))
            .await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let res = app
        .send(
            Req::get("/v1/whoami")
                .token(&client)
                .from("[2001:db8:1:2:ffff::9]:1"),
        )
        .await;
    assert_too_many(&res, 30);
    let res = app
        .send(
            Req::get("/v1/whoami")
                .token(&client)
                .from("[2001:db8:1:3::1]:1"),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
}

/// Junk sent through a proxy at 10.0.0.2 with this `X-Forwarded-For`.
async fn spoofed(app: &TestApp, forwarded: &str) -> Res {
    let req = Req::get("/v1/whoami")
        .token(JUNK)
        .header("x-forwarded-for", forwarded)
        .from("10.0.0.2:8443");
    app.send(req).await
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_trusted_proxies() {
    // Not trusted: every client behind the proxy is the proxy, whatever the header says.
    let app = TestApp::with(limits(AuthFailureLimit::new(2, 2), None), None).await;
    for forwarded in ["203.0.113.1", "203.0.113.2"] {
        spoofed(&app, forwarded)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_too_many(&spoofed(&app, "203.0.113.3").await, 30);

    // A trusted proxy: the entry it appended is the client; what the client wrote is not.
    let config = limits(AuthFailureLimit::new(2, 2), None)
        .with_trusted_proxies(TrustedProxies::parse("10.0.0.0/24").unwrap());
    let app = TestApp::with(config, None).await;
    for forwarded in ["1.1.1.1, 203.0.113.1", "2.2.2.2, 203.0.113.1"] {
        spoofed(&app, forwarded)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_too_many(&spoofed(&app, "3.3.3.3, 203.0.113.1").await, 30);
    spoofed(&app, "203.0.113.2")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    // Behind two trusted hops, the walk passes the inner one: still 203.0.113.1.
    assert_too_many(&spoofed(&app, "4.4.4.4, 203.0.113.1, 10.0.0.7").await, 30);
    // A proxy that is not in the list is a client like any other: its header is ignored.
    let res = app
        .send(
            Req::get("/v1/whoami")
                .token(JUNK)
                .header("x-forwarded-for", "203.0.113.1")
                .from("10.0.1.2:8443"),
        )
        .await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn without_connect_info_only_the_token_limit_applies() {
    let app = TestApp::new().await;
    let state = AppState::new(
        app.core.spaces.clone(),
        app.core.tokens.clone(),
        Arc::new(app.core.store.clone()),
    );
    let router = router_with(
        state,
        limits(AuthFailureLimit::new(1, 1), AuthFailureLimit::new(1, 1)),
    );
    for _ in 0..5 {
        let res = send(&router, Req::get("/v1/whoami").token(JUNK)).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let guess = forged(TokenKind::InstanceAdmin, Uuid::now_v7());
    let res = send(&router, Req::get("/v1/whoami").token(&guess)).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let res = send(&router, Req::get("/v1/whoami").token(&guess)).await;
    assert_too_many(&res, 60);
    let res = send(&router, Req::get("/v1/whoami").token(&app.admin)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn with_both_limits_off_nothing_is_limited() {
    let app = TestApp::with(limits(None, None), None).await;
    for _ in 0..50 {
        let res = app.send(Req::get("/v1/whoami").token(JUNK)).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
}
