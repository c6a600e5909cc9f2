//! Test support for this crate, adapter crates and embedders (feature `testing`): the
//! repository, session and transfer contract suites every storage adapter must pass,
//! fixtures, one configurable fake hasher, the ports' `mockall` mocks (re-exported from
//! [`crate::ports`]), a local metrics recorder to question, and the wiring of a whole core,
//! written once.

pub mod contract;
pub mod fixtures;
mod hasher;
pub mod metrics;
pub mod sessions;
pub mod transfer;

use std::sync::Arc;

pub use hasher::FakeHasher;

use crate::adapters::{Argon2Hasher, Argon2Params, InMemoryStore, ManualClock, OsRandomSource};
use crate::ports::{
    AuditRepository, Clock, RandomSource, SecretHasher, SpaceRepository, TokenRepository,
};
use crate::services::{SessionService, SpaceService, TokenService, VerifyCacheConfig};

/// The ports of a [`TokenService`], each replaceable: by default an empty in-memory store,
/// argon2 at its cheapest, a [`ManualClock`] and OS randomness. Override a field with a mock or a fake
/// and call [`TestPorts::token_service`].
#[derive(Clone)]
pub struct TestPorts {
    /// The spaces.
    pub spaces: Arc<dyn SpaceRepository>,
    /// The tokens.
    pub tokens: Arc<dyn TokenRepository>,
    /// The audit events.
    pub events: Arc<dyn AuditRepository>,
    /// The hasher.
    pub hasher: Arc<dyn SecretHasher>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Ids and secrets.
    pub random: Arc<dyn RandomSource>,
    /// The verification cache's bounds.
    pub cache: VerifyCacheConfig,
}

impl std::fmt::Debug for TestPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPorts")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl TestPorts {
    /// Ports over `store`, with `clock`.
    #[must_use]
    pub fn over(store: &InMemoryStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            spaces: store.spaces.clone(),
            tokens: store.tokens.clone(),
            events: store.events.clone(),
            hasher: Arc::new(
                Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
                    .unwrap_or_else(|_| unreachable!("valid parameters")),
            ),
            clock,
            random: Arc::new(OsRandomSource),
            cache: VerifyCacheConfig::default(),
        }
    }

    /// The token service over these ports.
    #[must_use]
    pub fn token_service(self) -> TokenService {
        TokenService::new(
            self.spaces,
            self.tokens,
            self.events,
            self.hasher,
            self.clock,
            self.random,
        )
        .with_verify_cache(self.cache)
    }

    /// The space and token services over these ports, the space service dropping deleted
    /// spaces' tokens from the token service's verifier.
    #[must_use]
    pub fn services(self) -> (SpaceService, TokenService) {
        let spaces = Arc::clone(&self.spaces);
        let clock = Arc::clone(&self.clock);
        let random = Arc::clone(&self.random);
        let tokens = self.token_service();
        let spaces = SpaceService::new(spaces, Arc::clone(tokens.verifier()), clock, random);
        (spaces, tokens)
    }
}

impl Default for TestPorts {
    fn default() -> Self {
        Self::over(&InMemoryStore::new(), Arc::new(ManualClock::default()))
    }
}

/// Services on the in-memory store, with argon2 at its cheapest and a [`ManualClock`].
#[derive(Debug, Clone)]
pub struct TestCore {
    /// The space service.
    pub spaces: SpaceService,
    /// The token service.
    pub tokens: TokenService,
    /// The clock both services read; move it to test expiry.
    pub clock: Arc<ManualClock>,
    /// The store behind them.
    pub store: InMemoryStore,
}

impl TestCore {
    /// A fresh, empty core.
    #[must_use]
    pub fn new() -> Self {
        let store = InMemoryStore::new();
        let clock = Arc::new(ManualClock::default());
        Self::over(TestPorts::over(&store, clock.clone()), store, clock)
    }

    /// A fresh, empty core whose token service hashes with `hasher` (a [`FakeHasher`] that the
    /// test holds, say).
    #[must_use]
    pub fn with_hasher(hasher: Arc<dyn SecretHasher>) -> Self {
        let store = InMemoryStore::new();
        let clock = Arc::new(ManualClock::default());
        let ports = TestPorts {
            hasher,
            ..TestPorts::over(&store, clock.clone())
        };
        Self::over(ports, store, clock)
    }

    /// Console sessions over this core's store, verifying with its token service's verifier
    /// and reading its clock.
    #[must_use]
    pub fn session_service(&self) -> SessionService {
        SessionService::new(
            self.store.sessions.clone(),
            self.store.tokens.clone(),
            Arc::clone(self.tokens.verifier()),
            self.clock.clone(),
        )
    }

    fn over(ports: TestPorts, store: InMemoryStore, clock: Arc<ManualClock>) -> Self {
        let (spaces, tokens) = ports.services();
        Self {
            spaces,
            tokens,
            clock,
            store,
        }
    }
}

impl Default for TestCore {
    fn default() -> Self {
        Self::new()
    }
}
