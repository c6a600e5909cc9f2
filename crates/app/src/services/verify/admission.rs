//! Who gets past the cache, and when: a lane per token id, and permits for argon2.
//!
//! - **Lanes**: one verification per token id at a time gets past the cache. A burst of first
//!   uses of one token costs one store lookup and one argon2 run (the others find it cached),
//!   and a flood of forgeries against one id holds at most one hash permit, leaving the others
//!   to the rest of the tokens.
//! - **Hash permits**: a semaphore sized to the cores bounds the argon2 computations running at
//!   once, so a flood of wrong secrets queues behind itself instead of starving cached traffic. A
//!   permit is owned by the hash it admits, so a client that hangs up does not free it early.

use std::sync::Arc;
use std::time::Duration;

use metrics::Gauge;
use moka::sync::Cache;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tollgate_domain::TokenId;

use crate::telemetry::{Held, VerifyMetrics};

/// Most token ids with a lane at once (ids being verified or recently verified).
const LANES: u64 = 10_000;

/// One lane per token id being verified past the cache.
pub(super) struct Lanes(Option<Cache<TokenId, Arc<Mutex<()>>>>);

impl Lanes {
    /// Lanes, or none at all when `on` is false: without a positive cache there is nothing for
    /// a lane's waiters to find when their turn comes.
    pub(super) fn new(on: bool) -> Self {
        // A lane evicted while in use only lets a second verification of that id through at
        // once: fairness, not correctness, depends on it.
        Self(on.then(|| {
            Cache::builder()
                .max_capacity(LANES)
                .time_to_idle(Duration::from_secs(60))
                .build()
        }))
    }

    /// Waits until no other verification of `id` is past the cache; hold the guard until this
    /// one has cached its result. `None` when there are no lanes.
    pub(super) async fn enter(&self, id: TokenId) -> Option<OwnedMutexGuard<()>> {
        let lane = self.0.as_ref()?.get_with(id, || Arc::new(Mutex::new(())));
        Some(lane.lock_owned().await)
    }
}

/// Permits to run argon2: at most this many hashes at once.
pub(super) struct HashPermits {
    semaphore: Arc<Semaphore>,
    in_use: Gauge,
    waiters: Gauge,
}

/// A permit to run one argon2 verification, counted in use for as long as it lives.
pub(super) struct HashPermit {
    _permit: OwnedSemaphorePermit,
    _in_use: Held,
}

impl HashPermits {
    /// `max_concurrent` permits (at least one), counted in `metrics`' permit gauges.
    pub(super) fn new(max_concurrent: usize, metrics: &VerifyMetrics) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(max_concurrent.max(1))),
            in_use: metrics.permits_in_use.clone(),
            waiters: metrics.waiters.clone(),
        }
    }

    /// A permit to run one argon2 verification; waits while the cores are busy with others.
    /// Owned, so that it can live as long as the hash rather than the request.
    pub(super) async fn acquire(&self) -> Option<HashPermit> {
        let waiting = Held::new(&self.waiters);
        let permit = Arc::clone(&self.semaphore).acquire_owned().await.ok()?;
        drop(waiting);
        Some(HashPermit {
            _permit: permit,
            _in_use: Held::new(&self.in_use),
        })
    }
}
