//! Every request counted and timed by route pattern, method and status
//! ([`HttpRequestMetrics`]): the API's router counts its own when
//! [`HttpConfig::request_metrics`](crate::HttpConfig::request_metrics) is set, as the outermost
//! layer of the stack every route already has; [`with_request_metrics`] does it for another
//! router (the admin console's). The binary does both when it serves metrics, and only then, so
//! a server without metrics pays nothing.
//!
//! A request's future carries what counting it needs without touching memory that requests on
//! the other core touch too: the metrics by value (no shared `Arc` whose count every request
//! bumps), the route as a `&'static str` interned once per pattern (no clone of the router's
//! `Arc<str>`). On two cores such shared writes were a measurable part of what metrics cost a
//! cached `whoami` (docs/performance.md).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use axum::Router;
use rustc_hash::FxHashSet;
use tollgate_app::telemetry::{HttpRequestMetrics, UNMATCHED_ROUTE};
use tower::{Layer, Service};

/// `router` with each of its requests, the fallback's included, counted in
/// `tollgate_http_requests_total` and timed in `tollgate_http_request_duration_seconds` by
/// `metrics`. Call it last, on the finished router: it sees the answer every inner layer gave (a
/// timeout's 503, a panic's 500). The route label is the pattern the router matched, or
/// `<unmatched>`, never the path sent.
///
/// For a router this crate did not build: the API's router counts its requests itself, with
/// less work per request, when [`HttpConfig::request_metrics`](crate::HttpConfig) is set
/// (wrapping a finished router adds a second layer around every route, which each request then
/// clones).
pub fn with_request_metrics(router: Router, metrics: HttpRequestMetrics) -> Router {
    router.layer(CountRequests(metrics))
}

/// The layer [`with_request_metrics`] adds. A service of its own rather than
/// `axum::middleware::from_fn`, which boxes the request's future and the inner service on
/// every request: on a cached `whoami`, that alone was most of what metrics cost
/// (docs/performance.md).
#[derive(Clone, Copy)]
pub(crate) struct CountRequests(pub(crate) HttpRequestMetrics);

impl<S> Layer<S> for CountRequests {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            metrics: self.0,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Counted<S> {
    inner: S,
    metrics: HttpRequestMetrics,
}

impl<S> Service<Request> for Counted<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED_ROUTE, |matched| intern(matched.as_str()));
        let method = request.method().clone();
        CountedFuture {
            inner: self.inner.call(request),
            count: Some(Pending {
                metrics: self.metrics,
                route,
                method,
                started,
            }),
        }
    }
}

/// What is needed to count a request once its answer is known.
struct Pending {
    metrics: HttpRequestMetrics,
    route: &'static str,
    method: Method,
    started: Instant,
}

pin_project_lite::pin_project! {
    /// The inner service's future; counts the request when it yields the answer.
    pub(crate) struct CountedFuture<F> {
        #[pin]
        inner: F,
        count: Option<Pending>,
    }
}

impl<F, E> Future for CountedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(pending)) = (&answer, this.count.take()) {
            pending.metrics.record(
                pending.route,
                pending.method.as_str(),
                response.status().as_u16(),
                pending.started.elapsed(),
            );
        }
        Poll::Ready(answer)
    }
}

/// Every route pattern seen, leaked once per process: patterns come from the router's route
/// table, never from a request, so there are as many as the routes.
static ROUTES: Mutex<Option<FxHashSet<&'static str>>> = Mutex::new(None);

thread_local! {
    /// This thread's copy of [`ROUTES`], read without a lock.
    static LOCAL_ROUTES: RefCell<FxHashSet<&'static str>> = RefCell::new(FxHashSet::default());
}

/// `pattern` as a `&'static str`, the same one for every request of that route.
fn intern(pattern: &str) -> &'static str {
    LOCAL_ROUTES.with_borrow_mut(|local| {
        if let Some(known) = local.get(pattern) {
            return *known;
        }
        let mut routes = ROUTES.lock().unwrap_or_else(PoisonError::into_inner);
        let routes = routes.get_or_insert_with(FxHashSet::default);
        let interned = match routes.get(pattern) {
            Some(known) => *known,
            None => {
                let leaked: &'static str = Box::leak(pattern.into());
                routes.insert(leaked);
                leaked
            }
        };
        local.insert(interned);
        interned
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tollgate_app::telemetry::HTTP_REQUESTS;
    use tollgate_app::testing::metrics::Recorded;
    use tower::ServiceExt;

    use super::*;

    async fn send(router: &Router, method: &str, uri: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        router.clone().oneshot(request).await.unwrap().status()
    }

    #[test]
    fn requests_are_counted_by_route_pattern_and_never_by_the_path_sent() {
        let recorded = Recorded::new();
        let router = with_request_metrics(
            Router::new()
                .route("/v1/spaces/{space_id}", get(|| async { "space" }))
                .fallback(|| async { StatusCode::NOT_FOUND }),
            HttpRequestMetrics::new(),
        );
        recorded.block_on(async {
            let space = "/v1/spaces/0190a5c2-7d3e-7b1a-9c4f-2e8d6a1b3c5d";
            assert_eq!(send(&router, "GET", space).await, StatusCode::OK);
            assert_eq!(send(&router, "GET", space).await, StatusCode::OK);
            assert_eq!(
                send(&router, "DELETE", space).await,
                StatusCode::METHOD_NOT_ALLOWED
            );
            let unmatched = "/tgc_notatoken/192.0.2.1";
            assert_eq!(send(&router, "GET", unmatched).await, StatusCode::NOT_FOUND);
        });
        let count = |route, method, status| {
            recorded.counter(
                HTTP_REQUESTS,
                &[("route", route), ("method", method), ("status", status)],
            )
        };
        assert_eq!(count("/v1/spaces/{space_id}", "GET", "200"), 2);
        assert_eq!(count("/v1/spaces/{space_id}", "DELETE", "405"), 1);
        assert_eq!(count(UNMATCHED_ROUTE, "GET", "404"), 1);
        let routes: Vec<String> = recorded
            .keys()
            .into_iter()
            .flat_map(|(_, labels)| labels)
            .filter(|(label, _)| label == "route")
            .map(|(_, value)| value)
            .collect();
        assert!(
            routes
                .iter()
                .all(|r| r == "/v1/spaces/{space_id}" || r == UNMATCHED_ROUTE),
            "{routes:?}"
        );
    }
}
