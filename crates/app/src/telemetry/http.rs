//! [`HttpRequestMetrics`]: HTTP requests by route pattern, method and status, with their
//! duration. An inbound adapter's middleware calls [`HttpRequestMetrics::record`] once per
//! request; the handles of each (route, method, status) are registered at its first request
//! and found again with one read lock and two hash lookups (no handle is cloned), so no label
//! string is built per request.

use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use metrics::{Counter, Histogram};

use super::{HTTP_REQUESTS, HTTP_REQUEST_DURATION};

/// The `route` of a request that matched no route: its path is never a label.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// The methods that get a label of their own; any other is `other` (a client can send any
/// token as a method, and a label must not take it).
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

#[derive(Clone)]
struct Handles {
    requests: Counter,
    duration: Histogram,
}

impl Handles {
    fn count(&self, took: Duration) {
        self.requests.increment(1);
        self.duration.record(took);
    }
}

/// One route's handles, by (method label, status).
type RouteHandles = HashMap<(&'static str, u16), Handles>;

/// Counts and times HTTP requests. One per server, shared by every request.
#[derive(Default)]
pub struct HttpRequestMetrics {
    /// Route pattern → (method label, status) → handles.
    routes: RwLock<HashMap<Box<str>, RouteHandles>>,
}

impl fmt::Debug for HttpRequestMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequestMetrics").finish_non_exhaustive()
    }
}

impl HttpRequestMetrics {
    /// No request counted yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request answered with `status` after `took`. `route` MUST be a pattern of the
    /// router's route table (`/v1/spaces/{space_id}`), or [`UNMATCHED_ROUTE`]: never the path
    /// the client sent, which can hold anything, ids and tokens included.
    pub fn record(&self, route: &str, method: &str, status: u16, took: Duration) {
        let method = method_label(method);
        {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(handles) = routes
                .get(route)
                .and_then(|statuses| statuses.get(&(method, status)))
            {
                handles.count(took);
                return;
            }
        }
        self.register(route, method, status).count(took);
    }

    /// Registers (once) and returns the handles of a (route, method, status) first seen now.
    fn register(&self, route: &str, method: &'static str, status: u16) -> Handles {
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        routes
            .entry(route.into())
            .or_default()
            .entry((method, status))
            .or_insert_with(|| Handles {
                requests: metrics::counter!(
                    HTTP_REQUESTS,
                    "route" => route.to_owned(),
                    "method" => method,
                    "status" => status.to_string(),
                ),
                duration: metrics::histogram!(
                    HTTP_REQUEST_DURATION,
                    "route" => route.to_owned(),
                    "method" => method,
                ),
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::metrics::Recorded;

    #[test]
    fn requests_are_counted_by_route_method_and_status_and_timed_by_route_and_method() {
        let recorded = Recorded::new();
        let requests = HttpRequestMetrics::new();
        recorded.run(|| {
            let took = Duration::from_millis(3);
            requests.record("/v1/whoami", "GET", 200, took);
            requests.record("/v1/whoami", "GET", 200, took);
            requests.record("/v1/whoami", "GET", 401, took);
            requests.record("/v1/spaces", "POST", 201, took);
            requests.record(UNMATCHED_ROUTE, "BREW", 404, took);
        });
        let count = |route, method, status| {
            recorded.counter(
                HTTP_REQUESTS,
                &[("route", route), ("method", method), ("status", status)],
            )
        };
        assert_eq!(count("/v1/whoami", "GET", "200"), 2);
        assert_eq!(count("/v1/whoami", "GET", "401"), 1);
        assert_eq!(count("/v1/spaces", "POST", "201"), 1);
        assert_eq!(count(UNMATCHED_ROUTE, "other", "404"), 1);
        let timed = |route, method| {
            recorded.histogram(
                HTTP_REQUEST_DURATION,
                &[("route", route), ("method", method)],
            )
        };
        assert_eq!(timed("/v1/whoami", "GET"), vec![0.003; 3]);
        assert_eq!(timed("/v1/spaces", "POST"), vec![0.003]);
    }
}
