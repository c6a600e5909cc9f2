//! Prometheus metrics: `/metrics` only on `TOLLGATE_METRICS_LISTEN`, never on the API's port;
//! after a scenario, a scrape parsed as Prometheus text shows the counters moved by exactly what
//! the scenario did, and no label holds an id, an address, a token or a raw path.

use std::collections::HashSet;

use prometheus_parse::{Sample, Scrape, Value};
use reqwest::StatusCode;
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::ports::RandomSource;
use tollgate_domain::{ParsedToken, TokenKind, TokenString};

use crate::support::{eventually, on_every_store, spawn_app, spawn_app_with, App, Store, PATIENCE};

on_every_store!(
    a_scrape_after_a_scenario_shows_what_it_did_and_no_label_names_an_id,
    without_metrics_listen_nothing_serves_metrics,
);

/// Where the server said it serves metrics.
fn metrics_url(app: &App) -> String {
    app.logs()
        .lines()
        .find_map(|line| line.strip_prefix("tollgate metrics on "))
        .map(str::to_owned)
        .expect("the server names its metrics address before it listens")
}

async fn scrape(app: &App) -> Vec<Sample> {
    let reply = app.client.get(metrics_url(app)).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let text = reply.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap()
        .samples
}

/// The value of `metric` with exactly these labels; 0 when absent.
fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| {
            s.metric == metric
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
                && s.labels.len() == labels.len()
        })
        .map_or(0.0, |s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{metric} is not a number: {other:?}"),
        })
}

async fn a_scenario(app: &App) {
    let space = app.create_space("acme").await;
    let (_, client) = app.create_token(&app.admin, &space, "client").await;
    // Cold, then cached.
    assert_eq!(app.get("/v1/whoami", &client).await.status, StatusCode::OK);
    assert_eq!(app.get("/v1/whoami", &client).await.status, StatusCode::OK);
    // Junk.
    let junk = app.get("/v1/whoami", "tgc_junk").await;
    assert_eq!(junk.status, StatusCode::UNAUTHORIZED);
    // Wrong secrets for the client's id until the id is blocked.
    let id = ParsedToken::parse(&client).unwrap().id();
    let guess = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret()).into_exposed();
    for _ in 0..3 {
        let reply = app.get("/v1/whoami", &guess).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app.get("/v1/whoami", &guess).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    // The holder, verified before, still gets through the block on its id.
    assert_eq!(app.get("/v1/whoami", &client).await.status, StatusCode::OK);
    // A route that does not exist, and /metrics on the API's port.
    assert_eq!(
        app.get("/nope", &client).await.status,
        StatusCode::NOT_FOUND
    );
    let on_api = app.client.get(format!("{}/metrics", app.base)).send().await;
    assert_eq!(on_api.unwrap().status(), StatusCode::NOT_FOUND);
}

async fn a_scrape_after_a_scenario_shows_what_it_did_and_no_label_names_an_id(store: Store) {
    let app = spawn_app_with(
        store,
        &[
            ("TOLLGATE_METRICS_LISTEN", "127.0.0.1:0"),
            ("TOLLGATE_AUTH_FAILURES_PER_ADDRESS", "0"),
            ("TOLLGATE_AUTH_FAILURES_PER_TOKEN", "3"),
        ],
    )
    .await;
    if store != Store::Memory {
        // The listener's first connection empties the cache (what came before it may have been
        // missed): wait for it, so that the scenario's cached uses stay cached.
        eventually("the revocation listener to be up", PATIENCE, async || {
            let samples = scrape(&app).await;
            (value(&samples, "tollgate_revocation_listener_up", &[]) == 1.0).then_some(())
        })
        .await;
    }
    a_scenario(&app).await;
    let samples = scrape(&app).await;
    let verifications = |outcome, path| {
        value(
            &samples,
            "tollgate_verifications_total",
            &[("outcome", outcome), ("path", path)],
        )
    };
    // The admin's first use and the client's are cold; the admin's second, the client's
    // second and its use through the block are cached.
    assert_eq!(verifications("valid", "cold"), 2.0);
    assert_eq!(verifications("valid", "cached"), 3.0);
    assert_eq!(verifications("invalid", "junk"), 1.0);
    assert_eq!(
        verifications("invalid", "cached"),
        3.0,
        "guesses at a cached id"
    );
    assert_eq!(verifications("invalid", "cold"), 0.0);
    assert_eq!(verifications("rate_limited", "cached"), 1.0);
    assert_eq!(verifications("store_unavailable", "cold"), 0.0);
    // Only cold verifications are timed: the cached ones (3 valid, 3 guesses) are not.
    let timed = |path| {
        value(
            &samples,
            "tollgate_verification_duration_seconds_count",
            &[("path", path)],
        )
    };
    assert_eq!(timed("cached"), 0.0);
    assert_eq!(timed("cold"), 2.0);
    assert_eq!(
        value(&samples, "tollgate_verification_cache_hits_total", &[]),
        3.0
    );
    assert_eq!(
        value(&samples, "tollgate_verification_cache_misses_total", &[]),
        2.0
    );
    assert_eq!(
        value(&samples, "tollgate_verification_cache_entries", &[]),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "tollgate_auth_blocks_total",
            &[("limiter", "token_id")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "tollgate_auth_blocks_total",
            &[("limiter", "address")]
        ),
        0.0
    );
    assert_eq!(value(&samples, "tollgate_argon2_permits_in_use", &[]), 0.0);
    assert_eq!(value(&samples, "tollgate_argon2_waiters", &[]), 0.0);
    assert_eq!(value(&samples, "tollgate_store_errors_total", &[]), 0.0);
    let requests = |route, method, status| {
        value(
            &samples,
            "tollgate_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests("/v1/whoami", "GET", "200"), 3.0);
    assert_eq!(requests("/v1/whoami", "GET", "401"), 4.0);
    assert_eq!(requests("/v1/whoami", "GET", "429"), 1.0);
    assert_eq!(requests("/v1/spaces", "POST", "201"), 1.0);
    // prometheus-parse skips a line whose label value holds braces (a route with a parameter),
    // so that series is read from the text itself.
    let text = app.client.get(metrics_url(&app)).send().await.unwrap();
    let text = text.text().await.unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("tollgate_http_requests_total{")
                && l.contains(r#"route="/v1/spaces/{space_id}/tokens""#)
                && l.contains(r#"method="POST""#)
                && l.contains(r#"status="201""#)
                && l.ends_with(" 1")),
        "{text}"
    );
    assert_eq!(requests("<unmatched>", "GET", "404"), 2.0);
    if store == Store::Memory {
        assert_eq!(value(&samples, "tollgate_revocation_listener_up", &[]), 0.0);
    } else {
        // The listener connects beside the server; wait for it rather than for a time.
        eventually("the revocation listener to be up", PATIENCE, async || {
            let samples = scrape(&app).await;
            (value(&samples, "tollgate_revocation_listener_up", &[]) == 1.0).then_some(())
        })
        .await;
        let reconnects = value(
            &samples,
            "tollgate_revocation_listener_reconnects_total",
            &[],
        );
        assert_eq!(reconnects, 0.0);
    }
    no_label_names_an_id_an_address_a_token_or_a_raw_path(&app, &samples).await;
}

async fn no_label_names_an_id_an_address_a_token_or_a_raw_path(app: &App, samples: &[Sample]) {
    let openapi = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await;
    let openapi: serde_json::Value = openapi.unwrap().json().await.unwrap();
    let mut routes: HashSet<String> = openapi["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    routes.insert("<unmatched>".to_owned());
    assert!(samples.iter().any(|s| s.labels.get("route").is_some()));
    for sample in samples {
        for (label, value) in sample.labels.iter() {
            let what = format!("{}{{{label}={value:?}}}", sample.metric);
            assert!(uuid::Uuid::parse_str(value).is_err(), "a UUID: {what}");
            assert!(
                !value
                    .split(['/', ':'])
                    .any(|part| uuid::Uuid::parse_str(part).is_ok()),
                "a UUID in a path: {what}"
            );
            assert!(
                value.parse::<std::net::IpAddr>().is_err(),
                "an address: {what}"
            );
            for prefix in ["tgc_", "tga_", "tgi_"] {
                assert!(!value.contains(prefix), "a token: {what}");
            }
            if label == "route" {
                assert!(routes.contains(value), "not in the route table: {what}");
            }
        }
    }
}

async fn without_metrics_listen_nothing_serves_metrics(store: Store) {
    let app = spawn_app(store).await;
    assert!(!app.logs().contains("tollgate metrics on"));
    let reply = app.client.get(format!("{}/metrics", app.base)).send().await;
    assert_eq!(reply.unwrap().status(), StatusCode::NOT_FOUND);
}
