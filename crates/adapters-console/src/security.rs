//! The middleware every console page runs behind, outermost first:
//!
//! 1. the `cookie` header marked sensitive, so no layer below can print a session id;
//! 2. request tracing: one span per request with the method and the route template;
//! 3. the security headers on every answer: a `Content-Security-Policy` that allows only the
//!    console's own script and style files (no inline script at all, so no nonce is needed),
//!    `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers),
//!    `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff` and
//!    `Cache-Control: no-store` (a page may hold a secret, and none may sit in a cache);
//! 4. a handler's panic answered with a plain error page that carries those headers, never a
//!    dropped connection;
//! 5. the request timeout (503);
//! 6. the 64 KiB body limit.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::PageError;
use crate::{ConsoleState, BODY_LIMIT_BYTES};

/// The policy of every page: nothing but the console's own files, no inline script or style,
/// no framing, forms only to the console itself.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

pub(crate) fn wrap(router: Router<ConsoleState>, timeout: Duration) -> Router<ConsoleState> {
    let header = |name, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let stack = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([COOKIE]))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!("console", method = %request.method(), route)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(header(CONTENT_SECURITY_POLICY, CSP))
        .layer(header(X_FRAME_OPTIONS, "DENY"))
        .layer(header(REFERRER_POLICY, "no-referrer"))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(CACHE_CONTROL, "no-store"))
        // Inside the header layers, so that the page a panic becomes carries them too.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a console handler panicked");
                PageError::Internal.into_response()
            },
        ))
        .layer(from_fn(move |request: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => PageError::Timeout.into_response(),
            }
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    router.layer(stack)
}

/// A status and a page, for answers that are not a handler's.
pub(crate) fn status_page(status: StatusCode, body: String) -> Response {
    (status, axum::response::Html(body)).into_response()
}
