//! Rules of a token's life: how long it may live, and how long a rotated token keeps working.

use time::{Duration, OffsetDateTime};

use crate::api_token::ApiToken;
use crate::instant::truncate_to_micros;

/// How long a rotated token keeps working next to its replacement: 0 to 7 days, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct GracePeriod(u32);

/// A grace period over seven days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "grace_period_seconds must be between 0 and {}",
    GracePeriod::MAX_SECONDS
)]
pub struct GracePeriodError;

impl GracePeriod {
    /// Seven days.
    pub const MAX_SECONDS: u64 = 604_800;

    /// Validates a grace period in seconds.
    ///
    /// # Errors
    /// [`GracePeriodError`] above [`Self::MAX_SECONDS`].
    pub fn from_seconds(seconds: u64) -> Result<Self, GracePeriodError> {
        if seconds > Self::MAX_SECONDS {
            return Err(GracePeriodError);
        }
        u32::try_from(seconds)
            .map(Self)
            .map_err(|_| GracePeriodError)
    }

    /// The period as a duration.
    #[must_use]
    pub fn duration(self) -> Duration {
        Duration::seconds(i64::from(self.0))
    }
}

/// The instance's token lifetime rules, as GitLab has them: an optional maximum, and an
/// optional default for tokens created without `expires_at` (the maximum, where only a maximum
/// is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LifetimePolicy {
    max: Option<Duration>,
    default: Option<Duration>,
}

/// Why a lifetime policy or a requested expiry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    /// A lifetime of zero days or less was configured.
    #[error("token lifetimes must be at least one day")]
    NotPositive,
    /// A lifetime over [`LifetimePolicy::MAX_DAYS`] was configured.
    #[error("token lifetimes must be at most {} days", LifetimePolicy::MAX_DAYS)]
    TooLong,
    /// The configured default is longer than the configured maximum.
    #[error("the default token lifetime must not exceed the maximum")]
    DefaultOverMaximum,
    /// The requested `expires_at` is beyond the maximum lifetime.
    #[error("expires_at must be at most {max_days} days from now")]
    BeyondMaximum {
        /// The maximum, in days.
        max_days: i64,
    },
    /// The requested `expires_at` is not in the future.
    #[error("expires_at must be in the future")]
    NotInFuture,
}

impl LifetimePolicy {
    /// The longest lifetime that can be configured: a hundred years.
    pub const MAX_DAYS: u32 = 36_500;

    /// No maximum, no default: tokens live until revoked unless they ask for an expiry.
    pub const UNLIMITED: Self = Self {
        max: None,
        default: None,
    };

    /// A policy from whole days.
    ///
    /// # Errors
    /// [`LifetimeError::NotPositive`] for zero or negative days,
    /// [`LifetimeError::DefaultOverMaximum`] for a default longer than the maximum.
    pub fn from_days(
        max_days: Option<u32>,
        default_days: Option<u32>,
    ) -> Result<Self, LifetimeError> {
        if max_days == Some(0) || default_days == Some(0) {
            return Err(LifetimeError::NotPositive);
        }
        if max_days
            .max(default_days)
            .is_some_and(|d| d > Self::MAX_DAYS)
        {
            return Err(LifetimeError::TooLong);
        }
        if let (Some(max), Some(default)) = (max_days, default_days) {
            if default > max {
                return Err(LifetimeError::DefaultOverMaximum);
            }
        }
        let days = |d: u32| Duration::days(i64::from(d));
        Ok(Self {
            max: max_days.map(days),
            default: default_days.map(days),
        })
    }

    /// The maximum lifetime, if any.
    #[must_use]
    pub const fn max(&self) -> Option<Duration> {
        self.max
    }

    /// The `expires_at` a token created at `now` gets when it asks for `requested`. The request
    /// is first brought to the precision tokens are kept at, so what is checked is what is
    /// stored.
    ///
    /// # Errors
    /// [`LifetimeError::NotInFuture`] or [`LifetimeError::BeyondMaximum`].
    pub fn resolve(
        &self,
        requested: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, LifetimeError> {
        match requested.map(truncate_to_micros) {
            Some(at) if at <= now => Err(LifetimeError::NotInFuture),
            Some(at) => match self.max {
                // A maximum past the end of representable time bounds nothing.
                Some(max) if now.checked_add(max).is_some_and(|limit| at > limit) => {
                    Err(LifetimeError::BeyondMaximum {
                        max_days: max.whole_days(),
                    })
                }
                _ => Ok(Some(at)),
            },
            // No expiry if the lifetime would run past the end of representable time.
            None => Ok(self
                .default
                .or(self.max)
                .and_then(|lifetime| now.checked_add(lifetime))),
        }
    }

    /// The `expires_at` a live token whose expiry is `current` may be given at `now` when an
    /// update asks for `requested` (`None`: never). Shortening is always allowed, and so is
    /// giving an expiry to a token that had none; extending is allowed within the maximum
    /// counted from `now`, as at creation; "never" only where there is no maximum (or where the
    /// token never expires already, which changes nothing). The request is brought to the
    /// stored precision first.
    ///
    /// # Errors
    /// [`LifetimeError::NotInFuture`] for a time not after `now`;
    /// [`LifetimeError::BeyondMaximum`] for an extension past the maximum, or "never" under one.
    pub fn for_update(
        &self,
        current: Option<OffsetDateTime>,
        requested: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, LifetimeError> {
        match requested.map(truncate_to_micros) {
            Some(at) if at <= now => Err(LifetimeError::NotInFuture),
            Some(at) if current.is_none_or(|current| at <= current) => Ok(Some(at)),
            Some(at) => self.resolve(Some(at), now),
            None if current.is_none() => Ok(None),
            None => match self.max {
                Some(max) => Err(LifetimeError::BeyondMaximum {
                    max_days: max.whole_days(),
                }),
                None => Ok(None),
            },
        }
    }

    /// The `expires_at` of the token that replaces `old` at `now`: the old token's lifetime
    /// length if it had one (capped by the maximum), otherwise the policy's default.
    #[must_use]
    pub fn for_rotation(&self, old: &ApiToken, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let Some(old_expiry) = old.expires_at() else {
            return self.resolve(None, now).unwrap_or(None);
        };
        let lifetime = old_expiry - old.created_at();
        let lifetime = self.max.map_or(lifetime, |max| lifetime.min(max));
        // Past the end of representable time, keep the old token's own expiry.
        now.checked_add(lifetime).or(Some(old_expiry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_token::test_token;
    use crate::ids::SpaceId;
    use crate::token::{CreatedBy, TokenLevel, TokenScope};

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn grace_periods_go_from_zero_to_seven_days() {
        assert_eq!(
            GracePeriod::from_seconds(0).map(GracePeriod::duration),
            Ok(Duration::ZERO)
        );
        assert!(GracePeriod::from_seconds(604_800).is_ok());
        assert_eq!(GracePeriod::from_seconds(604_801), Err(GracePeriodError));
        assert_eq!(GracePeriod::from_seconds(u64::MAX), Err(GracePeriodError));
    }

    /// Maximum days, default days, requested expiry, expected outcome.
    type Case = (
        Option<u32>,
        Option<u32>,
        Option<OffsetDateTime>,
        Result<Option<OffsetDateTime>, LifetimeError>,
    );

    #[test]
    fn an_update_shortens_at_any_time_and_extends_only_within_the_maximum() {
        let days = Duration::days;
        // Maximum days, current expiry, requested expiry, expected outcome.
        type UpdateCase = (
            Option<u32>,
            Option<OffsetDateTime>,
            Option<OffsetDateTime>,
            Result<Option<OffsetDateTime>, LifetimeError>,
        );
        let beyond = Err(LifetimeError::BeyondMaximum { max_days: 30 });
        let cases: &[UpdateCase] = &[
            // Shortening, even a token that lives longer than today's maximum allows.
            (
                Some(30),
                Some(now() + days(90)),
                Some(now() + days(60)),
                Ok(Some(now() + days(60))),
            ),
            (None, None, Some(now() + days(5)), Ok(Some(now() + days(5)))),
            (
                Some(30),
                None,
                Some(now() + days(90)),
                Ok(Some(now() + days(90))),
            ),
            // Extending: within the maximum from now.
            (
                Some(30),
                Some(now() + days(1)),
                Some(now() + days(30)),
                Ok(Some(now() + days(30))),
            ),
            (
                Some(30),
                Some(now() + days(1)),
                Some(now() + days(31)),
                beyond,
            ),
            (
                None,
                Some(now() + days(1)),
                Some(now() + days(999)),
                Ok(Some(now() + days(999))),
            ),
            // Never: only without a maximum.
            (None, Some(now() + days(1)), None, Ok(None)),
            (Some(30), Some(now() + days(1)), None, beyond),
            (Some(30), None, None, Ok(None)),
            // Not in the future, whatever it would shorten.
            (
                None,
                Some(now() + days(1)),
                Some(now()),
                Err(LifetimeError::NotInFuture),
            ),
        ];
        for (max, current, requested, expected) in cases {
            let policy = LifetimePolicy::from_days(*max, None).unwrap_or_else(|_| unreachable!());
            assert_eq!(
                &policy.for_update(*current, *requested, now()),
                expected,
                "max {max:?} current {current:?} requested {requested:?}"
            );
        }
    }

    #[test]
    fn lifetimes_follow_the_gitlab_rules() {
        let days = Duration::days;
        let cases: &[Case] = &[
            (None, None, None, Ok(None)),
            (
                None,
                None,
                Some(now() + days(999)),
                Ok(Some(now() + days(999))),
            ),
            (Some(30), None, None, Ok(Some(now() + days(30)))),
            (Some(30), Some(7), None, Ok(Some(now() + days(7)))),
            (None, Some(7), None, Ok(Some(now() + days(7)))),
            (
                Some(30),
                None,
                Some(now() + days(30)),
                Ok(Some(now() + days(30))),
            ),
            (
                Some(30),
                None,
                Some(now() + days(30) + Duration::seconds(1)),
                Err(LifetimeError::BeyondMaximum { max_days: 30 }),
            ),
            (None, None, Some(now()), Err(LifetimeError::NotInFuture)),
            (
                Some(30),
                None,
                Some(now() - days(1)),
                Err(LifetimeError::NotInFuture),
            ),
        ];
        for (max, default, requested, expected) in cases {
            let policy =
                LifetimePolicy::from_days(*max, *default).unwrap_or_else(|_| unreachable!());
            assert_eq!(
                &policy.resolve(*requested, now()),
                expected,
                "max {max:?} default {default:?} requested {requested:?}"
            );
        }
    }

    #[test]
    fn lifetimes_near_the_end_of_time_never_overflow() {
        // Whole microseconds, the precision instants are kept at.
        let end = truncate_to_micros(time::PrimitiveDateTime::MAX.assume_utc() - Duration::days(1));
        let policy =
            LifetimePolicy::from_days(Some(36_500), None).unwrap_or_else(|_| unreachable!());
        assert_eq!(policy.resolve(None, end), Ok(None));
        assert_eq!(
            policy.resolve(Some(end + Duration::hours(1)), end),
            Ok(Some(end + Duration::hours(1)))
        );
        assert_eq!(
            LifetimePolicy::from_days(Some(36_501), None),
            Err(LifetimeError::TooLong)
        );
        assert_eq!(
            LifetimePolicy::from_days(None, Some(u32::MAX)),
            Err(LifetimeError::TooLong)
        );
    }

    #[test]
    fn impossible_policies_are_refused() {
        assert_eq!(
            LifetimePolicy::from_days(Some(0), None),
            Err(LifetimeError::NotPositive)
        );
        assert_eq!(
            LifetimePolicy::from_days(Some(7), Some(30)),
            Err(LifetimeError::DefaultOverMaximum)
        );
    }

    fn issued(created_at: OffsetDateTime, lifetime: Option<Duration>) -> ApiToken {
        let scope = TokenScope::Space {
            space_id: SpaceId::from_uuid(uuid::Uuid::from_u128(2)),
            level: TokenLevel::Client,
        };
        test_token(
            scope,
            CreatedBy::System,
            created_at,
            lifetime.map(|l| created_at + l),
        )
    }

    #[test]
    fn a_replacement_keeps_the_old_lifetime_capped_by_the_maximum_or_gets_the_default() {
        let days = Duration::days;
        let created = now() - days(10);
        let policy = |max, default| {
            LifetimePolicy::from_days(max, default).unwrap_or_else(|_| unreachable!())
        };
        let cases = [
            (policy(None, None), Some(days(30)), Some(now() + days(30))),
            (policy(Some(7), None), Some(days(30)), Some(now() + days(7))),
            (policy(None, None), None, None),
            (policy(None, Some(5)), None, Some(now() + days(5))),
            (policy(Some(9), None), None, Some(now() + days(9))),
        ];
        for (policy, lifetime, expected) in cases {
            assert_eq!(
                policy.for_rotation(&issued(created, lifetime), now()),
                expected,
                "{policy:?}, lifetime {lifetime:?}"
            );
        }
        let end = time::PrimitiveDateTime::MAX.assume_utc() - Duration::days(1);
        let old = issued(end - days(30), Some(days(30)));
        assert_eq!(
            policy(None, None).for_rotation(&old, end),
            old.expires_at(),
            "past the end of time the old expiry is kept"
        );
    }

    #[test]
    fn a_requested_expiry_is_kept_to_the_microsecond() {
        let requested = now() + Duration::days(1) + Duration::nanoseconds(1_500);
        assert_eq!(
            LifetimePolicy::UNLIMITED.resolve(Some(requested), now()),
            Ok(Some(now() + Duration::days(1) + Duration::microseconds(1)))
        );
    }
}
