//! Clients behind reverse proxies, over real sockets: with the proxy in
//! `TOLLGATE_TRUSTED_PROXIES`, the per-address brute-force limit counts the client that
//! `X-Forwarded-For` names, and what a client writes to the left of it is never believed;
//! without it, the header is ignored. The test itself is the proxy, on 127.0.0.1. The retired
//! `TOLLGATE_TRUSTED_PROXY_HOPS` and a malformed list are refused at start.

use reqwest::StatusCode;

use crate::support::{serve_refused, spawn_app_with, App, Store};

/// Three failures per address, and none counted per token id.
const LIMITS: [(&str, &str); 2] = [
    ("TOLLGATE_AUTH_FAILURES_PER_ADDRESS", "3"),
    ("TOLLGATE_AUTH_FAILURES_PER_TOKEN", "0"),
];

/// `/v1/whoami` with junk, as forwarded for `forwarded_for`.
async fn junk_from(app: &App, forwarded_for: &str) -> StatusCode {
    app.client
        .get(format!("{}/v1/whoami", app.base))
        .header("x-undb-api-token", "junk")
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("request failed")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_per_address_limit_counts_the_real_client() {
    let mut env = LIMITS.to_vec();
    env.push(("TOLLGATE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"));
    let app = spawn_app_with(Store::Memory, &env).await;

    // 203.0.113.1 fails three times, whatever it writes to the left of what the proxy appended.
    for spoofed in [
        "203.0.113.1",
        "6.6.6.6, 203.0.113.1",
        "7.7.7.7, 203.0.113.1, 10.0.0.2",
    ] {
        assert_eq!(junk_from(&app, spoofed).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        junk_from(&app, "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Writing another address to the left does not get it out.
    assert_eq!(
        junk_from(&app, "203.0.113.2, 203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not blocked.
    assert_eq!(
        junk_from(&app, "203.0.113.2").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_app_with(Store::Memory, &LIMITS).await;
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        assert_eq!(junk_from(&app, client).await, StatusCode::UNAUTHORIZED);
    }
    // Every "client" was the TCP peer, 127.0.0.1, which is now blocked.
    assert_eq!(
        junk_from(&app, "203.0.113.4").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[test]
fn a_start_with_the_retired_hops_variable_is_refused_naming_its_replacement() {
    let stderr = serve_refused(&[("TOLLGATE_TRUSTED_PROXY_HOPS", "1")]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TOLLGATE_TRUSTED_PROXY_HOPS"), "{stderr}");
    assert!(stderr.contains("TOLLGATE_TRUSTED_PROXIES"), "{stderr}");
}

#[test]
fn a_malformed_proxy_list_is_refused_naming_the_entry() {
    let stderr = serve_refused(&[("TOLLGATE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")]);
    assert!(stderr.contains("proxy.internal"), "{stderr}");
    assert!(
        stderr.contains("TRUSTED_PROXIES") || stderr.contains("trusted-proxies"),
        "{stderr}"
    );
}
