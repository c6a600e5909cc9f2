//! The current time, as a port so tests can stand still or jump past an expiry.

use time::OffsetDateTime;

/// Tells the time.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time in UTC. MUST never fail.
    fn now(&self) -> OffsetDateTime;
}
