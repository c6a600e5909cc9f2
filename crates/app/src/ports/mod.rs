//! Ports: what the application core needs from the outside world, one trait per capability.
//! Services hold them as `Arc<dyn Port>`; adapters implement them.

mod audit_repository;
mod clock;
mod random_source;
mod revocation_feed;
mod secret_hasher;
mod server_key_repository;
mod session_repository;
mod space_repository;
mod store_health;
mod store_transfer;
mod token_repository;

pub use audit_repository::AuditRepository;
pub use clock::Clock;
pub use random_source::RandomSource;
pub use revocation_feed::{RevocationEvent, RevocationFeed};
pub use secret_hasher::{HashAssessment, HashError, HashRefused, SecretHasher};
pub use server_key_repository::ServerKeyRepository;
pub use session_repository::SessionRepository;
pub use space_repository::{DeleteOutcome, RenameOutcome, SpaceRepository};
pub use store_health::StoreHealth;
pub use store_transfer::{ImportError, StoreTransfer};
pub use token_repository::{
    InstanceRevocation, ListOrder, Rehash, RotateOutcome, Rotation, StatusFilter, SuspendOutcome,
    Suspension, TokenQuery, TokenRepository, TokenUse, Update, UpdateOutcome,
};

#[cfg(any(test, feature = "testing"))]
pub use audit_repository::MockAuditRepository;
#[cfg(any(test, feature = "testing"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "testing"))]
pub use random_source::MockRandomSource;
#[cfg(any(test, feature = "testing"))]
pub use secret_hasher::MockSecretHasher;
#[cfg(any(test, feature = "testing"))]
pub use server_key_repository::MockServerKeyRepository;
#[cfg(any(test, feature = "testing"))]
pub use session_repository::MockSessionRepository;
#[cfg(any(test, feature = "testing"))]
pub use space_repository::MockSpaceRepository;
#[cfg(any(test, feature = "testing"))]
pub use store_transfer::MockStoreTransfer;
#[cfg(any(test, feature = "testing"))]
pub use token_repository::MockTokenRepository;
