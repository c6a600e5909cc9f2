//! The middleware every route runs behind, outermost first:
//!
//! 1. the `authorization` and `x-undb-api-token` headers marked sensitive, so no layer below
//!    can print them;
//! 1. on forward auth's paths only, its answers held to 200, 401, 403 and 503, for any layer
//!    below as for the handler (`handlers::forward_auth`);
//! 2. request tracing: one span per request with the method and the route template (never the
//!    query string, never a header);
//! 3. `Cache-Control: no-store` on every response, since token metadata and secrets must not
//!    sit in a cache;
//! 4. the request timeout (503 `timeout`);
//! 5. the token-in-query guard (400 `token_in_query`), before anything reads the request; the
//!    rule is the domain's (`tollgate_domain::query_guard`);
//! 6. the body limit (413 `payload_too_large`), 64 KiB, or 128 KiB for a leak report: by
//!    `Content-Length` up front, and while reading for bodies without one.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use tollgate_domain::query_carries_token;

use crate::error::{ApiError, ErrorCode};
use crate::extract::payload_too_large;
use crate::handlers::LEAK_REPORT_PATH;
use crate::request_metrics::CountRequests;
use crate::{
    HttpConfig, RouterState, BODY_LIMIT_BYTES, LEAK_REPORT_BODY_LIMIT_BYTES, TOKEN_HEADER,
};

/// What the stack can answer on any route, before or instead of the route's handler: the
/// token-in-query guard, the body limit by `Content-Length` (whatever the method), the timeout,
/// and a handler's panic.
pub(crate) const EVERY_ROUTE_CODES: &[ErrorCode] = &[
    ErrorCode::TokenInQuery,
    ErrorCode::PayloadTooLarge,
    ErrorCode::Internal,
    ErrorCode::Timeout,
];

/// Wraps every route (and the fallbacks) of `router` in the middleware stack.
pub(crate) fn wrap(router: Router<RouterState>, config: &HttpConfig) -> Router<RouterState> {
    let stack = ServiceBuilder::new()
        // Outermost, so that it counts what every layer below answered.
        .option_layer(config.request_metrics.map(CountRequests))
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            HeaderName::from_static(TOKEN_HEADER),
        ]))
        // Forward auth answers only what gateways understand, whatever answers below.
        .layer(from_fn(crate::handlers::forward_auth::confine_statuses))
        // A bug must cost one opaque 500, never a dropped connection or a panic message.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a request handler panicked").into_response()
            },
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(from_fn_with_state(config.request_timeout, enforce_timeout))
        .layer(from_fn(reject_token_in_query))
        .layer(from_fn(reject_oversized_body))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    router.layer(stack)
}

/// The request span: method and route template only. The raw path and query are left out on
/// purpose: whatever a caller puts there (a token, by mistake) must not reach the logs.
fn make_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route)
}

async fn enforce_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::Timeout,
            format!(
                "The request took longer than {} ms and was abandoned; try again.",
                limit.as_millis()
            ),
        )
        .into_response(),
    }
}

const TOKEN_IN_QUERY_DETAIL: &str = "Tokens must not be sent in the query string, where they \
    end up in logs and browser history. Send the token in the `x-undb-api-token` header or as \
    `Authorization: Bearer <token>`; if a real token was sent this way, consider revoking it.";

async fn reject_token_in_query(req: Request, next: Next) -> Response {
    if req.uri().query().is_some_and(query_carries_token) {
        return ApiError::new(ErrorCode::TokenInQuery, TOKEN_IN_QUERY_DETAIL).into_response();
    }
    next.run(req).await
}

/// The most bytes a request body may have on the route `path` (a route template):
/// [`LEAK_REPORT_BODY_LIMIT_BYTES`] for a leak report, [`BODY_LIMIT_BYTES`] everywhere else.
pub(crate) fn body_limit_for(path: Option<&str>) -> usize {
    match path {
        Some(LEAK_REPORT_PATH) => LEAK_REPORT_BODY_LIMIT_BYTES,
        _ => BODY_LIMIT_BYTES,
    }
}

/// [`body_limit_for`] the route a request was routed to.
pub(crate) fn body_limit(req: &Request) -> usize {
    body_limit_for(
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    )
}

async fn reject_oversized_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = body_limit(&req);
    let mut response = if declared.is_some_and(|len| len > limit as u64) {
        payload_too_large(limit).into_response()
    } else {
        next.run(req).await
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read, so the connection cannot carry another request:
        // say so, or a keep-alive client may send its next request into a closing socket.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
