//! Clocks: the system's, and one that tests set by hand.

use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};
use tollgate_domain::truncate_to_micros;

use crate::ports::Clock;

/// The operating system's clock, in UTC, to the microsecond: the precision every store keeps
/// ([`truncate_to_micros`]), so a value read back equals the value written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that stands still until told to move. Safe to share between threads.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock showing `at`.
    #[must_use]
    pub const fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the time forward (or back, for a negative duration).
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Default for ManualClock {
    /// 2030-01-01T00:00:00Z, a fixed and recognisable moment.
    fn default() -> Self {
        Self::new(OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_893_456_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_keeps_microseconds_only() {
        assert_eq!(SystemClock.now().nanosecond() % 1_000, 0);
    }
}
