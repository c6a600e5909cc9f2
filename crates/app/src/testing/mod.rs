//! Test support for adapter crates and embedders (feature `testing`): the repository contract
//! suite every storage adapter must pass, fixtures, and a whole core wired on in-memory
//! adapters with a fast hasher and a hand-set clock.

pub mod contract;
pub mod fixtures;

use std::sync::Arc;

use crate::adapters::{Argon2Hasher, Argon2Params, InMemoryStore, ManualClock, OsRandomSource};
use crate::services::{SpaceService, TokenService};

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
        let random = Arc::new(OsRandomSource);
        let hasher = Arc::new(
            Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
                .unwrap_or_else(|_| unreachable!("valid parameters")),
        );
        Self {
            spaces: SpaceService::new(store.spaces.clone(), clock.clone(), random.clone()),
            tokens: TokenService::new(
                store.spaces.clone(),
                store.tokens.clone(),
                store.events.clone(),
                hasher,
                clock.clone(),
                random,
            ),
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
