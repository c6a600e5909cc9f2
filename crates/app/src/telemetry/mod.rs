//! The metrics tollgate records, through the `metrics` facade: every name, label and description
//! in one place (docs/operations.md lists them), and handles that their owners register once,
//! so that the hot path only bumps atomics and never builds a label.
//!
//! - Without a recorder installed (the binary installs one only when `TOLLGATE_METRICS_LISTEN`
//!   is set) every handle is a no-op.
//! - A handle is registered when its owner is built (the verifier, the brute-force limits, the
//!   revocation feed): install the recorder before building them, or their handles stay no-ops.
//! - The binary installs its exporter behind a [`ShardedRecorder`], so that the counters and
//!   histograms the hot path writes are per thread until a scrape flushes them.
//! - No label value is ever taken from a request, except the HTTP route, which is the pattern
//!   the router matched (`/v1/spaces/{space_id}`), never the path sent: every other value is a
//!   fixed word of this module. So no label holds a token, a token id, a space id, an address or
//!   a raw path.

mod http;
mod sharded;
mod verify;

pub use self::http::{HttpRequestMetrics, UNMATCHED_ROUTE};
pub use self::sharded::{Flusher, ShardedRecorder, MAX_BUFFERED_SAMPLES};
pub(crate) use self::verify::{Held, Outcome, Path, VerifyMetrics};

use metrics::{describe_counter, describe_gauge, describe_histogram, Counter, Gauge, Unit};

use crate::error::StoreError;

/// Verifications, by `outcome` and `path`.
pub const VERIFICATIONS: &str = "tollgate_verifications_total";
/// How long cold verifications took (`path` is `cold`): cached ones are not timed.
pub const VERIFICATION_DURATION: &str = "tollgate_verification_duration_seconds";
/// Verified tokens in this node's cache.
pub const CACHE_ENTRIES: &str = "tollgate_verification_cache_entries";
/// Presented token strings found verified in the cache.
pub const CACHE_HITS: &str = "tollgate_verification_cache_hits_total";
/// Well-formed tokens the cache could not answer for, so the store was asked.
pub const CACHE_MISSES: &str = "tollgate_verification_cache_misses_total";
/// How many argon2 verifications may run at once.
pub const ARGON2_PERMITS: &str = "tollgate_argon2_permits";
/// argon2 verifications running now.
pub const ARGON2_PERMITS_IN_USE: &str = "tollgate_argon2_permits_in_use";
/// Verifications waiting for an argon2 permit now.
pub const ARGON2_WAITERS: &str = "tollgate_argon2_waiters";
/// Blocks the brute-force limits started, by `limiter` (`address`, `token_id`).
pub const AUTH_BLOCKS: &str = "tollgate_auth_blocks_total";
/// 1 while the revocation listener listens, else 0 (Postgres only).
pub const REVOCATION_LISTENER_UP: &str = "tollgate_revocation_listener_up";
/// Times the revocation listener listened again after losing its connection.
pub const REVOCATION_LISTENER_RECONNECTS: &str = "tollgate_revocation_listener_reconnects_total";
/// Store failures, by `kind` (`unavailable`, `corrupt`, `failed`).
pub const STORE_ERRORS: &str = "tollgate_store_errors_total";
/// HTTP requests answered, by `route`, `method` and `status`.
pub const HTTP_REQUESTS: &str = "tollgate_http_requests_total";
/// How long HTTP requests took, by `route` and `method`.
pub const HTTP_REQUEST_DURATION: &str = "tollgate_http_request_duration_seconds";

/// The buckets (seconds) of every `*_duration_seconds` histogram: from a request answered from
/// memory (a few microseconds) to a request that times out (tens of seconds).
pub const DURATION_BUCKETS: &[f64] = &[
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Describes every metric to the installed recorder (the `# HELP` lines of a scrape). Call it
/// once, after installing the recorder.
pub fn describe() {
    describe_counter!(
        VERIFICATIONS,
        "Token verifications. outcome: valid, invalid, rate_limited (refused by the brute-force \
         limits before verifying), store_unavailable. path: junk (refused by the offline format \
         check), cached (answered from this node's memory), cold (the store was asked)."
    );
    describe_histogram!(
        VERIFICATION_DURATION,
        Unit::Seconds,
        "How long the cold verifications (the store asked, argon2 perhaps run) took; path is \
         always cold. Cached answers, junk and rate-limited refusals are not timed: a cached \
         request's time is in tollgate_http_request_duration_seconds."
    );
    describe_gauge!(
        CACHE_ENTRIES,
        "Verified tokens in this node's verification cache (read at each scrape)."
    );
    describe_counter!(
        CACHE_HITS,
        "Presented token strings found verified in the verification cache."
    );
    describe_counter!(
        CACHE_MISSES,
        "Well-formed tokens the verification cache could not answer for, so the store was asked."
    );
    describe_gauge!(
        ARGON2_PERMITS,
        "How many argon2 verifications may run at once (TOLLGATE_MAX_CONCURRENT_HASHES)."
    );
    describe_gauge!(ARGON2_PERMITS_IN_USE, "argon2 verifications running now.");
    describe_gauge!(
        ARGON2_WAITERS,
        "Verifications waiting for an argon2 permit now."
    );
    describe_counter!(
        AUTH_BLOCKS,
        "Blocks started by the brute-force limits. limiter: address, token_id (the kind of \
         limit, never the address or the id)."
    );
    describe_gauge!(
        REVOCATION_LISTENER_UP,
        "1 while this node listens for other nodes' revocations (Postgres), else 0."
    );
    describe_counter!(
        REVOCATION_LISTENER_RECONNECTS,
        "Times the revocation listener listened again after losing its connection."
    );
    describe_counter!(
        STORE_ERRORS,
        "Store failures. kind: unavailable (cannot be reached), corrupt (a stored value breaks a \
         rule), failed (anything else)."
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern (<unmatched> when none matched), method and \
         status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "How long HTTP requests took to answer, by route pattern and method."
    );
}

impl StoreError {
    /// This error, counted in [`STORE_ERRORS`]. Called where a store adapter turns its driver's
    /// error into a `StoreError`, and where a stored row is found to break a domain rule, so
    /// that every failure of the store is counted once.
    #[must_use]
    pub fn counted(self) -> Self {
        let kind = match &self {
            Self::Unavailable(_) => "unavailable",
            Self::Corrupt(_) => "corrupt",
            Self::Failed(_) => "failed",
        };
        metrics::counter!(STORE_ERRORS, "kind" => kind).increment(1);
        self
    }
}

/// What a revocation listener reports of itself: whether it listens, and how often it had to
/// listen again.
#[derive(Debug, Clone)]
pub struct RevocationListenerMetrics {
    up: Gauge,
    reconnects: Counter,
    listened_before: bool,
}

impl RevocationListenerMetrics {
    /// Handles for a listener that does not listen yet.
    #[must_use]
    pub fn new() -> Self {
        let up = metrics::gauge!(REVOCATION_LISTENER_UP);
        up.set(0.0);
        Self {
            up,
            reconnects: metrics::counter!(REVOCATION_LISTENER_RECONNECTS),
            listened_before: false,
        }
    }

    /// The listener listens (again, if it listened before: a reconnect).
    pub fn listening(&mut self) {
        if self.listened_before {
            self.reconnects.increment(1);
        }
        self.listened_before = true;
        self.up.set(1.0);
    }

    /// The listener lost its connection.
    pub fn lost(&self) {
        self.up.set(0.0);
    }
}

impl Default for RevocationListenerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::metrics::Recorded;

    #[test]
    fn each_store_error_is_counted_by_its_kind() {
        let recorded = Recorded::new();
        recorded.run(|| {
            let _ = StoreError::Unavailable("down".into()).counted();
            let _ = StoreError::Unavailable("down".into()).counted();
            let _ = StoreError::Corrupt("bad row".into()).counted();
        });
        assert_eq!(
            recorded.counter(STORE_ERRORS, &[("kind", "unavailable")]),
            2
        );
        assert_eq!(recorded.counter(STORE_ERRORS, &[("kind", "corrupt")]), 1);
        assert_eq!(recorded.counter(STORE_ERRORS, &[("kind", "failed")]), 0);
    }

    #[test]
    fn a_listener_is_down_until_it_listens_and_a_second_listen_is_a_reconnect() {
        let recorded = Recorded::new();
        let mut listener = recorded.run(RevocationListenerMetrics::new);
        assert_eq!(recorded.gauge(REVOCATION_LISTENER_UP, &[]), 0.0);
        listener.listening();
        assert_eq!(recorded.gauge(REVOCATION_LISTENER_UP, &[]), 1.0);
        assert_eq!(recorded.counter(REVOCATION_LISTENER_RECONNECTS, &[]), 0);
        listener.lost();
        assert_eq!(recorded.gauge(REVOCATION_LISTENER_UP, &[]), 0.0);
        listener.listening();
        assert_eq!(recorded.gauge(REVOCATION_LISTENER_UP, &[]), 1.0);
        assert_eq!(recorded.counter(REVOCATION_LISTENER_RECONNECTS, &[]), 1);
    }
}
