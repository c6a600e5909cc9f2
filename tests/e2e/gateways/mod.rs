//! Real gateways in front of an API, asking tollgate's forward auth: Debian's nginx
//! (`auth_request`) and Caddy (`forward_auth`), each run with the configuration that
//! docs/gateways.md shows (`docs/gateways/`). Every scenario runs on both:
//!
//! - a valid token reaches the upstream with its identity headers;
//! - junk, missing, revoked and wrong-space tokens are stopped with 401 or 403, and the client
//!   sees `WWW-Authenticate`; the upstream is never reached;
//! - a token in the query string is stopped;
//! - a forged `X-Tollgate-Space-Id` (or `X_Tollgate_Space_Id`) from the client never reaches
//!   the upstream, with a space token and with an instance admin token;
//! - during a database outage the gateway answers an error and the upstream is never reached.

mod harness;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use self::harness::{Gateway, Kind, Upstream};
use crate::outage::{behind_a_proxy, wait_until_not_ready};
use crate::support::{spawn_app, App, Store};

/// Runs each `async fn(Kind)` scenario on nginx and on Caddy.
macro_rules! on_every_gateway {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn nginx() {
                super::$scenario(super::Kind::Nginx).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn caddy() {
                super::$scenario(super::Kind::Caddy).await;
            }
        }
    )*};
}

on_every_gateway!(
    a_valid_token_reaches_the_upstream_with_its_identity,
    junk_missing_revoked_and_wrong_space_tokens_are_stopped_with_a_challenge,
    a_token_in_the_query_string_is_stopped,
    forged_identity_headers_never_reach_the_upstream,
    during_a_database_outage_the_gateway_fails_closed,
);

/// tollgate on the in-memory store, a space `acme` with a client token, the upstream, and the
/// gateway in front, `/acme/` taking tokens of that space only.
struct Setup {
    app: App,
    space: String,
    client: String,
    upstream: Upstream,
    gateway: Gateway,
}

async fn setup(kind: Kind) -> Setup {
    let app = spawn_app(Store::Memory).await;
    let space = app.create_space("acme").await;
    let (_, client) = app.create_token(&app.admin, &space, "client").await;
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(kind, &app.base, &upstream, &space).await;
    Setup {
        app,
        space,
        client,
        upstream,
        gateway,
    }
}

/// What the client gets from the gateway.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    /// The upstream's echo of its request headers, if it was reached.
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The values of the headers the upstream received under this name.
    fn upstream_saw(&self, name: &str) -> Vec<String> {
        self.body[name]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `path` through `gateway`, with `token` in `x-undb-api-token` and `headers`.
async fn through(
    gateway: &Gateway,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request =
        reqwest::Client::new().request(Method::GET, format!("{}{path}", gateway.base));
    if let Some(token) = token {
        request = request.header("x-undb-api-token", token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn a_valid_token_reaches_the_upstream_with_its_identity(kind: Kind) {
    let setup = setup(kind).await;
    let (token_id, admin) = setup
        .app
        .create_token(&setup.app.admin, &setup.space, "admin")
        .await;

    for path in ["/api/items?page=2", "/acme/items"] {
        let answer = through(&setup.gateway, path, Some(&admin), &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{path}: {:?}\n{}",
            answer.body,
            setup.gateway.logs()
        );
        assert_eq!(
            answer.upstream_saw("x-tollgate-token-id"),
            [token_id.as_str()]
        );
        assert_eq!(
            answer.upstream_saw("x-tollgate-space-id"),
            [setup.space.as_str()]
        );
        assert_eq!(answer.upstream_saw("x-tollgate-level"), ["admin"]);
        assert_eq!(
            answer.upstream_saw("x-tollgate-permissions"),
            ["CREATE_API_TOKEN,READ_API_TOKEN,READ_ADMIN_API_TOKEN,REVOKE_API_TOKEN"]
        );
    }
    let answer = through(&setup.gateway, "/api/items", Some(&setup.client), &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.upstream_saw("x-tollgate-level"), ["client"]);
    // An instance admin passes everywhere, with `*` for its space.
    let answer = through(&setup.gateway, "/acme/items", Some(&setup.app.admin), &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.upstream_saw("x-tollgate-space-id"), ["*"]);
    assert_eq!(setup.upstream.hits(), 4);
}

async fn junk_missing_revoked_and_wrong_space_tokens_are_stopped_with_a_challenge(kind: Kind) {
    let setup = setup(kind).await;
    let app = &setup.app;
    let (revoked_id, revoked) = app.create_token(&app.admin, &setup.space, "client").await;
    let reply = app
        .delete(
            &format!("/v1/spaces/{}/tokens/{revoked_id}", setup.space),
            &app.admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{reply:?}");
    let other = app.create_space("other").await;
    let (_, other_client) = app.create_token(&app.admin, &other, "client").await;

    let answer = through(&setup.gateway, "/api/items", None, &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.header("www-authenticate"),
        "Bearer realm=\"tollgate\""
    );
    for token in ["junk", revoked.as_str()] {
        let answer = through(&setup.gateway, "/api/items", Some(token), &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
        assert_eq!(
            answer.header("www-authenticate"),
            "Bearer realm=\"tollgate\", error=\"invalid_token\""
        );
    }
    // Valid, but of another space than /acme/ takes.
    let answer = through(&setup.gateway, "/acme/items", Some(&other_client), &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{:?}", answer.body);
    assert_eq!(
        answer.header("www-authenticate"),
        "Bearer realm=\"tollgate\", error=\"insufficient_scope\""
    );
    assert_eq!(
        setup.upstream.hits(),
        0,
        "a refused request reached the upstream"
    );
    // The same token is fine where any space is.
    let answer = through(&setup.gateway, "/api/items", Some(&other_client), &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
}

async fn a_token_in_the_query_string_is_stopped(kind: Kind) {
    let setup = setup(kind).await;
    let client = &setup.client;
    for path in [
        format!("/api/items?token={client}"),
        format!("/api/items?page=2&access_token={client}"),
        "/api/items?api_token=x".to_owned(),
    ] {
        // With the token in the header as well: the query alone decides.
        let answer = through(&setup.gateway, &path, Some(client), &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {:?}",
            answer.body
        );
        assert!(!answer.header("www-authenticate").is_empty(), "{path}");
    }
    assert_eq!(
        setup.upstream.hits(),
        0,
        "a token in the query reached the upstream"
    );
}

async fn forged_identity_headers_never_reach_the_upstream(kind: Kind) {
    let setup = setup(kind).await;
    let forged = "0190c6c4-0000-7000-8000-000000000bad";
    let forgeries = [
        ("X-Tollgate-Space-Id", forged),
        ("X_Tollgate_Space_Id", forged),
        ("x_tollgate_level", "admin"),
        ("X-Tollgate-Token-Id", forged),
        ("X-Tollgate-Permissions", "MANAGE_SPACES"),
    ];
    let instance_admin = setup.app.admin.clone();
    for (token, space) in [
        (&setup.client, setup.space.as_str()),
        (&instance_admin, "*"),
    ] {
        let answer = through(&setup.gateway, "/api/items", Some(token), &forgeries).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.upstream_saw("x-tollgate-space-id"), [space]);
        // Under any spelling a framework might read as an identity header, only tollgate's.
        let received = answer.body.as_object().expect("the upstream's echo");
        for (name, values) in received {
            let normalized = name.to_ascii_lowercase().replace('_', "-");
            if !normalized.starts_with("x-tollgate-") {
                continue;
            }
            assert_eq!(
                name, &normalized,
                "the client's {name} reached the upstream"
            );
            let values: Vec<&str> = values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(values.len(), 1, "{name}: {values:?}");
            assert!(!values.contains(&forged), "{name}: {values:?}");
            assert!(
                !values.contains(&"MANAGE_SPACES") || space == "*",
                "{name}: {values:?}"
            );
        }
        let level = if space == "*" { "admin" } else { "client" };
        assert_eq!(answer.upstream_saw("x-tollgate-level"), [level]);
    }
}

async fn during_a_database_outage_the_gateway_fails_closed(kind: Kind) {
    let (_db, mut proxy, app) = behind_a_proxy(&[]).await;
    let space = app.create_space("acme").await;
    let (_, never_used) = app.create_token(&app.admin, &space, "client").await;
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(kind, &app.base, &upstream, &space).await;

    proxy.stop().await;
    wait_until_not_ready(&app).await;
    for path in ["/api/items", "/acme/items"] {
        let answer = through(&gateway, path, Some(&never_used), &[]).await;
        assert!(
            answer.status.is_server_error(),
            "{path}: {} {:?}",
            answer.status,
            answer.body
        );
    }
    assert_eq!(
        upstream.hits(),
        0,
        "the upstream was reached during the outage"
    );
}

#[test]
fn the_guide_shows_the_tested_configurations_word_for_word() {
    let guide = include_str!("../../../docs/gateways.md");
    for (file, text) in [
        (
            "docs/gateways/nginx.conf",
            include_str!("../../../docs/gateways/nginx.conf"),
        ),
        (
            "docs/gateways/Caddyfile",
            include_str!("../../../docs/gateways/Caddyfile"),
        ),
    ] {
        assert!(
            guide.contains(text),
            "docs/gateways.md no longer shows {file} as it is tested"
        );
    }
}
