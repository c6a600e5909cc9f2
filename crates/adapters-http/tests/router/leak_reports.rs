//! `POST /v1/credentials/revoke`: no token needed, one answer for every accepted report, the
//! reported valid tokens revoked by the router's own worker, and every bad body a 4xx
//! problem+json.

use std::time::Duration;

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::ports::RandomSource;
use tollgate_app::TrustedProxies;
use tollgate_domain::{ParsedToken, TokenString};
use tollgate_http::{HttpConfig, BODY_LIMIT_BYTES, LEAK_REPORT_BODY_LIMIT_BYTES};
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

const PATH: &str = "/v1/credentials/revoke";

fn report(credentials: &[&str]) -> Req {
    Req::post(PATH).json(json!({ "credentials": credentials }))
}

/// `token` with another secret: its id is real, its secret wrong.
fn forged(token: &str) -> String {
    let parsed = ParsedToken::parse(token).unwrap();
    TokenString::new(parsed.kind(), parsed.id(), &OsRandomSource.secret()).into_exposed()
}

/// Asks `whoami` with `token` until it is refused; the worker revokes in the background.
async fn until_refused(app: &TestApp, token: &str) {
    let refused = async {
        loop {
            let res = app.send(Req::get("/v1/whoami").token(token)).await;
            if res.status == StatusCode::UNAUTHORIZED {
                return;
            }
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), refused)
        .await
        .expect("the reported token was revoked");
}

fn assert_accepted(res: &Res) -> Vec<u8> {
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    assert_eq!(res.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(
        res.json(),
        json!({ "message": "Every credential that is a valid tollgate token will be revoked." })
    );
    res.body.clone()
}

async fn events(app: &TestApp, space: Uuid) -> Vec<Value> {
    let res = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_reported_token_stops_working_and_its_revocation_names_leak_report() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, client) = app.token(&app.admin, space, "client").await;

    assert_accepted(&app.send(report(&[&client])).await);
    until_refused(&app, &client).await;

    let metadata = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens/{id}")).token(&app.admin))
        .await
        .json();
    assert_eq!(metadata["status"], "revoked");
    let events = events(&app, space).await;
    let revoked = events
        .iter()
        .find(|e| e["action"] == "token.revoked")
        .expect("a revocation event");
    assert_eq!(revoked["actor"], "leak_report");
    assert_eq!(revoked["token_id"], id.to_string());
}

#[tokio::test]
async fn the_last_instance_admin_token_is_revoked_too() {
    let app = TestApp::new().await;
    assert_accepted(&app.send(report(&[&app.admin])).await);
    until_refused(&app, &app.admin).await;
}

#[tokio::test]
async fn the_answer_is_the_same_whatever_was_sent_and_junk_and_a_wrong_secret_change_nothing() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (kept_id, kept) = app.token(&app.admin, space, "client").await;
    let (leaked_id, leaked) = app.token(&app.admin, space, "admin").await;
    let about = |events: &[Value], id: Uuid| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["token_id"] == id.to_string())
            .cloned()
            .collect()
    };
    let kept_before = about(&events(&app, space).await, kept_id);

    let wrong_secret = forged(&kept);
    let junk_token = format!("tgc_{}", "A".repeat(71));
    let reports: [&[&str]; 5] = [
        &["not a token", "", &junk_token],
        &[&wrong_secret],
        &[&wrong_secret, &wrong_secret, "x"],
        &[&format!(" {leaked}\n"), &leaked],
        &[&kept[..74]],
    ];
    let mut answers = Vec::new();
    for credentials in reports {
        let res = app.send(report(credentials)).await;
        answers.push((res.status, res.headers.clone(), assert_accepted(&res)));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );

    // The worker takes candidates in order: once the leaked token is refused, the wrong secret
    // before it has been verified, and changed nothing.
    until_refused(&app, &leaked).await;
    let ok = app.send(Req::get("/v1/whoami").token(&kept)).await;
    assert_eq!(ok.status, StatusCode::OK);
    let events_after = events(&app, space).await;
    assert_eq!(about(&events_after, kept_id), kept_before);
    let revocations: Vec<Value> = about(&events_after, leaked_id)
        .into_iter()
        .filter(|e| e["action"] == "token.revoked")
        .collect();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0]["actor"], "leak_report");
}

#[tokio::test]
async fn bad_reports_are_problem_json_4xx_and_need_no_token() {
    let app = TestApp::new().await;
    let many: Vec<String> = (0..1001).map(|n| n.to_string()).collect();
    for (req, status, code) in [
        (
            Req::post(PATH).raw("text/plain", b"tgc_abc".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Req::post(PATH).raw("application/json", b"{\"credentials\": [".to_vec()),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            Req::post(PATH).json(json!(["tgc_abc"])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Req::post(PATH).json(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Req::post(PATH).json(json!({ "credentials": ["a"], "reason": "leak" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Req::post(PATH).json(json!({ "credentials": ["a", 7, null] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Req::post(PATH).json(json!({ "credentials": "tgc_abc" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Req::post(PATH).json(json!({ "credentials": [] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_credentials",
        ),
        (
            Req::post(PATH).json(json!({ "credentials": many })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_credentials",
        ),
        (
            Req::post(PATH).raw(
                "application/json",
                vec![b' '; LEAK_REPORT_BODY_LIMIT_BYTES + 1],
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            Req::post(&format!("{PATH}?token=tgc_abc")).json(json!({ "credentials": ["a"] })),
            StatusCode::BAD_REQUEST,
            "token_in_query",
        ),
    ] {
        let body = app.send(req).await.assert_problem(status, code);
        assert!(
            !body["detail"].as_str().unwrap().contains("tgc_abc"),
            "{body}"
        );
    }
    let declared = app
        .send(Req::post(PATH).header(
            "content-length",
            &(LEAK_REPORT_BODY_LIMIT_BYTES + 1).to_string(),
        ))
        .await;
    let body = declared.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(body["detail"], "The request body must be at most 128 KiB.");
}

#[tokio::test]
async fn a_full_report_of_pretty_printed_tokens_fits_where_other_bodies_do_not() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (_, client) = app.token(&app.admin, space, "client").await;
    let credentials: Vec<String> = (0..1000).map(|_| forged(&client)).collect();
    let body = serde_json::to_vec_pretty(&json!({ "credentials": credentials })).unwrap();
    assert!(body.len() > BODY_LIMIT_BYTES && body.len() <= LEAK_REPORT_BODY_LIMIT_BYTES);
    assert_accepted(
        &app.send(Req::post(PATH).raw("application/json", body))
            .await,
    );
    // Elsewhere the same size is refused.
    let res = app
        .send(
            Req::post("/v1/spaces")
                .token(&app.admin)
                .raw("application/json", vec![b' '; BODY_LIMIT_BYTES + 1]),
        )
        .await;
    res.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn each_client_address_may_report_1000_credentials_at_once_then_waits() {
    let app = TestApp::with(
        HttpConfig::default().with_trusted_proxies(TrustedProxies::parse("10.0.0.1").unwrap()),
        None,
    )
    .await;
    let junk: Vec<String> = (0..1000).map(|n| format!("junk {n}")).collect();
    let junk: Vec<&str> = junk.iter().map(String::as_str).collect();
    assert_accepted(&app.send(report(&junk).from("192.0.2.7:1000")).await);

    let refused = app.send(report(&["one more"]).from("192.0.2.7:1001")).await;
    refused.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_credentials");
    let wait: u64 = refused
        .header(header::RETRY_AFTER)
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");

    // Another address, and each client behind the trusted proxy, has an allowance of its own.
    assert_accepted(&app.send(report(&junk).from("192.0.2.8:1000")).await);
    for client in ["203.0.113.1", "203.0.113.2"] {
        let res = app
            .send(
                report(&junk)
                    .from("10.0.0.1:443")
                    .header("x-forwarded-for", client),
            )
            .await;
        assert_accepted(&res);
    }
    let res = app
        .send(
            report(&["x"])
                .from("10.0.0.1:443")
                .header("x-forwarded-for", "203.0.113.1"),
        )
        .await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_credentials");
}
