//! SPEC's list of bad input: every one answered 4xx problem+json, never 500, nothing written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{on_every_store, spawn_app, Store};

on_every_store!(bad_input_gets_a_clear_4xx_and_writes_nothing);

async fn bad_input_gets_a_clear_4xx_and_writes_nothing(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let tokens = format!("/v1/spaces/{space}/tokens");
    let post_raw = |path: String, body: &'static str, content_type: &'static str| {
        let request = app
            .client
            .post(format!("{}{path}", app.base))
            .header("x-undb-api-token", &app.admin)
            .header("content-type", content_type)
            .body(body);
        async move { crate::support::Reply::read(request.send().await.unwrap()).await }
    };

    post_raw(tokens.clone(), "{\"name\": ", "application/json")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_json");
    let long = "x".repeat(101);
    let cases = [
        (json!({ "name": "", "level": "client" }), "invalid_name"),
        (json!({ "name": "   ", "level": "client" }), "invalid_name"),
        (json!({ "name": long, "level": "client" }), "invalid_name"),
        (
            json!({ "name": "a\u{0}b", "level": "client" }),
            "invalid_name",
        ),
        (json!({ "name": "x", "level": "root" }), "invalid_level"),
        (
            json!({ "name": "x", "level": "client", "expires_at": "2001-01-01T00:00:00Z" }),
            "expires_at_not_in_future",
        ),
        (
            json!({ "name": "x", "level": "client", "extra": 1 }),
            "invalid_body",
        ),
        (json!({ "name": 5, "level": "client" }), "invalid_body"),
        (json!({ "level": "client" }), "invalid_body"),
    ];
    for (body, code) in cases {
        let reply = app.post(&tokens, &app.admin, body.clone()).await;
        assert!(
            reply.status == StatusCode::BAD_REQUEST
                || reply.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {reply:?}"
        );
        assert_eq!(reply.body["code"], code, "{body} → {reply:?}");
        assert!(reply
            .header("content-type")
            .starts_with("application/problem+json"));
    }
    let huge = "y".repeat(70 * 1024);
    let too_big = app
        .post(
            &tokens,
            &app.admin,
            json!({ "name": huge, "level": "client" }),
        )
        .await;
    too_big.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(
        too_big.header("connection"),
        "close",
        "the unread body ends the connection"
    );
    app.get("/v1/spaces/not-a-uuid", &app.admin)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
    app.get(&format!("{tokens}/not-a-uuid"), &app.admin)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
    app.get(&format!("{tokens}?limit=0"), &app.admin)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
    app.get(&format!("{tokens}?limit=101"), &app.admin)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
    app.get(&format!("{tokens}?cursor=nonsense"), &app.admin)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
    app.get("/nowhere", &app.admin)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.call(Method::PUT, "/v1/spaces", Some(&app.admin), None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let in_query = app
        .call(
            Method::GET,
            &format!("/v1/whoami?token={}", app.admin),
            None,
            None,
        )
        .await;
    in_query.assert_problem(StatusCode::BAD_REQUEST, "token_in_query");
    assert!(in_query.body["detail"].as_str().unwrap().contains("header"));
    assert!(
        !in_query.body.to_string().contains(&app.admin),
        "the error must not echo the token"
    );

    // Nothing of the above was written.
    let listed = app.get(&tokens, &app.admin).await;
    assert_eq!(listed.ids(), Vec::<String>::new());
    assert_eq!(app.get("/v1/spaces", &app.admin).await.ids(), vec![space]);
}
