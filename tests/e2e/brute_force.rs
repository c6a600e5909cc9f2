//! Brute force over real sockets: failed authentications from one address are cut off with
//! 429 and `Retry-After`, while a valid token from another address keeps working.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::StatusCode;
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::ports::RandomSource;
use tollgate_domain::{ParsedToken, TokenKind, TokenString};

use crate::support::{on_every_store, spawn_app_with, Reply, Store};

on_every_store!(
    failed_authentications_are_limited_per_address_and_other_addresses_keep_working,
    guessing_at_a_token_id_does_not_lock_out_its_holder_on_another_address,
);

async fn failed_authentications_are_limited_per_address_and_other_addresses_keep_working(
    store: Store,
) {
    let app = spawn_app_with(
        store,
        &[
            ("TOLLGATE_AUTH_FAILURES_PER_ADDRESS", "5"),
            ("TOLLGATE_AUTH_FAILURES_PER_TOKEN", "0"),
        ],
    )
    .await;
    let space = app.create_space("acme").await;
    let (_, valid) = app.create_token(&app.admin, &space, "client").await;

    // The attacker, on 127.0.0.1: five failures, then 429 with Retry-After.
    let mut guess = valid.clone();
    guess.replace_range(26..69, &"Z".repeat(43));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/v1/whoami", &guess).await);
    }
    assert!(
        statuses[..5]
            .iter()
            .all(|r| r.status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let limited = statuses.last().unwrap();
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let retry_after: u64 = limited
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{limited:?}");

    // A legitimate program on another address (127.0.0.2 is loopback too) is not affected.
    let other = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let reply = other
        .get(format!("{}/v1/whoami", app.base))
        .header("x-undb-api-token", &valid)
        .send()
        .await
        .unwrap();
    let reply = Reply::read(reply).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

async fn guessing_at_a_token_id_does_not_lock_out_its_holder_on_another_address(store: Store) {
    let app = spawn_app_with(
        store,
        &[
            ("TOLLGATE_AUTH_FAILURES_PER_ADDRESS", "0"),
            ("TOLLGATE_AUTH_FAILURES_PER_TOKEN", "3"),
        ],
    )
    .await;
    let space = app.create_space("acme").await;
    let (_, valid) = app.create_token(&app.admin, &space, "client").await;
    let holder = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let use_token = || async {
        let reply = holder
            .get(format!("{}/v1/whoami", app.base))
            .header("x-undb-api-token", &valid)
            .send()
            .await
            .unwrap();
        Reply::read(reply).await
    };
    // Someone who knows the id (it is not secret: a space admin sees it in `actor` and
    // `created_by`) guesses secrets, with valid checksums, until the id is blocked for it. The
    // holder has not used its token yet, so no node has it cached.
    let id = ParsedToken::parse(&valid).unwrap().id();
    let guess = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret()).into_exposed();
    let mut last = app.get("/v1/whoami", &guess).await;
    for _ in 0..5 {
        last = app.get("/v1/whoami", &guess).await;
    }
    last.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // The holder, on another address, is verified and served: failures with its id from
    // another address never refuse it.
    assert_eq!(use_token().await.status, StatusCode::OK);
    assert_eq!(use_token().await.status, StatusCode::OK);
    // The guesser stays blocked.
    app.get("/v1/whoami", &guess)
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}
