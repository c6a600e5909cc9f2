//! Console sessions: a person signed in to the admin console with a token. The session is
//! known by the SHA-256 digest of its id (the id itself lives only in the browser's cookie),
//! records which token signed in, and ends after a spell of idleness or a fixed lifetime,
//! whichever comes first. It never holds the token string.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::ids::TokenId;

/// The SHA-256 digest of a session id: what stores keep and look sessions up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionDigest([u8; 32]);

impl SessionDigest {
    /// The digest with these bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SessionDigest {
    /// The first four bytes only: enough to tell sessions apart in a test's output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SessionDigest({:02x}{:02x}{:02x}{:02x}..)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// A one-time value a console form carries, so that submitting the same form twice (a reload,
/// the back button) does the work once. 128 random bits; not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FormNonce([u8; 16]);

impl FormNonce {
    /// The nonce with these bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// How long a session lasts: it ends `idle` after its last request, and `absolute` after it
/// began, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    idle: Duration,
    absolute: Duration,
}

/// Session timeouts that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionTimeoutsError {
    /// A timeout of zero or less.
    #[error("session timeouts must be positive")]
    NotPositive,
    /// An idle timeout longer than the absolute one, which would never apply.
    #[error("the idle timeout must not exceed the absolute timeout")]
    IdleOverAbsolute,
}

impl SessionTimeouts {
    /// 30 minutes idle, 12 hours in all (OWASP's guidance for applications of this risk).
    pub const DEFAULT: Self = Self {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    };

    /// Validates a pair of timeouts.
    ///
    /// # Errors
    /// [`SessionTimeoutsError`] for a timeout that is not positive, or an idle timeout over
    /// the absolute one.
    pub fn new(idle: Duration, absolute: Duration) -> Result<Self, SessionTimeoutsError> {
        if !idle.is_positive() || !absolute.is_positive() {
            return Err(SessionTimeoutsError::NotPositive);
        }
        if idle > absolute {
            return Err(SessionTimeoutsError::IdleOverAbsolute);
        }
        Ok(Self { idle, absolute })
    }

    /// The idle timeout.
    #[must_use]
    pub const fn idle(&self) -> Duration {
        self.idle
    }

    /// The absolute timeout.
    #[must_use]
    pub const fn absolute(&self) -> Duration {
        self.absolute
    }

    /// The bounds a store deletes ended sessions by: at `now`, a session has ended when it was
    /// last seen at or before `.last_seen_by`, or began at or before `.created_by`. The same
    /// rule as [`ConsoleSession::is_live_at`], in the shape a query needs.
    #[must_use]
    pub fn cutoffs(&self, now: OffsetDateTime) -> EndedSessions {
        EndedSessions {
            last_seen_by: now - self.idle,
            created_by: now - self.absolute,
        }
    }
}

impl Default for SessionTimeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which sessions have ended at some moment; see [`SessionTimeouts::cutoffs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndedSessions {
    /// Sessions last seen at or before this moment have been idle too long.
    pub last_seen_by: OffsetDateTime,
    /// Sessions that began at or before this moment have lived too long.
    pub created_by: OffsetDateTime,
}

impl EndedSessions {
    /// Whether `session` is one of them.
    #[must_use]
    pub fn contains(&self, session: &ConsoleSession) -> bool {
        session.last_seen_at <= self.last_seen_by || session.created_at <= self.created_by
    }
}

/// A console session as stored: whose token signed in, when, and when it was last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    digest: SessionDigest,
    token_id: TokenId,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
}

impl ConsoleSession {
    /// A session beginning at `now`, signed in with `token_id`.
    #[must_use]
    pub const fn begin(digest: SessionDigest, token_id: TokenId, now: OffsetDateTime) -> Self {
        Self {
            digest,
            token_id,
            created_at: now,
            last_seen_at: now,
        }
    }

    /// A session read back from a store. A `last_seen_at` before `created_at` (a row edited by
    /// hand) is read as `created_at`.
    #[must_use]
    pub fn restore(
        digest: SessionDigest,
        token_id: TokenId,
        created_at: OffsetDateTime,
        last_seen_at: OffsetDateTime,
    ) -> Self {
        Self {
            digest,
            token_id,
            created_at,
            last_seen_at: last_seen_at.max(created_at),
        }
    }

    /// The digest of its id.
    #[must_use]
    pub const fn digest(&self) -> &SessionDigest {
        &self.digest
    }

    /// The token that signed in.
    #[must_use]
    pub const fn token_id(&self) -> TokenId {
        self.token_id
    }

    /// When it began.
    #[must_use]
    pub const fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When it was last used.
    #[must_use]
    pub const fn last_seen_at(&self) -> OffsetDateTime {
        self.last_seen_at
    }

    /// The moment it ends unless used again before.
    #[must_use]
    pub fn ends_at(&self, timeouts: &SessionTimeouts) -> OffsetDateTime {
        (self.last_seen_at + timeouts.idle).min(self.created_at + timeouts.absolute)
    }

    /// Whether it is still live at `now`.
    #[must_use]
    pub fn is_live_at(&self, now: OffsetDateTime, timeouts: &SessionTimeouts) -> bool {
        now < self.ends_at(timeouts)
    }

    /// Notes a use at `at` (an earlier moment than the last one changes nothing).
    pub fn seen_at(&mut self, at: OffsetDateTime) {
        self.last_seen_at = self.last_seen_at.max(at);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn start() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn session() -> ConsoleSession {
        ConsoleSession::begin(
            SessionDigest::from_bytes([7; 32]),
            TokenId::from_uuid(uuid::Uuid::from_u128(1)),
            start(),
        )
    }

    #[test]
    fn a_session_ends_after_its_idle_timeout_unless_used() {
        let t = SessionTimeouts::DEFAULT;
        let mut s = session();
        assert!(s.is_live_at(start() + Duration::minutes(29), &t));
        assert!(!s.is_live_at(start() + Duration::minutes(30), &t));
        s.seen_at(start() + Duration::minutes(29));
        assert!(s.is_live_at(start() + Duration::minutes(58), &t));
        s.seen_at(start());
        assert_eq!(s.last_seen_at(), start() + Duration::minutes(29));
    }

    #[test]
    fn a_session_ends_after_its_absolute_timeout_however_busy() {
        let t = SessionTimeouts::DEFAULT;
        let mut s = session();
        s.seen_at(start() + Duration::hours(12) - Duration::minutes(1));
        assert!(s.is_live_at(start() + Duration::hours(12) - Duration::seconds(1), &t));
        assert!(!s.is_live_at(start() + Duration::hours(12), &t));
    }

    #[test]
    fn the_cutoffs_a_store_deletes_by_agree_with_is_live_at() {
        let t = SessionTimeouts::new(Duration::minutes(5), Duration::minutes(20)).unwrap();
        let mut s = session();
        s.seen_at(start() + Duration::minutes(12));
        for minute in 0..40 {
            for second in [0, 1, 59] {
                let now = start() + Duration::minutes(minute) + Duration::seconds(second);
                assert_eq!(
                    t.cutoffs(now).contains(&s),
                    !s.is_live_at(now, &t),
                    "at {minute}:{second}"
                );
            }
        }
    }

    #[test]
    fn timeouts_must_be_positive_and_idle_within_absolute() {
        assert_eq!(
            SessionTimeouts::new(Duration::ZERO, Duration::hours(1)),
            Err(SessionTimeoutsError::NotPositive)
        );
        assert_eq!(
            SessionTimeouts::new(Duration::hours(2), Duration::hours(1)),
            Err(SessionTimeoutsError::IdleOverAbsolute)
        );
        assert!(SessionTimeouts::new(Duration::hours(1), Duration::hours(1)).is_ok());
    }

    #[test]
    fn a_restored_session_was_never_seen_before_it_began() {
        let s = ConsoleSession::restore(
            SessionDigest::from_bytes([1; 32]),
            TokenId::from_uuid(uuid::Uuid::from_u128(1)),
            start(),
            start() - Duration::hours(1),
        );
        assert_eq!(s.last_seen_at(), start());
    }
}
