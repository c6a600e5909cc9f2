//! The verification cache: what makes a token's verification cost almost nothing after its
//! first use, without weakening revocation.
//!
//! - **Positive cache** (moka, bounded in size and time): the verified identity, keyed by the
//!   token id and holding the SHA-256 digest of the whole token string, never the string. A hit
//!   needs the presented string's digest to match (compared in constant time), so a wrong secret
//!   for a cached id is never accepted from the cache. Keying by id lets revocation drop the one
//!   entry exactly, with no second index that could drift from the first, and lets a forgery
//!   against a cached id be refused at once: the id's one valid string is the cached one.
//! - **Revocation epoch**: a counter bumped by every revocation, read before the store lookup
//!   and re-read after inserting; an entry whose verification raced with a revocation is dropped
//!   again, and an entry only authenticates once that check has passed, so after a revoke
//!   returns no stale entry can authenticate, not even for the moment between the two.
//! - **Flush generation**: every entry carries the number of cache flushes at its insertion, and
//!   a hit needs it to be current, so a flush (the node lost track of other nodes' revocations)
//!   disowns every older entry at once, whatever moka's `invalidate_all` does with an entry
//!   inserted at the same moment.
//! - **Negative cache**: ids that the store does not know, remembered briefly, so a flood of
//!   well-formed but invented tokens costs one indexed lookup per id.
//! - **Lanes**: one verification per token id at a time gets past the cache. A burst of first
//!   uses of one token costs one store lookup and one argon2 run (the others find it cached),
//!   and a flood of forgeries against one id holds at most one hash permit, leaving the others
//!   to the rest of the tokens.
//! - **Hash permits**: a semaphore sized to the cores bounds the argon2 computations running at
//!   once, so a flood of wrong secrets queues behind itself instead of starving cached traffic. A
//!   permit is owned by the hash it admits, so a client that hangs up does not free it early.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tollgate_domain::TokenId;

use super::token_service::VerifiedToken;

/// Bounds of the verification cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyCacheConfig {
    /// Most verified tokens kept; 0 turns the positive cache off (argon2 on every request).
    pub capacity: u64,
    /// Longest time a verified token is trusted without asking the store again. Also bounds how
    /// long another node's revocation can go unseen if its notification is lost.
    pub ttl: Duration,
    /// Most unknown token ids remembered.
    pub negative_capacity: u64,
    /// How long an unknown token id is remembered.
    pub negative_ttl: Duration,
    /// Most argon2 verifications running at once.
    pub max_concurrent_hashes: usize,
}

impl Default for VerifyCacheConfig {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            ttl: Duration::from_secs(300),
            negative_capacity: 100_000,
            negative_ttl: Duration::from_secs(30),
            // One per core: the hashing threads run at the lowest OS priority, so a flood of
            // wrong secrets only gets the CPU that cached traffic leaves.
            max_concurrent_hashes: std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get),
        }
    }
}

impl VerifyCacheConfig {
    /// No caching at all: every verification asks the store and runs argon2 (for comparison
    /// benchmarks and for embedders that want it).
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            capacity: 0,
            negative_capacity: 0,
            ..Self::default()
        }
    }
}

/// Most token ids with a lane at once (ids being verified or recently verified).
const LANES: u64 = 10_000;

/// The SHA-256 digest of a presented token string.
pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn digest(presented: &str) -> TokenDigest {
    Sha256::digest(presented.as_bytes()).into()
}

#[derive(Clone)]
struct Entry {
    digest: TokenDigest,
    verified: Arc<VerifiedToken>,
    /// [`VerifyCache::flushes`] when the entry was inserted.
    generation: u64,
    /// Set once the inserting verification saw no revocation since it began; until then the
    /// entry is in the map (so a revocation can drop it) but does not authenticate.
    confirmed: Arc<AtomicBool>,
}

/// What the cache knows of a presented token.
pub(crate) enum Lookup {
    /// Verified before: this exact string.
    Hit(Arc<VerifiedToken>),
    /// The id is cached, but the string differs: a wrong secret or a forgery.
    OtherSecret,
    /// Nothing cached for this id.
    Miss,
}

pub(crate) struct VerifyCache {
    positive: Option<Cache<TokenId, Entry>>,
    negative: Option<Cache<TokenId, ()>>,
    /// Only with the positive cache: without it there is nothing for a lane's waiters to find.
    lanes: Option<Cache<TokenId, Arc<Mutex<()>>>>,
    revocations: AtomicU64,
    flushes: AtomicU64,
    hashes: Arc<Semaphore>,
}

impl std::fmt::Debug for VerifyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCache")
            .field("entries", &self.positive.as_ref().map(Cache::entry_count))
            .finish_non_exhaustive()
    }
}

impl VerifyCache {
    pub(crate) fn new(config: VerifyCacheConfig) -> Self {
        let positive = (config.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(config.capacity)
                .time_to_live(config.ttl)
                .build()
        });
        // A lane evicted while in use only lets a second verification of that id through at
        // once: fairness, not correctness, depends on it.
        let lanes = (config.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(LANES)
                .time_to_idle(Duration::from_secs(60))
                .build()
        });
        let negative = (config.negative_capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(config.negative_capacity)
                .time_to_live(config.negative_ttl)
                .build()
        });
        Self {
            positive,
            negative,
            lanes,
            revocations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            hashes: Arc::new(Semaphore::new(config.max_concurrent_hashes.max(1))),
        }
    }

    /// The cached identity for `id` if the presented token's digest matches.
    pub(crate) fn get(&self, id: TokenId, digest: &TokenDigest) -> Option<Arc<VerifiedToken>> {
        match self.lookup(id, digest) {
            Lookup::Hit(verified) => Some(verified),
            Lookup::OtherSecret | Lookup::Miss => None,
        }
    }

    /// What the cache knows of `id` for a presented token with this digest.
    pub(crate) fn lookup(&self, id: TokenId, digest: &TokenDigest) -> Lookup {
        let Some(entry) = self.positive.as_ref().and_then(|p| p.get(&id)) else {
            return Lookup::Miss;
        };
        if entry.generation != self.flushes.load(Ordering::SeqCst)
            || !entry.confirmed.load(Ordering::SeqCst)
        {
            return Lookup::Miss;
        }
        if bool::from(entry.digest.ct_eq(digest)) {
            Lookup::Hit(entry.verified)
        } else {
            Lookup::OtherSecret
        }
    }

    /// The epoch to pass to [`Self::insert`]: read it before asking the store.
    pub(crate) fn epoch(&self) -> u64 {
        self.revocations.load(Ordering::SeqCst)
    }

    /// Remembers a verified token, unless a revocation happened since `epoch`.
    pub(crate) fn insert(&self, epoch: u64, digest: TokenDigest, verified: Arc<VerifiedToken>) {
        let id = verified.token.id;
        if let Some(confirmed) = self.place(digest, verified) {
            self.confirm(epoch, id, &confirmed);
        }
    }

    /// Puts an entry in the map that does not authenticate yet; `None` if caching is off.
    fn place(&self, digest: TokenDigest, verified: Arc<VerifiedToken>) -> Option<Arc<AtomicBool>> {
        let positive = self.positive.as_ref()?;
        let confirmed = Arc::new(AtomicBool::new(false));
        let id = verified.token.id;
        let entry = Entry {
            digest,
            verified,
            generation: self.flushes.load(Ordering::SeqCst),
            confirmed: Arc::clone(&confirmed),
        };
        positive.insert(id, entry);
        Some(confirmed)
    }

    /// Lets a placed entry authenticate if no revocation happened since `epoch`, else drops it.
    /// Placed first, checked second: a revocation that bumped the epoch before this load is seen
    /// here; one that bumps it after finds the entry in the map and drops it itself.
    fn confirm(&self, epoch: u64, id: TokenId, confirmed: &AtomicBool) -> bool {
        if self.revocations.load(Ordering::SeqCst) == epoch {
            confirmed.store(true, Ordering::SeqCst);
            true
        } else {
            if let Some(positive) = &self.positive {
                positive.invalidate(&id);
            }
            false
        }
    }

    /// Drops what is known of `id` (revoked, rotated, or expired on a hit).
    pub(crate) fn forget(&self, id: TokenId) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        if let Some(positive) = &self.positive {
            positive.invalidate(&id);
        }
        if let Some(negative) = &self.negative {
            negative.invalidate(&id);
        }
    }

    /// Drops everything (the node lost track of other nodes' revocations).
    pub(crate) fn forget_all(&self) {
        // The epoch first: an insertion that reads the new generation then also sees the new
        // epoch, and drops its entry if its verification started before this flush.
        self.revocations.fetch_add(1, Ordering::SeqCst);
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if let Some(positive) = &self.positive {
            positive.invalidate_all();
        }
    }

    pub(crate) fn is_known_unknown(&self, id: TokenId) -> bool {
        self.negative.as_ref().is_some_and(|n| n.contains_key(&id))
    }

    pub(crate) fn remember_unknown(&self, id: TokenId) {
        if let Some(negative) = &self.negative {
            negative.insert(id, ());
        }
    }

    /// Waits until no other verification of `id` is past the cache; held until this one has
    /// cached its result. `None` when caching is off.
    pub(crate) async fn lane(&self, id: TokenId) -> Option<OwnedMutexGuard<()>> {
        let lane = self
            .lanes
            .as_ref()?
            .get_with(id, || Arc::new(Mutex::new(())));
        Some(lane.lock_owned().await)
    }

    /// A permit to run one argon2 verification; waits while the cores are busy with others.
    /// Owned, so that it can live as long as the hash rather than the request.
    pub(crate) async fn hash_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.hashes).acquire_owned().await.ok()
    }

    /// How many verified tokens are cached (approximate; for metrics and tests).
    pub(crate) fn len(&self) -> u64 {
        self.positive.as_ref().map_or(0, |p| {
            p.run_pending_tasks();
            p.entry_count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_domain::{Actor, SpaceId, TokenLevel};

    fn verified() -> (Arc<VerifiedToken>, TokenDigest) {
        let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
        let (token, string) = super::super::tests::stored(TokenLevel::Client, space, None, None);
        let verified = VerifiedToken {
            actor: Actor::for_token(&token),
            token,
        };
        (Arc::new(verified), digest(string.expose()))
    }

    #[test]
    fn an_entry_from_before_a_flush_never_hits_even_if_the_map_still_holds_it() {
        let cache = VerifyCache::new(VerifyCacheConfig::default());
        let (verified, digest) = verified();
        let id = verified.token.id;
        cache.insert(cache.epoch(), digest, verified);
        assert!(cache.get(id, &digest).is_some());
        // What a flush does, minus moka's `invalidate_all`: the map still holds the entry.
        cache.flushes.fetch_add(1, Ordering::SeqCst);
        assert!(cache.positive.as_ref().is_some_and(|p| p.contains_key(&id)));
        assert!(cache.get(id, &digest).is_none());
    }

    #[test]
    fn a_placed_entry_does_not_authenticate_before_its_epoch_check() {
        let cache = VerifyCache::new(VerifyCacheConfig::default());
        let (verified, digest) = verified();
        let id = verified.token.id;
        let epoch = cache.epoch();
        let confirmed = cache.place(digest, Arc::clone(&verified));
        let confirmed = confirmed.unwrap_or_else(|| unreachable!("caching is on"));
        assert!(cache.get(id, &digest).is_none(), "not yet checked");
        assert!(cache.confirm(epoch, id, &confirmed));
        assert!(cache.get(id, &digest).is_some());
    }

    #[test]
    fn a_revocation_between_placing_and_checking_leaves_nothing_that_authenticates() {
        let cache = VerifyCache::new(VerifyCacheConfig::default());
        let (verified, digest) = verified();
        let id = verified.token.id;
        let epoch = cache.epoch();
        let confirmed = cache.place(digest, Arc::clone(&verified));
        let confirmed = confirmed.unwrap_or_else(|| unreachable!("caching is on"));
        // The revocation runs while the entry is placed but unchecked...
        cache.forget(id);
        // ... and whatever the verification does next, the entry never authenticates.
        assert!(cache.get(id, &digest).is_none());
        assert!(!cache.confirm(epoch, id, &confirmed));
        assert!(cache.get(id, &digest).is_none());
    }

    #[test]
    fn an_entry_verified_after_a_flush_hits() {
        let cache = VerifyCache::new(VerifyCacheConfig::default());
        let (verified, digest) = verified();
        let id = verified.token.id;
        cache.forget_all();
        cache.insert(cache.epoch(), digest, verified);
        assert!(cache.get(id, &digest).is_some());
    }

    #[test]
    fn an_entry_verified_across_a_flush_is_not_kept() {
        let cache = VerifyCache::new(VerifyCacheConfig::default());
        let (verified, digest) = verified();
        let id = verified.token.id;
        let epoch = cache.epoch();
        cache.forget_all();
        cache.insert(epoch, digest, verified);
        assert!(cache.get(id, &digest).is_none());
    }
}
