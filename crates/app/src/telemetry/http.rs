//! [`HttpRequestMetrics`]: HTTP requests by route pattern, method and status, with their
//! duration. An inbound adapter's middleware calls [`HttpRequestMetrics::record`] once per
//! request.
//!
//! Each thread keeps its own map from (route, method, status) to the handles registered at the
//! first such request, so that counting a request takes no lock and writes no memory that the
//! other cores also write: a shared lock's reference count was one more cache line bouncing
//! between the cores on every request (docs/performance.md). The handles themselves are per
//! thread too under the binary's [`ShardedRecorder`](super::ShardedRecorder). No label string
//! is built per request.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Histogram};
use rustc_hash::FxHashMap;

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

struct Handles {
    requests: Counter,
    duration: Histogram,
}

impl Handles {
    fn register(route: &str, method: &'static str, status: u16) -> Self {
        Self {
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
        }
    }

    fn count(&self, took: Duration) {
        self.requests.increment(1);
        self.duration.record(took);
    }
}

/// One route's handles, by (method label, status).
type RouteHandles = FxHashMap<(&'static str, u16), Handles>;

thread_local! {
    /// This thread's handles: [`HttpRequestMetrics`] instance → route pattern → (method,
    /// status) → handles. The instance keeps apart the handles of recorders installed one
    /// after another on one thread (tests do that), since a handle belongs to the recorder that
    /// was current when it was registered. Hashed with FxHash: the keys are route patterns and
    /// small numbers, never anything a client chose, and SipHash's defence against collisions
    /// chosen by a client was a tenth of what metrics cost a request (docs/performance.md).
    static HANDLES: RefCell<FxHashMap<u64, FxHashMap<Box<str>, RouteHandles>>> =
        RefCell::new(FxHashMap::default());
}

/// Gives each [`HttpRequestMetrics`] its own key in every thread's map.
static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// Counts and times HTTP requests. One per server; cheap to copy into every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRequestMetrics {
    instance: u64,
}

impl Default for HttpRequestMetrics {
    fn default() -> Self {
        Self {
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl HttpRequestMetrics {
    /// No request counted yet. Its handles are registered with the recorder installed when
    /// each (route, method, status) is first seen on a thread.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request answered with `status` after `took`. `route` MUST be a pattern of the
    /// router's route table (`/v1/spaces/{space_id}`), or [`UNMATCHED_ROUTE`]: never the path
    /// the client sent, which can hold anything, ids and tokens included.
    pub fn record(&self, route: &str, method: &str, status: u16, took: Duration) {
        let method = method_label(method);
        HANDLES.with_borrow_mut(|instances| {
            let routes = instances.entry(self.instance).or_default();
            let statuses = match routes.get_mut(route) {
                Some(statuses) => statuses,
                None => routes.entry(route.into()).or_default(),
            };
            statuses
                .entry((method, status))
                .or_insert_with(|| Handles::register(route, method, status))
                .count(took);
        });
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
