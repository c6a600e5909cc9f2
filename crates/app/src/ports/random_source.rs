//! The source of ids and secrets, as a port so tests can be deterministic.

use tollgate_domain::{EventId, SpaceId, TokenId, TokenSecret};

/// Makes fresh ids and token secrets.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait RandomSource: Send + Sync {
    /// A new space id. MUST not repeat (production: UUID v7).
    fn space_id(&self) -> SpaceId;
    /// A new token id. MUST not repeat (production: UUID v7).
    fn token_id(&self) -> TokenId;
    /// A new audit event id. MUST not repeat and SHOULD sort by time (production: UUID v7).
    fn event_id(&self) -> EventId;
    /// A new secret. In production MUST come from the operating system's CSPRNG.
    fn secret(&self) -> TokenSecret;
}
