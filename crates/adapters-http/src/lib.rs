#![doc = include_str!("../README.md")]

pub mod dto;
pub mod error;
pub mod extract;
mod handlers;
mod middleware;
mod openapi;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::Router;
use tollgate_app::ports::StoreHealth;
use tollgate_app::{SpaceService, TokenService};

pub use error::{ApiError, ErrorCode};
pub use extract::{ApiJson, ApiPath, ApiQuery, Authenticated};

/// The largest request body accepted, in bytes (64 KiB). Larger bodies are answered with 413
/// `payload_too_large` before a handler runs.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

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

/// How the router behaves, beyond what the state holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// How long one request may take, body reading and token verification included. A request
    /// still running then is answered with 503 `timeout`. Default: 30 seconds.
    pub request_timeout: Duration,
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
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// The whole REST API with the default [`HttpConfig`]: every route of SPEC's table, the
/// OpenAPI document at `/openapi.json`, and the middleware (token-in-query guard, 64 KiB body
/// limit, request timeout, tracing with the token headers marked sensitive,
/// `Cache-Control: no-store`).
pub fn router(state: AppState) -> Router {
    router_with(state, HttpConfig::default())
}

/// [`router`] with an explicit configuration.
pub fn router_with(state: AppState, config: HttpConfig) -> Router {
    let (routes, doc) = handlers::api().split_for_parts();
    let doc = handlers::meta::OpenApiDocument::new(&doc);
    middleware::wrap(
        routes
            .fallback(handlers::meta::not_found)
            .method_not_allowed_fallback(handlers::meta::method_not_allowed)
            .layer(axum::Extension(doc)),
        config,
    )
    .with_state(state)
}

/// The OpenAPI 3.1 document of the API, as served at `/openapi.json`: generated from the same
/// handler list the router is built from, so the two cannot drift apart.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    handlers::api().into_openapi()
}
