//! Instants as tollgate keeps them: to the microsecond, the precision every store keeps, so that
//! a value read back equals the value written and what a rule checked is what was stored.

use time::OffsetDateTime;

/// `at` without its sub-microsecond part.
#[must_use]
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    #[test]
    fn sub_microseconds_are_dropped() {
        let at = OffsetDateTime::UNIX_EPOCH + Duration::nanoseconds(1_234_567);
        assert_eq!(
            truncate_to_micros(at),
            OffsetDateTime::UNIX_EPOCH + Duration::microseconds(1_234)
        );
    }
}
