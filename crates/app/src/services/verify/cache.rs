//! The verification cache: what makes a token's verification cost almost nothing after its
//! first use, without weakening revocation.
//!
//! - **Positive cache** (moka, bounded in size and time): the verified identity, keyed by the
//!   token id and holding the SHA-256 digest of the whole token string, never the string. A hit
//!   needs the presented string's digest to match (compared in constant time), so a wrong secret
//!   for a cached id is never accepted from the cache. Keying by id lets an invalidation drop the
//!   one entry exactly, with no second index that could drift from the first, and lets a forgery
//!   against a cached id be refused at once: the id's one valid string is the cached one.
//! - **Invalidation epoch**: a counter bumped every time a token is forgotten (revoked, rotated,
//!   its expiry changed, registered anew) or the whole cache is. A verification past the cache
//!   takes a [`Ticket`] before it asks the store; the ticket puts its entry in the map
//!   unconfirmed, then confirms it only if the epoch has not moved, so after a revoke returns no
//!   stale entry can authenticate, not even for the moment between the two.
//! - **Flush generation**: every entry carries the number of cache flushes at its insertion, and
//!   a hit needs it to be current, so a flush (the node lost track of other nodes' revocations)
//!   disowns every older entry at once, whatever moka's `invalidate_all` does with an entry
//!   inserted at the same moment.
//! - **Negative cache**: ids that the store does not know, remembered briefly, so a flood of
//!   well-formed but invented tokens costs one indexed lookup per id.
//!
//! An entry is small on purpose (`docs/performance.md`, "Memory per cached token"): the digest
//! and generation inline in moka's own entry, and one shared allocation with the token's
//! [`TokenIdentity`] (no stored hash, no history) and the confirmation flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use moka::sync::Cache;
use subtle::ConstantTimeEq;
use tollgate_domain::{TokenId, TokenIdentity};

use super::presented::TokenDigest;
use super::VerifyCacheConfig;

#[derive(Clone)]
struct Entry {
    digest: TokenDigest,
    /// [`VerifyCache::flushes`] when the entry was inserted.
    generation: u64,
    cached: Arc<Cached>,
}

/// What an entry shares with the verification that placed it: one allocation per entry.
pub(super) struct Cached {
    /// Set once the inserting verification saw no invalidation since it began; until then the
    /// entry is in the map (so an invalidation can drop it) but does not authenticate.
    confirmed: AtomicBool,
    token: TokenIdentity,
}

impl Cached {
    /// The verified token.
    pub(super) const fn token(&self) -> &TokenIdentity {
        &self.token
    }
}

/// What the cache knows of a presented token.
pub(super) enum Lookup {
    /// Verified before: this exact string.
    Hit(Arc<Cached>),
    /// The id is cached, but the string differs: a wrong secret or a forgery.
    OtherSecret,
    /// Nothing cached for this id.
    Miss,
}

pub(super) struct VerifyCache {
    positive: Option<Cache<TokenId, Entry>>,
    negative: Option<Cache<TokenId, ()>>,
    /// How many times a token (or every token) was forgotten: the invalidation epoch.
    invalidations: AtomicU64,
    /// How many times the whole cache was flushed.
    flushes: AtomicU64,
}

impl std::fmt::Debug for VerifyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCache")
            .field("entries", &self.positive.as_ref().map(Cache::entry_count))
            .finish_non_exhaustive()
    }
}

/// A verification past the cache, begun before the store was asked. See the module's
/// "invalidation epoch".
pub(super) struct Ticket<'a> {
    cache: &'a VerifyCache,
    epoch: u64,
}

impl Ticket<'_> {
    /// Whether some token was forgotten since the ticket was taken: what was read from the store
    /// may be stale and must be read again before it is trusted.
    pub(super) fn is_stale(&self) -> bool {
        self.cache.invalidations.load(Ordering::SeqCst) != self.epoch
    }

    /// Remembers a verified token, unless some token was forgotten since the ticket was taken.
    pub(super) fn insert(self, digest: TokenDigest, token: TokenIdentity) {
        let id = token.id();
        if let Some(placed) = self.cache.place(digest, token) {
            self.confirm(id, &placed.confirmed);
        }
    }

    /// Lets a placed entry authenticate if nothing was forgotten since the ticket was taken,
    /// else drops it. Placed first, checked second: an invalidation that bumped the epoch before
    /// this load is seen here; one that bumps it after finds the entry in the map and drops it.
    fn confirm(&self, id: TokenId, confirmed: &AtomicBool) -> bool {
        if self.is_stale() {
            if let Some(positive) = &self.cache.positive {
                positive.invalidate(&id);
            }
            false
        } else {
            confirmed.store(true, Ordering::SeqCst);
            true
        }
    }
}

impl VerifyCache {
    pub(super) fn new(config: &VerifyCacheConfig) -> Self {
        let positive = (config.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(config.capacity)
                .time_to_live(config.ttl)
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
            invalidations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        }
    }

    /// Whether the positive cache is on.
    pub(super) const fn is_on(&self) -> bool {
        self.positive.is_some()
    }

    /// What the cache knows of `id` for a presented token with this digest.
    pub(super) fn lookup(&self, id: TokenId, digest: &TokenDigest) -> Lookup {
        let Some(entry) = self.positive.as_ref().and_then(|p| p.get(&id)) else {
            return Lookup::Miss;
        };
        if entry.generation != self.flushes.load(Ordering::SeqCst)
            || !entry.cached.confirmed.load(Ordering::SeqCst)
        {
            return Lookup::Miss;
        }
        if bool::from(entry.digest.ct_eq(digest)) {
            Lookup::Hit(entry.cached)
        } else {
            Lookup::OtherSecret
        }
    }

    /// Begins a verification past the cache: take it before asking the store.
    pub(super) fn ticket(&self) -> Ticket<'_> {
        Ticket {
            cache: self,
            epoch: self.invalidations.load(Ordering::SeqCst),
        }
    }

    /// Puts an entry in the map that does not authenticate yet; `None` if caching is off.
    fn place(&self, digest: TokenDigest, token: TokenIdentity) -> Option<Arc<Cached>> {
        let positive = self.positive.as_ref()?;
        let id = token.id();
        let cached = Arc::new(Cached {
            confirmed: AtomicBool::new(false),
            token,
        });
        let entry = Entry {
            digest,
            generation: self.flushes.load(Ordering::SeqCst),
            cached: Arc::clone(&cached),
        };
        positive.insert(id, entry);
        Some(cached)
    }

    /// Drops what is known of `id` (revoked, rotated, its expiry changed, or expired on a hit).
    pub(super) fn forget(&self, id: TokenId) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        if let Some(positive) = &self.positive {
            positive.invalidate(&id);
        }
        if let Some(negative) = &self.negative {
            negative.invalidate(&id);
        }
    }

    /// Drops everything (the node lost track of other nodes' revocations).
    pub(super) fn forget_all(&self) {
        // The epoch first: an insertion that reads the new generation then also sees the new
        // epoch, and drops its entry if its verification started before this flush.
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if let Some(positive) = &self.positive {
            positive.invalidate_all();
        }
    }

    pub(super) fn is_known_unknown(&self, id: TokenId) -> bool {
        self.negative.as_ref().is_some_and(|n| n.contains_key(&id))
    }

    pub(super) fn remember_unknown(&self, id: TokenId) {
        if let Some(negative) = &self.negative {
            negative.insert(id, ());
        }
    }

    /// How many verified tokens are cached (approximate; for metrics and tests).
    pub(super) fn len(&self) -> u64 {
        self.positive.as_ref().map_or(0, |p| {
            p.run_pending_tasks();
            p.entry_count()
        })
    }
}

#[cfg(test)]
mod tests {
    use tollgate_domain::TokenLevel;

    use super::super::presented::digest;
    use super::*;
    use crate::testing::fixtures::{space_id, token};

    /// A verified token, its digest and its id.
    fn verified() -> (TokenIdentity, TokenDigest, TokenId) {
        let token = token(7, space_id(1), TokenLevel::Client);
        let id = token.id();
        let digest = digest("the one valid string of token 7");
        (token.identity(), digest, id)
    }

    fn hits(cache: &VerifyCache, id: TokenId, digest: &TokenDigest) -> bool {
        matches!(cache.lookup(id, digest), Lookup::Hit(_))
    }

    fn cache() -> VerifyCache {
        VerifyCache::new(&VerifyCacheConfig::default())
    }

    #[test]
    fn an_entry_from_before_a_flush_never_hits_even_if_the_map_still_holds_it() {
        let cache = cache();
        let (verified, digest, id) = verified();
        cache.ticket().insert(digest, verified);
        assert!(hits(&cache, id, &digest));
        // What a flush does, minus moka's `invalidate_all`: the map still holds the entry.
        cache.flushes.fetch_add(1, Ordering::SeqCst);
        assert!(cache.positive.as_ref().is_some_and(|p| p.contains_key(&id)));
        assert!(!hits(&cache, id, &digest));
    }

    #[test]
    fn a_placed_entry_does_not_authenticate_before_its_epoch_check() {
        let cache = cache();
        let (verified, digest, id) = verified();
        let ticket = cache.ticket();
        let placed = cache
            .place(digest, verified)
            .unwrap_or_else(|| unreachable!("caching is on"));
        assert!(!hits(&cache, id, &digest), "not yet checked");
        assert!(ticket.confirm(id, &placed.confirmed));
        assert!(hits(&cache, id, &digest));
    }

    #[test]
    fn a_revocation_between_placing_and_checking_leaves_nothing_that_authenticates() {
        let cache = cache();
        let (verified, digest, id) = verified();
        let ticket = cache.ticket();
        let placed = cache
            .place(digest, verified)
            .unwrap_or_else(|| unreachable!("caching is on"));
        // The revocation runs while the entry is placed but unchecked...
        cache.forget(id);
        // ... and whatever the verification does next, the entry never authenticates.
        assert!(!hits(&cache, id, &digest));
        assert!(!ticket.confirm(id, &placed.confirmed));
        assert!(!hits(&cache, id, &digest));
    }

    #[test]
    fn an_entry_verified_after_a_flush_hits() {
        let cache = cache();
        let (verified, digest, id) = verified();
        cache.forget_all();
        cache.ticket().insert(digest, verified);
        assert!(hits(&cache, id, &digest));
    }

    #[test]
    fn an_entry_verified_across_a_flush_is_not_kept() {
        let cache = cache();
        let (verified, digest, id) = verified();
        let ticket = cache.ticket();
        cache.forget_all();
        assert!(ticket.is_stale());
        ticket.insert(digest, verified);
        assert!(!hits(&cache, id, &digest));
    }

    #[test]
    fn another_string_for_a_cached_id_is_another_secret() {
        let cache = cache();
        let (verified, digest_of_valid, id) = verified();
        cache.ticket().insert(digest_of_valid, verified);
        let forged = digest("another string with the same id");
        assert!(matches!(cache.lookup(id, &forged), Lookup::OtherSecret));
    }
}
