//! Leak reports over HTTP on every store: a reported token stops working (asked until it
//! answers 401), junk and a wrong secret change nothing, every accepted report gets the same
//! answer, and a leaked instance admin token is revoked too, the last one included; the
//! per-address limit on reported credentials is `TOLLGATE_LEAK_REPORTS_PER_ADDRESS`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::ports::RandomSource;
use tollgate_domain::{ParsedToken, TokenString};

use crate::support::{
    eventually, on_every_store, spawn_app, spawn_app_with, App, Reply, Store, PATIENCE,
};

on_every_store!(
    a_leaked_token_stops_working_and_junk_and_a_wrong_secret_change_nothing,
    a_leaked_instance_admin_token_is_revoked_even_the_last_one,
);

async fn report(app: &App, credentials: &[&str]) -> Reply {
    app.call(
        Method::POST,
        "/v1/credentials/revoke",
        None,
        Some(json!({ "credentials": credentials })),
    )
    .await
}

/// `token` with another secret: its id is real, its secret wrong.
fn forged(token: &str) -> String {
    let parsed = ParsedToken::parse(token).unwrap();
    TokenString::new(parsed.kind(), parsed.id(), &OsRandomSource.secret()).into_exposed()
}

/// Asks `whoami` with `token` until it answers 401.
async fn until_refused(app: &App, token: &str) {
    eventually("the reported token to be refused", PATIENCE, async || {
        let reply = app.get("/v1/whoami", token).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => Some(()),
            StatusCode::OK => None,
            other => panic!("whoami answered {other}: {reply:?}"),
        }
    })
    .await;
}

/// Status and body of an accepted report, which must be the same for every report.
fn accepted(reply: &Reply) -> (StatusCode, Value) {
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
    (reply.status, reply.body.clone())
}

async fn events_about(app: &App, space: &str, token_id: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/v1/spaces/{space}/events?limit=100"), &app.admin)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["token_id"] == token_id)
        .cloned()
        .collect()
}

async fn a_leaked_token_stops_working_and_junk_and_a_wrong_secret_change_nothing(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (kept_id, kept) = app.create_token(&app.admin, &space, "client").await;
    let (leaked_id, leaked) = app.create_token(&app.admin, &space, "client").await;
    let kept_events = events_about(&app, &space, &kept_id).await;

    let junk = format!("tgc_{}", "A".repeat(71));
    let answers = [
        accepted(&report(&app, &["not a token", &junk, &kept[..74]]).await),
        accepted(&report(&app, &[&forged(&kept)]).await),
        accepted(&report(&app, &["padding", &leaked]).await),
    ];
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(
        answers[0].1,
        json!({ "message": "Every credential that is a valid tollgate token will be revoked." })
    );

    until_refused(&app, &leaked).await;
    // Verified in order: the wrong secret before the leaked token, and it changed nothing.
    assert_eq!(app.get("/v1/whoami", &kept).await.status, StatusCode::OK);
    assert_eq!(events_about(&app, &space, &kept_id).await, kept_events);
    let revoked: Vec<Value> = events_about(&app, &space, &leaked_id)
        .await
        .into_iter()
        .filter(|e| e["action"] == "token.revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["actor"], "leak_report");
    let metadata = app
        .get(
            &format!("/v1/spaces/{space}/tokens/{leaked_id}"),
            &app.admin,
        )
        .await;
    assert_eq!(metadata.body["status"], "revoked");
}

async fn a_leaked_instance_admin_token_is_revoked_even_the_last_one(store: Store) {
    let app = spawn_app(store).await;
    accepted(&report(&app, &[&app.admin]).await);
    until_refused(&app, &app.admin).await;
}

/// The limit is configuration only, so the in-memory store shows it for all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_address_limit_on_reported_credentials_is_configurable_and_0_turns_it_off() {
    let junk: Vec<String> = (0..1000).map(|n| format!("not a token {n}")).collect();
    let junk: Vec<&str> = junk.iter().map(String::as_str).collect();

    let limited =
        spawn_app_with(Store::Memory, &[("TOLLGATE_LEAK_REPORTS_PER_ADDRESS", "3")]).await;
    accepted(&report(&limited, &junk[..3]).await);
    let refused = report(&limited, &junk[..1]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");
    assert_eq!(refused.body["code"], "too_many_credentials");

    // The default (1000 at once, then 1000 an hour) would refuse the second of these.
    let unlimited =
        spawn_app_with(Store::Memory, &[("TOLLGATE_LEAK_REPORTS_PER_ADDRESS", "0")]).await;
    for _ in 0..3 {
        accepted(&report(&unlimited, &junk).await);
    }
}
