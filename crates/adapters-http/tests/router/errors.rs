//! Every bad input answers its status with an `application/problem+json` body and a `code`,
//! never a 500.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{Req, TestApp};

/// Sends `body` as JSON to create a token in a fresh space, as the instance admin.
async fn create_token_with(app: &TestApp, body: serde_json::Value) -> crate::support::Res {
    let space = app.space("acme").await;
    app.send(
        Req::post(&format!("/v1/spaces/{space}/tokens"))
            .token(&app.admin)
            .json(body),
    )
    .await
}

#[tokio::test]
async fn bad_names_are_422_invalid_name() {
    let app = TestApp::new().await;
    for name in [
        "",
        "   ",
        &"x".repeat(101),
        "line\nbreak",
        "nul\u{0}",
        "esc\u{1b}[31m",
        // Names that show nothing, or not what they hold (issue 18, item 5).
        "\u{200b}\u{200b}",
        "\u{feff}",
        "\u{2060}",
        "\u{3164}",
        "\u{2800}",
        "admin\u{202e}txt.exe",
        "iso\u{2066}late",
        "line\u{2028}separator",
        "para\u{2029}graph",
    ] {
        let res = app
            .send(
                Req::post("/v1/spaces")
                    .token(&app.admin)
                    .json(json!({ "name": name })),
            )
            .await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
        let res = create_token_with(&app, json!({ "name": name, "level": "client" })).await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    }
}

#[tokio::test]
async fn a_look_alike_name_is_refused_with_the_rule_it_broke_and_nothing_is_written() {
    let app = TestApp::new().await;
    for (name, detail) in [
        (
            "\u{200b}\u{200b}",
            "`name`: must contain at least one visible character.",
        ),
        (
            "admin\u{202e}txt.exe",
            "`name`: must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069).",
        ),
        (
            "a\u{2028}b",
            "`name`: must not contain line or paragraph separators (U+2028, U+2029).",
        ),
    ] {
        let res = app
            .send(
                Req::post("/v1/spaces")
                    .token(&app.admin)
                    .json(json!({ "name": name })),
            )
            .await;
        let body = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
        assert_eq!(body["detail"], detail);
    }
    let spaces = app
        .send(Req::get("/v1/spaces").token(&app.admin))
        .await
        .json();
    assert_eq!(spaces["items"], json!([]), "no space was created");
    // Invisible characters inside a visible name are kept: emoji need them.
    let res = create_token_with(
        &app,
        json!({ "name": "👩\u{200d}💻 ops", "level": "client" }),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(res.json()["name"], "👩\u{200d}💻 ops");
}

#[tokio::test]
async fn an_unknown_level_is_422_invalid_level() {
    let app = TestApp::new().await;
    for level in ["root", "Admin", "", "tgc_x"] {
        let res = create_token_with(&app, json!({ "name": "x", "level": level })).await;
        let body = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_level");
        assert!(!body["detail"].as_str().unwrap().contains("tgc_"));
    }
}

#[tokio::test]
async fn an_expiry_that_is_not_in_the_future_is_422_expires_at_not_in_future() {
    let app = TestApp::new().await;
    // The test clock shows 2030-01-01T00:00:00Z.
    for at in [
        "2029-12-31T23:59:59Z",
        "2030-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
    ] {
        let res = create_token_with(
            &app,
            json!({ "name": "x", "level": "client", "expires_at": at }),
        )
        .await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "expires_at_not_in_future");
    }
}

#[tokio::test]
async fn malformed_json_is_400_malformed_json() {
    let app = TestApp::new().await;
    for body in [
        &b"{"[..],
        b"{\"name\": }",
        b"",
        b"not json",
        b"{\"name\":\"a\"} trailing",
    ] {
        let res = app
            .send(
                Req::post("/v1/spaces")
                    .token(&app.admin)
                    .raw("application/json", body.to_vec()),
            )
            .await;
        res.assert_problem(StatusCode::BAD_REQUEST, "malformed_json");
    }
}

#[tokio::test]
async fn unknown_missing_and_mistyped_fields_are_422_invalid_body() {
    let app = TestApp::new().await;
    for body in [
        json!({ "name": "x", "extra": 1 }),
        json!({}),
        json!({ "name": 5 }),
        json!({ "name": null }),
        json!([]),
        json!("acme"),
    ] {
        let res = app
            .send(Req::post("/v1/spaces").token(&app.admin).json(body.clone()))
            .await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
    for body in [
        json!({ "name": "x" }),
        json!({ "name": "x", "level": "client", "secret": "mine" }),
        json!({ "name": "x", "level": 1 }),
        json!({ "name": "x", "level": "client", "expires_at": "tomorrow" }),
        json!({ "name": "x", "level": "client", "expires_at": 1_900_000_000 }),
    ] {
        let res = create_token_with(&app, body).await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::new().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let res = app
            .send(
                Req::post("/v1/spaces")
                    .token(&app.admin)
                    .raw(content_type, b"{\"name\":\"acme\"}".to_vec()),
            )
            .await;
        res.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    let mut req = Req::post("/v1/spaces").token(&app.admin);
    req = req.header("x-unrelated", "1");
    let res = app.send(req).await;
    res.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_with_or_without_content_length() {
    let app = TestApp::new().await;
    let big = json!({ "name": "x".repeat(70 * 1024) })
        .to_string()
        .into_bytes();
    let len = big.len().to_string();
    let declared = app
        .send(
            Req::post("/v1/spaces")
                .token(&app.admin)
                .header("content-length", &len)
                .raw("application/json", big.clone()),
        )
        .await;
    declared.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let streamed = app
        .send(
            Req::post("/v1/spaces")
                .token(&app.admin)
                .raw("application/json", big),
        )
        .await;
    streamed.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // A body just under the limit is read (and then refused for its name, not its size).
    let near = json!({ "name": "x".repeat(60 * 1024) });
    let res = app
        .send(Req::post("/v1/spaces").token(&app.admin).json(near))
        .await;
    res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_400_invalid_id() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for (method, path) in [
        (Method::GET, "/v1/spaces/not-a-uuid".to_owned()),
        (Method::GET, "/v1/spaces/123/tokens".to_owned()),
        (Method::GET, format!("/v1/spaces/{space}/tokens/zzz")),
        (Method::DELETE, format!("/v1/spaces/{space}/tokens/%FF%FE")),
        (Method::GET, "/v1/spaces/%00".to_owned()),
    ] {
        let res = app.send(Req::new(method, &path).token(&app.admin)).await;
        res.assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
    }
    let res = app
        .send(
            Req::post("/v1/spaces/nope/tokens")
                .token(&app.admin)
                .json(json!({ "name": "x", "level": "client" })),
        )
        .await;
    let body = res.assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
    assert!(body["detail"].as_str().unwrap().contains("space_id"));
}

#[tokio::test]
async fn bad_limits_cursors_and_levels_are_400_with_their_codes() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let lists = [
        "/v1/spaces".to_owned(),
        format!("/v1/spaces/{space}/tokens"),
    ];
    for list in &lists {
        for (query, code) in [
            ("limit=0", "invalid_limit"),
            ("limit=101", "invalid_limit"),
            ("limit=abc", "invalid_limit"),
            ("limit=-1", "invalid_limit"),
            ("limit=", "invalid_limit"),
            ("cursor=abc", "invalid_cursor"),
            ("cursor=", "invalid_cursor"),
            ("cursor=c1zz", "invalid_cursor"),
            // The unsealed form of earlier versions.
            ("cursor=c10000000000000000000000000000abc", "invalid_cursor"),
            ("limit=1&limit=2", "invalid_query"),
        ] {
            let res = app
                .send(Req::get(&format!("{list}?{query}")).token(&app.admin))
                .await;
            res.assert_problem(StatusCode::BAD_REQUEST, code);
        }
    }
    let res = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens?level=root")).token(&app.admin))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn a_repeated_query_parameter_is_named_in_our_words_not_serdes() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for (query, key) in [
        ("cursor=a&cursor=b", "cursor"),
        ("limit=1&limit=2", "limit"),
        ("level=client&limit=5&lev%65l=admin", "level"),
    ] {
        let res = app
            .send(Req::get(&format!("/v1/spaces/{space}/tokens?{query}")).token(&app.admin))
            .await;
        let body = res.assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("`{key}` is given more than once")),
            "{detail}"
        );
        assert!(!detail.contains("duplicate field"), "{detail}");
    }
}

#[tokio::test]
async fn no_odd_input_produces_a_server_error() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let deep = "[".repeat(200).into_bytes();
    let bodies: [&[u8]; 8] = [
        &deep,
        b"\xff\xfe\xfd",
        b"{\"name\": \"\\ud800\"}",
        b"{\"name\": \"a\", \"name\": \"b\"}",
        b"null",
        b"{\"name\": \"x\", \"level\": \"client\", \"expires_at\": \"9999-12-31T23:59:59Z\"}",
        b"{\"name\": \"x\", \"level\": \"client\", \"expires_at\": \"2030-01-01T00:00:00+25:00\"}",
        b"{\"name\": \"x\", \"level\": \"client\", \"expires_at\": null}",
    ];
    let (token, _) = app.token(&app.admin, space, "client").await;
    let uris = [
        "/v1/spaces".to_owned(),
        format!("/v1/spaces/{space}/tokens"),
        format!("/v1/spaces/{space}/tokens/{token}/rotate"),
    ];
    for uri in &uris {
        for body in bodies {
            let res = app
                .send(
                    Req::post(uri)
                        .token(&app.admin)
                        .raw("application/json", body.to_vec()),
                )
                .await;
            assert!(
                !res.status.is_server_error(),
                "{uri} {:?} -> {} {}",
                String::from_utf8_lossy(body),
                res.status,
                res.text()
            );
        }
    }
    for path in [
        "/v1/spaces/%",
        "/v1/spaces/%25/tokens",
        "/v1/spaces/../../etc/passwd",
        "/v1//spaces",
        "/v1/spaces?limit=99999999999999999999999",
        "/v1/spaces?cursor=%FF",
        "/v1/spaces/%FF/events",
        "/v1/spaces/00000000-0000-0000-0000-000000000000/events?limit=%00",
    ] {
        let res = app.send(Req::get(path).token(&app.admin)).await;
        assert!(!res.status.is_server_error(), "{path} -> {}", res.status);
    }
}
