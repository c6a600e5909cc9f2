#![doc = include_str!("../README.md")]

mod assets;
mod auth;
mod error;
mod forms;
mod origin;
mod pages;
mod security;
mod view;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tollgate_app::{SessionService, SpaceService, TokenService, TrustedProxies};

pub use origin::{PublicUrl, PublicUrlError};

/// Where the console lives: every page is below this path.
pub const BASE: &str = "/admin";

/// The largest form body accepted, in bytes (64 KiB, as the REST API).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// How the console behaves beyond the services it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// The address people reach the console at (`TOLLGATE_PUBLIC_URL`): state-changing
    /// requests must come from its origin, and when it is https the cookies are `Secure` with
    /// the `__Host-` prefix. Unset: requests must come from the origin the `Host` header
    /// names, and cookies are not `Secure`.
    pub public_url: Option<PublicUrl>,
    /// The reverse proxies whose `X-Forwarded-For` is believed (for the brute-force limits on
    /// sign-in), as for the REST API.
    pub trusted_proxies: TrustedProxies,
    /// How long one request may take.
    pub request_timeout: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            trusted_proxies: TrustedProxies::NONE,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What the pages need: the same services the REST API runs on, and the sessions.
#[derive(Clone)]
pub struct ConsoleState {
    spaces: SpaceService,
    tokens: TokenService,
    sessions: SessionService,
    config: Arc<ConsoleConfig>,
}

impl ConsoleState {
    /// State over these services.
    #[must_use]
    pub fn new(
        spaces: SpaceService,
        tokens: TokenService,
        sessions: SessionService,
        config: ConsoleConfig,
    ) -> Self {
        Self {
            spaces,
            tokens,
            sessions,
            config: Arc::new(config),
        }
    }
}

impl fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The console's pages, every one below [`BASE`], with their middleware (security headers,
/// `Cache-Control: no-store`, body limit, timeout). Merge it into the server's router; it has
/// no fallback of its own beyond `/admin/...`.
pub fn router(state: ConsoleState) -> Router {
    let timeout = state.config.request_timeout;
    let routes = Router::new()
        .route(BASE, get(pages::home))
        .route(&format!("{BASE}/"), get(pages::home))
        .route(
            &format!("{BASE}/sign-in"),
            get(pages::sign_in::page).post(pages::sign_in::submit),
        )
        .route(
            &format!("{BASE}/sign-out"),
            axum::routing::post(pages::sign_in::sign_out),
        )
        .route(
            &format!("{BASE}/spaces"),
            get(pages::spaces::list).post(pages::spaces::create),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}"),
            get(pages::spaces::show),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens"),
            get(pages::tokens::list).post(pages::tokens::create),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/new"),
            get(pages::tokens::new_form),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/{{token_id}}/revoke"),
            get(pages::tokens::revoke_confirm).post(pages::tokens::revoke),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/{{token_id}}/rotate"),
            get(pages::tokens::rotate_form).post(pages::tokens::rotate),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/{{token_id}}/edit"),
            get(pages::token_edit::form).post(pages::token_edit::save),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/{{token_id}}/suspend"),
            axum::routing::post(pages::tokens::suspend),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/tokens/{{token_id}}/resume"),
            axum::routing::post(pages::tokens::resume),
        )
        .route(
            &format!("{BASE}/spaces/{{space_id}}/events"),
            get(pages::events::list),
        )
        .route(&format!("{BASE}/assets/{{file}}"), get(assets::serve))
        .route(
            &format!("{BASE}/{{*rest}}"),
            axum::routing::any(pages::not_found),
        );
    security::wrap(routes, timeout).with_state(state)
}
