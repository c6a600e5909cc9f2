//! How many credentials one client address may report: a GCRA allowance per address (IPv6: per
//! /64), charged one cell per credential, so the limit counts credentials, not requests. It is
//! the brute-force limits' kind of limiter ([`crate::auth_limits`]): the same keyed `governor`
//! limiter, the same address key, the same sweep that keeps its memory bounded.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::{InsufficientCapacity, Quota};

use crate::auth_limits::{
    keyed_limiter_of, limit_key, off_the_request_path, sweep_due, KeyedLimiter,
};

/// How many credentials one client address may report: `burst` at once, then `per_hour`,
/// evenly spread (one more every `3600 / per_hour` seconds). A report that does not fit is
/// refused whole, and nothing of it is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimit {
    per_hour: NonZeroU32,
    burst: NonZeroU32,
}

impl ReportLimit {
    /// `per_hour` credentials an hour in bursts of `burst`; `None` if either is 0. A burst
    /// below [`MAX_CREDENTIALS_PER_REPORT`](super::MAX_CREDENTIALS_PER_REPORT) refuses every
    /// report larger than it.
    #[must_use]
    pub const fn new(per_hour: u32, burst: u32) -> Option<Self> {
        match (NonZeroU32::new(per_hour), NonZeroU32::new(burst)) {
            (Some(per_hour), Some(burst)) => Some(Self { per_hour, burst }),
            _ => None,
        }
    }

    /// Credentials allowed per hour, sustained.
    #[must_use]
    pub const fn per_hour(self) -> u32 {
        self.per_hour.get()
    }

    /// Credentials allowed at once.
    #[must_use]
    pub const fn burst(self) -> u32 {
        self.burst.get()
    }

    fn quota(self) -> Quota {
        let period = Duration::from_secs(3600) / self.per_hour.get();
        // An hour over at most u32::MAX is still some 800 ns, never zero.
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.burst)
    }
}

/// The limit by default: 1000 credentials (one full report) at once, then 1000 an hour.
pub const DEFAULT_REPORTED_PER_ADDRESS: ReportLimit = match ReportLimit::new(1000, 1000) {
    Some(limit) => limit,
    None => panic!("a limit of zero"),
};

/// Where reports from no known address count: all of them together, so that a server that
/// cannot tell addresses apart is still limited.
const UNKNOWN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The longest wait a refusal names: one hour refills any allowance of the default size, and
/// an allowance too small for the report never fits, however long the reporter waits.
const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// The allowances of every client address that reported lately.
pub(super) struct ReportLimiter<C: Clock = DefaultClock> {
    limiter: KeyedLimiter<IpAddr, C>,
    /// When the limiter was last swept (nanoseconds after `base`).
    last_sweep: AtomicU64,
    clock: C,
    base: C::Instant,
}

impl ReportLimiter {
    pub(super) fn new(limit: ReportLimit) -> Self {
        Self::with_clock(limit, DefaultClock::default())
    }
}

impl<C> ReportLimiter<C>
where
    C: Clock + Clone + Send + Sync + 'static,
{
    pub(super) fn with_clock(limit: ReportLimit, clock: C) -> Self {
        let base = clock.now();
        Self {
            limiter: keyed_limiter_of(limit.quota(), clock.clone()),
            last_sweep: AtomicU64::new(0),
            clock,
            base,
        }
    }

    /// Takes `credentials` from the allowance of `address` (`None`: unknown), all of them or
    /// none; if they do not fit, the whole seconds to wait (at least 1).
    pub(super) fn take(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        credentials: u32,
    ) -> Result<(), u64> {
        let Some(n) = NonZeroU32::new(credentials) else {
            return Ok(());
        };
        let key = address.map_or(UNKNOWN_ADDRESS, limit_key);
        let outcome = match self.limiter.check_key_n(&key, n) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            }
            Err(InsufficientCapacity(_)) => Err(MAX_RETRY_AFTER_SECS),
        };
        self.sweep_if_due();
        outcome.map_err(|secs| secs.clamp(1, MAX_RETRY_AFTER_SECS))
    }

    fn sweep_if_due(self: &Arc<Self>) {
        let now = self.clock.now().duration_since(self.base).as_u64();
        if !sweep_due(&self.last_sweep, now) {
            return;
        }
        let this = Arc::clone(self);
        off_the_request_path(move || {
            this.limiter.retain_recent();
            this.limiter.shrink_to_fit();
        });
    }

    #[cfg(test)]
    fn tracked_addresses(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::auth_limits::SWEEP_INTERVAL;

    fn limiter(
        per_hour: u32,
        burst: u32,
    ) -> (Arc<ReportLimiter<FakeRelativeClock>>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limit = ReportLimit::new(per_hour, burst).unwrap();
        (
            Arc::new(ReportLimiter::with_clock(limit, clock.clone())),
            clock,
        )
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_limit_counts_credentials_not_reports() {
        // 10 at once, then one every 6 minutes.
        let (limiter, clock) = limiter(10, 10);
        let reporter = ip("192.0.2.1");
        assert_eq!(limiter.take(reporter, 7), Ok(()));
        // 3 are left: a report of 4 is refused whole, and takes nothing.
        assert_eq!(limiter.take(reporter, 4), Err(360));
        assert_eq!(limiter.take(reporter, 3), Ok(()));
        assert_eq!(limiter.take(reporter, 1), Err(360));
        // Another address has its own allowance.
        assert_eq!(limiter.take(ip("192.0.2.2"), 10), Ok(()));
        clock.advance(Duration::from_secs(360));
        assert_eq!(limiter.take(reporter, 1), Ok(()));
        assert_eq!(limiter.take(reporter, 1), Err(360));
    }

    #[test]
    fn a_report_larger_than_the_burst_never_fits() {
        let (limiter, _) = limiter(3600, 5);
        assert_eq!(limiter.take(ip("192.0.2.1"), 6), Err(MAX_RETRY_AFTER_SECS));
        assert_eq!(limiter.take(ip("192.0.2.1"), 5), Ok(()));
    }

    #[test]
    fn ipv6_reporters_share_their_64_and_unknown_ones_share_one_allowance() {
        let (limiter, _) = limiter(10, 10);
        assert_eq!(limiter.take(ip("2001:db8::1"), 10), Ok(()));
        assert!(limiter.take(ip("2001:db8::2"), 1).is_err());
        assert_eq!(limiter.take(ip("2001:db8:0:1::1"), 1), Ok(()));
        assert_eq!(limiter.take(None, 10), Ok(()));
        assert!(limiter.take(None, 1).is_err());
    }

    #[test]
    fn addresses_whose_allowance_is_whole_again_are_swept_from_memory() {
        let (limiter, clock) = limiter(3600, 10);
        for n in 0..50_u8 {
            assert_eq!(limiter.take(ip(&format!("192.0.2.{n}")), 1), Ok(()));
        }
        assert_eq!(limiter.tracked_addresses(), 50);
        clock.advance(SWEEP_INTERVAL);
        assert_eq!(limiter.take(ip("198.51.100.1"), 1), Ok(()));
        assert_eq!(limiter.tracked_addresses(), 1);
    }

    #[test]
    fn the_default_limit_takes_one_full_report() {
        assert_eq!(DEFAULT_REPORTED_PER_ADDRESS.burst(), 1000);
        assert_eq!(DEFAULT_REPORTED_PER_ADDRESS.per_hour(), 1000);
        assert!(ReportLimit::new(0, 1).is_none());
    }
}
