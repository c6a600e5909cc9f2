#![doc = include_str!("../README.md")]

pub mod act_as;
pub mod dto;
pub mod error;
pub mod extract;
mod form;
mod handlers;
mod http_layer;
mod middleware;
mod openapi;
mod rate_limit;
mod request_metrics;
mod serve;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::Router;
use tollgate_app::ports::StoreHealth;
use tollgate_app::telemetry::HttpRequestMetrics;
use tollgate_app::{LeakReportConfig, LeakReports, SpaceService, TokenService, TrustedProxies};

pub use error::{ApiError, ErrorCode};
pub use extract::{ApiJson, ApiPath, ApiQuery, AuthState, Authenticated};
pub use rate_limit::{
    AuthFailureLimit, AuthLimits, DEFAULT_FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_TOKEN,
};
pub use request_metrics::with_request_metrics;
pub use serve::{serve, ConnectionConfig};

/// The largest request body accepted, in bytes (64 KiB). Larger bodies are answered with 413
/// `payload_too_large` before a handler runs.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The largest leak report body accepted, in bytes (128 KiB): 1000 tokens of 75 characters
/// take 77 KiB as compact JSON, more than [`BODY_LIMIT_BYTES`]; this leaves each of them 56
/// bytes more for the white space and indentation of pretty-printed JSON.
pub const LEAK_REPORT_BODY_LIMIT_BYTES: usize = 128 * 1024;

/// The header that carries a token (the platform's established name). `Authorization: Bearer`
/// works as well.
pub const TOKEN_HEADER: &str = "x-undb-api-token";

/// What the handlers need: the two services and a way to ask whether the store answers.
#[derive(Clone)]
pub struct AppState {
    /// Creating, reading and listing spaces.
    pub spaces: SpaceService,
    /// Issuing, listing, reading, revoking and verifying tokens.
    pub tokens: TokenService,
    /// Readiness: `GET /readyz` asks it.
    pub health: Arc<dyn StoreHealth>,
}

impl AppState {
    /// State over these services and this health check.
    #[must_use]
    pub fn new(spaces: SpaceService, tokens: TokenService, health: Arc<dyn StoreHealth>) -> Self {
        Self {
            spaces,
            tokens,
            health,
        }
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("spaces", &self.spaces)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl FromRef<AppState> for TokenService {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}

/// The state the router's handlers see: the caller's [`AppState`] and what the router adds.
#[derive(Debug, Clone)]
pub(crate) struct RouterState {
    app: AppState,
    limits: Option<AuthLimits>,
    trusted_proxies: TrustedProxies,
    leaks: LeakReports,
}

impl FromRef<RouterState> for AppState {
    fn from_ref(state: &RouterState) -> Self {
        state.app.clone()
    }
}

impl AuthState for RouterState {
    fn token_service(&self) -> &TokenService {
        &self.app.tokens
    }

    fn auth_limits(&self) -> Option<&AuthLimits> {
        self.limits.as_ref()
    }

    fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }
}

/// How the router behaves, beyond what the state holds.
///
/// The brute-force limits count FAILED authentications only. They need the client's address:
/// serve the router with `into_make_service_with_connect_info::<SocketAddr>()`; without it,
/// only the per-token limit applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// How long one request may take, body reading and token verification included. A request
    /// still running then is answered with 503 `timeout`. Default: 30 seconds.
    pub request_timeout: Duration,
    /// Failed authentications allowed per client address (IPv6: per /64) before its requests
    /// are answered 429 `too_many_requests`; `None` for no limit. Default:
    /// [`DEFAULT_FAILURES_PER_ADDRESS`] (20 in a row, then 20 a minute).
    pub failed_auth_per_address: Option<AuthFailureLimit>,
    /// Failed authentications allowed per token id (from a well-formed token string) before
    /// every request presenting that id is answered 429, from any address; `None` for no
    /// limit. Default: [`DEFAULT_FAILURES_PER_TOKEN`] (10 in a row, then 10 a minute).
    pub failed_auth_per_token: Option<AuthFailureLimit>,
    /// The reverse proxies of ours (`TOLLGATE_TRUSTED_PROXIES`): `X-Forwarded-For` is read only
    /// when the TCP peer is one of them, walking from the right past trusted entries; the first
    /// untrusted entry is the client. Default: none, so the header is ignored and the client
    /// address is the TCP peer, since any client can write the header.
    pub trusted_proxies: TrustedProxies,
    /// How `POST /v1/credentials/revoke` takes in leak reports: the queue of candidates and
    /// the credentials each client address may report. Default: [`LeakReportConfig`]'s (10 000
    /// queued, 1000 credentials per address at once, then 1000 an hour).
    pub leak_reports: LeakReportConfig,
    /// Where to count and time every request (`tollgate_http_requests_total`,
    /// `tollgate_http_request_duration_seconds`), as the outermost layer of each route's stack,
    /// so that a timeout's 503 and a panic's 500 are counted too; `None` counts nothing and
    /// costs nothing. Default: `None`.
    pub request_metrics: Option<HttpRequestMetrics>,
}

impl HttpConfig {
    /// The default request timeout.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// This configuration with another request timeout.
    #[must_use]
    pub const fn with_request_timeout(mut self, request_timeout: Duration) -> Self {
        self.request_timeout = request_timeout;
        self
    }

    /// This configuration with another per-address failure limit (`None`: no limit).
    #[must_use]
    pub const fn with_failed_auth_per_address(mut self, limit: Option<AuthFailureLimit>) -> Self {
        self.failed_auth_per_address = limit;
        self
    }

    /// This configuration with another per-token failure limit (`None`: no limit).
    #[must_use]
    pub const fn with_failed_auth_per_token(mut self, limit: Option<AuthFailureLimit>) -> Self {
        self.failed_auth_per_token = limit;
        self
    }

    /// This configuration trusting the `X-Forwarded-For` entries of these proxies.
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// This configuration taking in leak reports as `config` says.
    #[must_use]
    pub const fn with_leak_reports(mut self, config: LeakReportConfig) -> Self {
        self.leak_reports = config;
        self
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            failed_auth_per_address: Some(DEFAULT_FAILURES_PER_ADDRESS),
            failed_auth_per_token: Some(DEFAULT_FAILURES_PER_TOKEN),
            trusted_proxies: TrustedProxies::NONE,
            leak_reports: LeakReportConfig::default(),
            request_metrics: None,
        }
    }
}

/// The whole REST API with the default [`HttpConfig`]: every route of SPEC's table, the
/// OpenAPI document at `/openapi.json`, and the middleware (token-in-query guard, 64 KiB body
/// limit, request timeout, tracing with the token headers marked sensitive,
/// `Cache-Control: no-store`), and the brute-force limits on failed authentications.
pub fn router(state: AppState) -> Router {
    router_with(state, HttpConfig::default())
}

/// [`router`] with an explicit configuration; the router keeps brute-force limits of its own,
/// as `config` sets them.
pub fn router_with(state: AppState, config: HttpConfig) -> Router {
    let limits = AuthLimits::new(config.failed_auth_per_address, config.failed_auth_per_token);
    router_sharing_limits(state, config, limits)
}

/// [`router_with`], counting failed authentications in `limits` (`None`: no limits) instead of
/// limits of its own, so that other adapters of the same node (the admin console's sign-in)
/// count against the same ones. `config`'s `failed_auth_*` fields are not used.
pub fn router_sharing_limits(
    state: AppState,
    config: HttpConfig,
    limits: Option<AuthLimits>,
) -> Router {
    // What the router adds lives in its state, not in request extensions: a layer per value
    // would cost every request an allocation and a clone.
    let routes = handlers::api()
        .split_for_parts()
        .0
        .fallback(handlers::meta::not_found)
        .method_not_allowed_fallback(handlers::meta::method_not_allowed);
    let routes = middleware::wrap(routes, &config);
    let leaks = LeakReports::new(state.tokens.clone(), limits.clone(), &config.leak_reports);
    let state = RouterState {
        app: state,
        limits,
        trusted_proxies: config.trusted_proxies,
        leaks,
    };
    routes.with_state(state)
}

/// The OpenAPI 3.1 document of the API, as served at `/openapi.json`: generated from the same
/// handler list the router is built from, so the two cannot drift apart.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::with_optional_bodies(openapi::with_act_as_header(handlers::api().into_openapi()))
}
