//! The verifier's handles: verifications by outcome and path, their latency, the cache and the
//! argon2 permits. Registered once per verifier, so counting a verification is an atomic add
//! and timing it one histogram push.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

use super::{
    ARGON2_PERMITS, ARGON2_PERMITS_IN_USE, ARGON2_WAITERS, CACHE_ENTRIES, CACHE_HITS, CACHE_MISSES,
    VERIFICATIONS, VERIFICATION_DURATION,
};

/// How a verification ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Valid,
    Invalid,
    RateLimited,
    StoreUnavailable,
}

impl Outcome {
    const ALL: [Self; 4] = [
        Self::Valid,
        Self::Invalid,
        Self::RateLimited,
        Self::StoreUnavailable,
    ];

    const fn label(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::RateLimited => "rate_limited",
            Self::StoreUnavailable => "store_unavailable",
        }
    }
}

/// Where a verification's answer came from, as the `path` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// Refused by the offline format check: no store, no cache.
    Junk,
    /// Answered from this node's memory: the verification cache, the negative cache or a
    /// brute-force block.
    Cached,
    /// The store was asked (and argon2 perhaps run).
    Cold,
}

impl Path {
    const ALL: [Self; 3] = [Self::Junk, Self::Cached, Self::Cold];

    const fn label(self) -> &'static str {
        match self {
            Self::Junk => "junk",
            Self::Cached => "cached",
            Self::Cold => "cold",
        }
    }
}

/// The verifier's metric handles.
pub(crate) struct VerifyMetrics {
    /// By [`Outcome`] then [`Path`], in the order of their `ALL`.
    verifications: [[Counter; 3]; 4],
    /// Cold verifications only: see [`Self::timed_verification`].
    cold_duration: Histogram,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_entries: Gauge,
    pub(crate) permits_in_use: Gauge,
    pub(crate) waiters: Gauge,
}

impl VerifyMetrics {
    /// Registers the handles with the current recorder; `permits` is how many argon2
    /// verifications may run at once.
    pub(crate) fn new(permits: usize) -> Self {
        let verifications = Outcome::ALL.map(|outcome| {
            Path::ALL.map(|path| {
                metrics::counter!(VERIFICATIONS, "outcome" => outcome.label(), "path" => path.label())
            })
        });
        let cold_duration =
            metrics::histogram!(VERIFICATION_DURATION, "path" => Path::Cold.label());
        #[allow(clippy::cast_precision_loss)] // a handful of permits
        metrics::gauge!(ARGON2_PERMITS).set(permits as f64);
        Self {
            verifications,
            cold_duration,
            cache_hits: metrics::counter!(CACHE_HITS),
            cache_misses: metrics::counter!(CACHE_MISSES),
            cache_entries: metrics::gauge!(CACHE_ENTRIES),
            permits_in_use: metrics::gauge!(ARGON2_PERMITS_IN_USE),
            waiters: metrics::gauge!(ARGON2_WAITERS),
        }
    }

    /// Counts one verification.
    pub(crate) fn verification(&self, outcome: Outcome, path: Path) {
        self.verifications[outcome as usize][path as usize].increment(1);
    }

    /// Counts one verification that ran (neither junk nor refused by a block), and times it if
    /// it was cold. A cached answer is not timed: it comes from memory in a few microseconds, its
    /// request's whole time is in the HTTP duration, and one more histogram push on every
    /// cached request was a shared write between the cores that the metrics' budget of 5 % on
    /// the hot path could not afford (docs/performance.md).
    pub(crate) fn timed_verification(&self, outcome: Outcome, path: Path, took: Duration) {
        self.verification(outcome, path);
        if path == Path::Cold {
            self.cold_duration.record(took);
        }
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.increment(1);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.increment(1);
    }

    #[allow(clippy::cast_precision_loss)] // an entry count far below 2^52
    pub(crate) fn cache_entries(&self, entries: u64) {
        self.cache_entries.set(entries as f64);
    }
}

/// One more on `gauge` for as long as it lives: a verification waiting for a permit, or a hash
/// holding one. Dropped with its future, so a client that hangs up while waiting is not counted
/// as waiting forever.
pub(crate) struct Held(Gauge);

impl Held {
    pub(crate) fn new(gauge: &Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
