//! The current time, as a port so tests can stand still or jump past an expiry.

use time::OffsetDateTime;

/// Tells the time.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time in UTC, in whole microseconds (the precision every store keeps, see
    /// [`truncate_to_micros`](tollgate_domain::truncate_to_micros)), so that what a service
    /// answers equals what it stored. MUST never fail.
    fn now(&self) -> OffsetDateTime;
}
