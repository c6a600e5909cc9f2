//! A test app around the router: a fresh core, an instance admin token, request and response
//! helpers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tollgate_app::ports::StoreHealth;
use tollgate_app::testing::{FakeHasher, TestCore};
use tollgate_domain::LifetimePolicy;
use tollgate_http::{router_with, AppState, HttpConfig};
use tower::ServiceExt;
use uuid::Uuid;

/// The client address of every request that does not say otherwise (`Req::from`).
pub const DEFAULT_PEER: &str = "192.0.2.10:40000";

/// The router on a fresh core, and an instance admin token for it. Requests come from
/// [`DEFAULT_PEER`], as if served with `into_make_service_with_connect_info`.
pub struct TestApp {
    pub core: TestCore,
    pub router: Router,
    /// An instance admin token string.
    pub admin: String,
}

/// The router on a fresh core whose verifications never end (the hasher's gate stays shut), an
/// instance admin token for it, and the hasher, to ask how many verifications started.
pub async fn router_with_stalled_hashes(config: HttpConfig) -> (Router, String, Arc<FakeHasher>) {
    let hasher = Arc::new(FakeHasher::gated());
    let core = TestCore::with_hasher(hasher.clone());
    let admin = core
        .tokens
        .ensure_instance_admin()
        .await
        .unwrap()
        .expect("a fresh store has no instance admin");
    let state = AppState::new(
        core.spaces.clone(),
        core.tokens.clone(),
        Arc::new(core.store.clone()),
    );
    (
        router_with(state, config),
        admin.secret().expose().to_owned(),
        hasher,
    )
}

impl TestApp {
    pub async fn new() -> Self {
        Self::build(HttpConfig::default(), None, None).await
    }

    pub async fn with(config: HttpConfig, health: Option<Arc<dyn StoreHealth>>) -> Self {
        Self::build(config, health, None).await
    }

    /// A test app whose token service applies these lifetime rules.
    pub async fn with_lifetime_policy(policy: LifetimePolicy) -> Self {
        Self::build(HttpConfig::default(), None, Some(policy)).await
    }

    async fn build(
        config: HttpConfig,
        health: Option<Arc<dyn StoreHealth>>,
        lifetime: Option<LifetimePolicy>,
    ) -> Self {
        let mut core = TestCore::new();
        if let Some(policy) = lifetime {
            core.tokens = core.tokens.clone().with_lifetime_policy(policy);
        }
        let issued = core
            .tokens
            .ensure_instance_admin()
            .await
            .unwrap()
            .expect("a fresh store has no instance admin");
        let admin = issued.secret().expose().to_owned();
        let health = health.unwrap_or_else(|| Arc::new(core.store.clone()));
        let state = AppState::new(core.spaces.clone(), core.tokens.clone(), health);
        let peer: SocketAddr = DEFAULT_PEER.parse().unwrap();
        Self {
            router: router_with(state, config).layer(MockConnectInfo(peer)),
            core,
            admin,
        }
    }

    pub async fn send(&self, req: Req) -> Res {
        send(&self.router, req).await
    }

    /// Creates a space as the instance admin; returns its id.
    pub async fn space(&self, name: &str) -> Uuid {
        let res = self
            .send(
                Req::post("/v1/spaces")
                    .token(&self.admin)
                    .json(json!({ "name": name })),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        res.uuid("id")
    }

    /// Creates a token in `space` as `as_token`; returns its id and secret.
    pub async fn token(&self, as_token: &str, space: Uuid, level: &str) -> (Uuid, String) {
        let res = self
            .send(
                Req::post(&format!("/v1/spaces/{space}/tokens"))
                    .token(as_token)
                    .json(json!({ "name": format!("{level} token"), "level": level })),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let json = res.json();
        (res.uuid("id"), json["token"].as_str().unwrap().to_owned())
    }

    /// A space with an admin and a client token: (space, admin token, client token).
    pub async fn space_with_tokens(&self, name: &str) -> (Uuid, String, String) {
        let space = self.space(name).await;
        let (_, admin) = self.token(&self.admin, space, "admin").await;
        let (_, client) = self.token(&self.admin, space, "client").await;
        (space, admin, client)
    }
}

pub async fn send(router: &Router, req: Req) -> Res {
    let mut builder = Request::builder().method(req.method).uri(req.uri);
    for (name, value) in req.headers {
        builder = builder.header(name, value);
    }
    if let Some(peer) = req.peer {
        builder = builder.extension(ConnectInfo(peer));
    }
    let response = router
        .clone()
        .oneshot(builder.body(Body::from(req.body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Res {
        status,
        headers,
        body: body.to_vec(),
    }
}

/// A request to build.
pub struct Req {
    method: Method,
    uri: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
    peer: Option<SocketAddr>,
}

impl Req {
    pub fn new(method: Method, uri: &str) -> Self {
        Self {
            method,
            uri: uri.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            peer: None,
        }
    }

    /// The request comes from this client address (`ip:port`).
    pub fn from(mut self, peer: &str) -> Self {
        self.peer = Some(peer.parse().unwrap());
        self
    }

    pub fn get(uri: &str) -> Self {
        Self::new(Method::GET, uri)
    }

    pub fn post(uri: &str) -> Self {
        Self::new(Method::POST, uri)
    }

    pub fn delete(uri: &str) -> Self {
        Self::new(Method::DELETE, uri)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            HeaderName::try_from(name).unwrap(),
            HeaderValue::try_from(value).unwrap(),
        ));
        self
    }

    /// A header whose value is raw bytes (not necessarily visible ASCII).
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((
            HeaderName::try_from(name).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        ));
        self
    }

    /// The token in `x-undb-api-token`.
    pub fn token(self, token: &str) -> Self {
        self.header("x-undb-api-token", token)
    }

    /// The token as `Authorization: Bearer`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    // By value, so call sites read `.json(json!({ .. }))`.
    #[allow(clippy::needless_pass_by_value)]
    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", body.to_string().into_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self = self.header("content-type", content_type);
        self.body = body;
        self
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn uuid(&self, field: &str) -> Uuid {
        self.json()[field].as_str().unwrap().parse().unwrap()
    }

    /// Asserts a problem+json answer with this status and code; returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert_eq!(
            body["type"],
            format!("https://tollgate.dev/problems/{code}"),
            "{body}"
        );
        assert!(body["title"].is_string(), "{body}");
        assert!(body["detail"].is_string(), "{body}");
        body
    }
}
