//! Property tests of the request DTOs and extractors: arbitrary JSON bodies, raw bytes and query
//! strings against every route that takes input never produce a 5xx or a panic, and every
//! refusal is problem+json.

use std::sync::OnceLock;

use axum::http::{header, Method};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    space: Uuid,
    token: Uuid,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (app, space, token) = runtime.block_on(async {
            let app = TestApp::new().await;
            let space = app.space("fuzz").await;
            let admin = app.admin.clone();
            let (token, _) = app.token(&admin, space, "client").await;
            (app, space, token)
        });
        Fixture {
            runtime,
            app,
            space,
            token,
        }
    })
}

fn send(req: Req) -> Res {
    let f = fixture();
    f.runtime.block_on(f.app.send(req))
}

#[track_caller]
fn assert_handled(res: &Res, what: &str) {
    assert!(
        res.status.as_u16() < 500,
        "{what} → {} {}",
        res.status,
        res.text()
    );
    if res.status.is_client_error() {
        assert_eq!(
            res.header(header::CONTENT_TYPE),
            Some("application/problem+json"),
            "{what} → {}",
            res.text()
        );
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("client"),
            Just("admin"),
            Just("9999-12-31T23:30:00-01:00"),
            Just("-9999-01-01T00:00:00Z"),
            Just("2001-01-01T00:00:00Z"),
            Just("2999-01-01T00:00:00+14:00"),
            Just("tgc_02xpJoYNrCxzBhoNyj9xqJ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg4Hg5Jn"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name".to_owned()),
        Just("level".to_owned()),
        Just("expires_at".to_owned()),
        Just("grace_period_seconds".to_owned()),
        Just("credentials".to_owned()),
        Just("description".to_owned()),
        "\\PC{0,12}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn body_routes() -> Vec<(Method, String)> {
    let f = fixture();
    vec![
        (Method::POST, "/v1/spaces".to_owned()),
        (Method::POST, format!("/v1/spaces/{}/tokens", f.space)),
        (
            Method::POST,
            format!("/v1/spaces/{}/tokens/{}/rotate", f.space, f.token),
        ),
        (Method::POST, "/v1/credentials/revoke".to_owned()),
        (
            Method::PATCH,
            format!("/v1/spaces/{}/tokens/{}", f.space, f.token),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_json_body_is_answered_without_a_server_error(body in json(), route in 0usize..5) {
        let (method, path) = body_routes()[route].clone();
        let res = send(Req::new(method, &path).token(&fixture().app.admin).json(body.clone()));
        assert_handled(&res, &format!("{path} {body}"));
    }

    #[test]
    fn any_raw_body_is_answered_without_a_server_error(
        body in prop::collection::vec(any::<u8>(), 0..200),
        content_type in prop_oneof![
            Just("application/json".to_owned()),
            Just("text/plain".to_owned()),
            Just("application/problem+json".to_owned()),
            "\\PC{0,20}",
        ],
        route in 0usize..5,
    ) {
        let (method, path) = body_routes()[route].clone();
        let res = send(Req::new(method, &path).token(&fixture().app.admin).raw(&content_type, body));
        assert_handled(&res, &path);
    }

    #[test]
    fn any_query_string_is_answered_without_a_server_error(
        limit in "\\PC{0,8}",
        cursor in "\\PC{0,40}",
        status in "\\PC{0,20}",
        level in "\\PC{0,8}",
    ) {
        let f = fixture();
        let encode = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
        for path in [
            format!("/v1/spaces/{}/tokens", f.space),
            format!("/v1/spaces/{}/events", f.space),
            "/v1/spaces".to_owned(),
        ] {
            let uri = format!("{path}?limit={}&cursor={}&status={}&level={}", encode(&limit), encode(&cursor), encode(&status), encode(&level));
            let res = send(Req::get(&uri).token(&f.app.admin));
            assert_handled(&res, &uri);
        }
    }

    #[test]
    fn any_path_segment_is_answered_without_a_server_error(segment in "\\PC{1,40}") {
        let encoded: String = segment.bytes().map(|b| format!("%{b:02X}")).collect();
        for uri in [format!("/v1/spaces/{encoded}"), format!("/v1/spaces/{}/tokens/{encoded}", fixture().space)] {
            let res = send(Req::get(&uri).token(&fixture().app.admin));
            assert_handled(&res, &uri);
        }
    }
}
