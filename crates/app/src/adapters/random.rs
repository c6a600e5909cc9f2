//! Random sources: the operating system's CSPRNG for production, a counter for tests.

use std::sync::atomic::{AtomicU64, Ordering};

use tollgate_domain::{EventId, SpaceId, TokenId, TokenSecret};
use uuid::Uuid;

use crate::ports::RandomSource;

/// UUID v7 ids and secrets from the operating system's CSPRNG (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandomSource;

impl RandomSource for OsRandomSource {
    fn space_id(&self) -> SpaceId {
        SpaceId::from_uuid(Uuid::now_v7())
    }

    fn token_id(&self) -> TokenId {
        TokenId::from_uuid(Uuid::now_v7())
    }

    fn event_id(&self) -> EventId {
        EventId::from_uuid(Uuid::now_v7())
    }

    fn secret(&self) -> TokenSecret {
        // 64 bytes cover the 43 characters with room for rejected bytes in almost every
        // case; the buffer refills when they do not.
        let mut buffer = [0u8; 64];
        let mut next = buffer.len();
        TokenSecret::from_random_bytes(|| {
            if next == buffer.len() {
                // The OS CSPRNG failing is unrecoverable: continuing with a weak secret would
                // be far worse than stopping.
                #[allow(clippy::expect_used)]
                getrandom::fill(&mut buffer).expect("the operating system's CSPRNG failed");
                next = 0;
            }
            next += 1;
            buffer[next - 1]
        })
    }
}

/// Predictable ids and secrets for tests: ids count up from 1, secrets derive from a counter.
/// Never use it outside tests: its secrets are guessable.
#[derive(Debug, Default)]
pub struct SequentialRandomSource(AtomicU64);

impl SequentialRandomSource {
    /// A source whose first id is 1.
    #[must_use]
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl RandomSource for SequentialRandomSource {
    fn space_id(&self) -> SpaceId {
        SpaceId::from_uuid(Uuid::from_u128(u128::from(self.next())))
    }

    fn token_id(&self) -> TokenId {
        TokenId::from_uuid(Uuid::from_u128(u128::from(self.next())))
    }

    fn event_id(&self) -> EventId {
        EventId::from_uuid(Uuid::from_u128(u128::from(self.next())))
    }

    fn secret(&self) -> TokenSecret {
        let mut state = self.next();
        TokenSecret::from_random_bytes(|| {
            // splitmix64 step: deterministic, well spread, not secure.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)).to_le_bytes()[0]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_secrets_are_well_formed_and_distinct() {
        let a = OsRandomSource.secret();
        let b = OsRandomSource.secret();
        assert_eq!(a.expose().len(), TokenSecret::LEN);
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn os_ids_are_uuid_v7() {
        assert_eq!(OsRandomSource.token_id().as_uuid().get_version_num(), 7);
    }

    #[test]
    fn sequential_source_repeats_itself_across_instances() {
        let (one, two) = (SequentialRandomSource::new(), SequentialRandomSource::new());
        assert_eq!(one.token_id(), two.token_id());
        assert_eq!(one.secret().expose(), two.secret().expose());
        assert_ne!(one.secret().expose(), one.secret().expose());
    }
}
