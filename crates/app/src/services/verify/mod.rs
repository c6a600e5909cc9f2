//! Verification, the hot path run on every API request of the platform: a presented token
//! string becomes the actor it acts as, or one opaque "invalid".
//!
//! [`Verifier::verify_presented`] runs, in this order: the cache (a hit costs a SHA-256 and a
//! map lookup), the negative cache, the token id's lane, the cache again, the store lookup by
//! id, the kind, revoked, expired, then argon2id under a permit (and, right after a success
//! against a hash with outdated parameters, a new hash under the same permit, queued for the
//! last-used batch); and last, if any token was forgotten while it ran, the row is read again
//! before the answer is cached. The protocol
//! that keeps a revocation from being missed lives in [`cache`]; who gets past the cache and
//! when, in [`admission`]. Every verification is counted, by outcome and path, and timed where
//! it ran ([`crate::telemetry`]).

mod admission;
mod cache;
mod last_used;
mod presented;
mod rejections;
mod verified;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tollgate_domain::{ApiToken, SecretHash, TokenId};
use tracing::Instrument;

use self::admission::{HashPermits, Lanes};
use self::cache::{Lookup, VerifyCache};
use self::last_used::LastUsed;
use self::rejections::Rejections;
use super::errors::VerifyTokenError;
use super::issuer::EventStamp;
use crate::error::StoreError;
use crate::ports::{
    AuditRepository, Clock, HashAssessment, HashError, RandomSource, Rehash, RevocationEvent,
    RevocationFeed, SecretHasher, TokenRepository, TokenUse,
};
use crate::telemetry::{Outcome, Path, VerifyMetrics};

pub use self::presented::{Malformed, PresentedToken};
pub use self::verified::VerifiedToken;

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

/// Turns presented token strings into verified tokens, with the cache, lanes and argon2
/// permits that make it cheap. One per node, shared by every request.
pub struct Verifier {
    tokens: Arc<dyn TokenRepository>,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
    cache: VerifyCache,
    lanes: Lanes,
    permits: HashPermits,
    rejections: Rejections,
    last_used: LastUsed,
    metrics: VerifyMetrics,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// Whether a verification is a use of the token, for `last_used_at` and `last_used_ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Its holder uses it, from this client address (`None` if not known): a success is noted.
    From(Option<IpAddr>),
    /// A check that is not a use, such as a leak report's (the reporter is not the holder, and
    /// must not appear as where the token was used from): nothing is noted.
    NotAUse,
}

/// What argon2 said of a presented secret.
enum SecretCheck {
    /// It is not the token's secret (or the hash could not be checked).
    Mismatch,
    /// It is, and this is its new hash if the stored one was outdated.
    Matched { new_hash: Option<SecretHash> },
}

/// Logs why a token was refused (never the token) and gives the one opaque answer.
fn reject(id: TokenId, reason: &'static str) -> VerifyTokenError {
    tracing::debug!(token_id = %id, reason, "token rejected");
    VerifyTokenError::Invalid
}

impl Verifier {
    /// A verifier over these ports, with a cache of these bounds. `events` and `random` record
    /// rejected uses of revoked and expired tokens.
    #[must_use]
    pub(crate) fn new(
        tokens: Arc<dyn TokenRepository>,
        events: Arc<dyn AuditRepository>,
        hasher: Arc<dyn SecretHasher>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
        config: &VerifyCacheConfig,
    ) -> Self {
        let cache = VerifyCache::new(config);
        let metrics = VerifyMetrics::new(config.max_concurrent_hashes.max(1));
        Self {
            lanes: Lanes::new(cache.is_on()),
            permits: HashPermits::new(config.max_concurrent_hashes, &metrics),
            metrics,
            rejections: Rejections::new(events, EventStamp::new(Arc::clone(&clock), random)),
            last_used: LastUsed::default(),
            cache,
            tokens,
            hasher,
            clock,
        }
    }

    /// Verifies a presented token string, used from an unknown address: [`Self::verify_from`]
    /// with `None`.
    ///
    /// # Errors
    /// [`VerifyTokenError::Invalid`], or [`VerifyTokenError::Store`] when the store is down.
    pub async fn verify(&self, presented: &str) -> Result<VerifiedToken, VerifyTokenError> {
        self.verify_from(presented, None).await
    }

    /// Verifies a presented token string used from `client` (its `last_used_ip` on success):
    /// [`PresentedToken::parse`], then [`Self::verify_presented`].
    ///
    /// # Errors
    /// [`VerifyTokenError::Invalid`], or [`VerifyTokenError::Store`] when the store is down.
    pub async fn verify_from(
        &self,
        presented: &str,
        client: Option<IpAddr>,
    ) -> Result<VerifiedToken, VerifyTokenError> {
        match PresentedToken::parse(presented) {
            Ok(presented) => self.verify_presented(&presented, Usage::From(client)).await,
            Err(malformed) => Err(self.refuse_malformed(malformed)),
        }
    }

    /// Refuses a string that [`PresentedToken::parse`] refused, logging why (never the string),
    /// and counts it as junk.
    #[must_use]
    pub fn refuse_malformed(&self, _: Malformed) -> VerifyTokenError {
        tracing::debug!(reason = "malformed", "token rejected");
        self.metrics.verification(Outcome::Invalid, Path::Junk);
        VerifyTokenError::Invalid
    }

    /// Counts a verification the brute-force limits refused before it ran.
    pub(crate) fn count_rate_limited(&self, presented: Result<&PresentedToken, &Malformed>) {
        let path = if presented.is_ok() {
            Path::Cached
        } else {
            Path::Junk
        };
        self.metrics.verification(Outcome::RateLimited, path);
    }

    /// Verifies a token that passed the offline checks: the cache, lookup by id, revoked,
    /// expired, then argon2id. Every failure is the same [`VerifyTokenError::Invalid`]; the
    /// reason is logged with the token id, never the token. A success that is a use (`usage`)
    /// is noted for `last_used_at` and `last_used_ip`, with a new hash if the stored one's
    /// parameters are outdated (written by [`Self::flush_last_used`]). Counted and timed.
    ///
    /// # Errors
    /// [`VerifyTokenError::Invalid`], or [`VerifyTokenError::Store`] when the store is down.
    pub async fn verify_presented(
        &self,
        presented: &PresentedToken,
        usage: Usage,
    ) -> Result<VerifiedToken, VerifyTokenError> {
        let started = Instant::now();
        let mut path = Path::Cached;
        let verified = self.verify_uncounted(presented, usage, &mut path).await;
        let outcome = match &verified {
            Ok(_) => Outcome::Valid,
            Err(VerifyTokenError::Invalid) => Outcome::Invalid,
            Err(VerifyTokenError::Store(_)) => Outcome::StoreUnavailable,
        };
        self.metrics
            .timed_verification(outcome, path, started.elapsed());
        verified
    }

    /// [`Self::verify_presented`] without the counting; sets `path` to [`Path::Cold`] once it
    /// asks the store.
    async fn verify_uncounted(
        &self,
        presented: &PresentedToken,
        usage: Usage,
        path: &mut Path,
    ) -> Result<VerifiedToken, VerifyTokenError> {
        let id = presented.id();
        if let Some(answer) = self.answer_from_cache(presented, usage).await {
            return answer;
        }
        if self.cache.is_known_unknown(id) {
            return Err(reject(id, "unknown id (remembered)"));
        }
        // One verification of this id at a time from here on; the others wait, then usually
        // find its result cached. Held until the result is cached.
        let _lane = self.lanes.enter(id).await;
        if let Some(answer) = self.answer_from_cache(presented, usage).await {
            return answer;
        }
        let ticket = self.cache.ticket();
        *path = Path::Cold;
        self.metrics.cache_miss();
        let (token, rehash) = self.check_against_store(presented).await?;
        // A revocation or rotation may have landed while this request waited for argon2 (the
        // permits queue under a flood): then the row read above is stale, so read it again
        // before saying yes. Invalidations are rare, so this costs nothing in the common case.
        let token = if ticket.is_stale() {
            self.tokens
                .get(id)
                .await?
                .ok_or_else(|| reject(id, "deleted while verifying"))?
        } else {
            token
        };
        let now = self.clock.now();
        if !token.is_live_at(now) {
            return Err(reject(id, "revoked or expired while verifying"));
        }
        if let Usage::From(ip) = usage {
            self.last_used.note(TokenUse {
                rehash,
                ..TokenUse::new(id, now, ip)
            });
        }
        // What is cached and answered is the token's identity: the stored hash (read above for
        // argon2 and a re-hash) and the rest of the row end with this verification.
        let verified = VerifiedToken::of(&token);
        ticket.insert(*presented.digest(), verified.token.clone());
        Ok(verified)
    }

    /// The stored token behind `presented` if it is live and the secret matches, and the new
    /// hash of its secret if the stored one was outdated.
    async fn check_against_store(
        &self,
        presented: &PresentedToken,
    ) -> Result<(ApiToken, Option<Rehash>), VerifyTokenError> {
        let id = presented.id();
        let Some(token) = self.tokens.get(id).await? else {
            self.cache.remember_unknown(id);
            return Err(reject(id, "unknown id"));
        };
        if token.scope().kind() != presented.kind() {
            return Err(reject(id, "kind does not match the stored token"));
        }
        if !token.is_live_at(self.clock.now()) {
            // No argon2 for a dead token: the event is throttled per token instead, so a flood
            // of it costs one write a minute, not one hash a request.
            self.rejections.record(&token.identity()).await;
            return Err(reject(
                id,
                if token.revoked_at().is_some() {
                    "revoked"
                } else if token.suspended_at().is_some() {
                    "suspended"
                } else {
                    "expired"
                },
            ));
        }
        let outdated = match self.hasher.assess(token.secret_hash()) {
            HashAssessment::Current => false,
            HashAssessment::Outdated => true,
            HashAssessment::Refused(why) => {
                // Never run: its parameters could make this node allocate or spin at will.
                tracing::error!(
                    token_id = %id,
                    reason = %why,
                    "stored hash refused: outside the configured argon2 bounds or unreadable"
                );
                return Err(reject(id, "stored hash refused"));
            }
        };
        let SecretCheck::Matched { new_hash } =
            self.secret_matches(presented, &token, outdated).await
        else {
            return Err(reject(id, "wrong secret"));
        };
        let rehash = new_hash.map(|new| Rehash {
            old: token.secret_hash().clone(),
            new,
        });
        Ok((token, rehash))
    }

    /// What the cache alone can say of a presented token: `None` when it has to be verified.
    async fn answer_from_cache(
        &self,
        presented: &PresentedToken,
        usage: Usage,
    ) -> Option<Result<VerifiedToken, VerifyTokenError>> {
        let id = presented.id();
        match self.cache.lookup(id, presented.digest()) {
            Lookup::Hit(hit) => {
                self.metrics.cache_hit();
                let now = self.clock.now();
                if hit.token().is_expired_at(now) {
                    self.cache.forget(id);
                    self.rejections.record(hit.token()).await;
                    return Some(Err(reject(id, "expired")));
                }
                self.note_use(id, usage, now);
                Some(Ok(VerifiedToken::from(hit.token().clone())))
            }
            // This node verified this id's one valid string and holds its digest: any other
            // string with the same id (the id encoding is one-to-one) carries another secret,
            // which argon2 would refuse. So a flood of forgeries against a token in use costs
            // a SHA-256 each, no store lookup and no argon2.
            Lookup::OtherSecret => Some(Err(reject(id, "wrong secret for a cached id"))),
            Lookup::Miss => None,
        }
    }

    /// The verification of `presented` if this node has it cached and it has not expired; never
    /// asks the store or runs argon2. Lets a known-good token through where a full verification
    /// would be refused for other reasons (a rate limit on its id that a guesser tripped).
    /// An answer is counted as a valid cached verification; `None` is not counted, since the
    /// caller decides what it means.
    #[must_use]
    pub fn verify_cached(&self, presented: &PresentedToken, usage: Usage) -> Option<VerifiedToken> {
        let Lookup::Hit(hit) = self.cache.lookup(presented.id(), presented.digest()) else {
            return None;
        };
        self.metrics.cache_hit();
        let now = self.clock.now();
        if hit.token().is_expired_at(now) {
            return None;
        }
        self.note_use(presented.id(), usage, now);
        self.metrics.verification(Outcome::Valid, Path::Cached);
        Some(VerifiedToken::from(hit.token().clone()))
    }

    /// Notes a cached verification's use (no re-hash: the cache holds no outdated answer that a
    /// cold verification did not already queue one for).
    fn note_use(&self, id: TokenId, usage: Usage, at: time::OffsetDateTime) {
        if let Usage::From(ip) = usage {
            self.last_used.note(TokenUse::new(id, at, ip));
        }
    }

    /// Runs argon2 against the stored hash under a permit, and when `outdated` says the stored
    /// one was made with other parameters and the secret matched, hashes it anew. The new hash is made right after the success, under the same
    /// permit (a re-hash costs what a verification does, once per token), and its failure only
    /// costs the re-hash, never the verification.
    async fn secret_matches(
        &self,
        presented: &PresentedToken,
        token: &ApiToken,
        outdated: bool,
    ) -> SecretCheck {
        let permit = self.permits.acquire().await;
        let hasher = Arc::clone(&self.hasher);
        let (secret, hash) = (presented.secret().clone(), token.secret_hash().clone());
        let id = token.id();
        let hashing = async move {
            let _permit = permit;
            if !hasher.verify(&secret, &hash).await? {
                return Ok(SecretCheck::Mismatch);
            }
            let new_hash = if outdated {
                hasher
                    .hash(&secret)
                    .await
                    .map_err(|error| {
                        tracing::warn!(token_id = %id, error = &error as &dyn std::error::Error, "could not re-hash an outdated hash; it is tried again on the next cold verification");
                    })
                    .ok()
            } else {
                None
            };
            Ok(SecretCheck::Matched { new_hash })
        }
        .instrument(tracing::Span::current());
        // The hash runs as a task of its own that owns the permit: if the client hangs up, this
        // future is dropped but argon2 keeps its core until it finishes, and so must the permit,
        // or a flood of requests that hang up at once would run unbounded argon2s. Outside a
        // tokio runtime (an embedder's own executor) it runs in place instead.
        let checked: Result<SecretCheck, HashError> = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => match runtime.spawn(hashing).await {
                Ok(checked) => checked,
                Err(failed) => Err(HashError(Box::new(failed))),
            },
            Err(_) => hashing.await,
        };
        checked.unwrap_or_else(|error| {
            tracing::error!(token_id = %token.id(), error = &error as &dyn std::error::Error, "stored hash could not be checked");
            SecretCheck::Mismatch
        })
    }

    /// Drops what this node knows of `id`: it was revoked or rotated, its expiry changed, or it
    /// was registered anew. The next use asks the store.
    pub fn forget(&self, id: TokenId) {
        self.cache.forget(id);
    }

    /// Empties this node's cache, e.g. because it may have missed another node's revocations.
    pub fn forget_all(&self) {
        self.cache.forget_all();
    }

    /// Applies another node's revocations to this node's cache, forever: each revoked token is
    /// forgotten, and a lost feed empties the cache (it may have missed some). Spawn it once
    /// per node next to the server.
    pub async fn follow_revocations(&self, mut feed: impl RevocationFeed) {
        loop {
            match feed.next().await {
                RevocationEvent::Revoked(id) => {
                    tracing::debug!(token_id = %id, "revoked on another node: forgotten");
                    self.cache.forget(id);
                }
                RevocationEvent::Listening => {
                    tracing::debug!("revocation feed listening: forgetting every cached verification made before");
                    self.cache.forget_all();
                }
                RevocationEvent::Lost => {
                    tracing::warn!("revocation feed lost: forgetting every cached verification");
                    self.cache.forget_all();
                }
            }
        }
    }

    /// How many verified tokens this node caches now (approximate).
    #[must_use]
    pub fn cached_tokens(&self) -> u64 {
        self.cache.len()
    }

    /// Sets the gauges that are read rather than counted (the cache's entries). Call it before
    /// each scrape: it costs the hot path nothing.
    pub fn record_gauges(&self) {
        self.metrics.cache_entries(self.cache.len());
    }

    /// Writes the `last_used_at` and `last_used_ip` of every token verified since the last
    /// flush, and the new hashes of outdated ones, in one store call. Call it every
    /// `TOLLGATE_LAST_USED_FLUSH_SECONDS` and once at shutdown. On failure the uses are kept
    /// for the next flush.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub async fn flush_last_used(&self) -> Result<usize, StoreError> {
        let uses = self.last_used.take();
        if uses.is_empty() {
            return Ok(0);
        }
        match self.tokens.record_uses(&uses).await {
            Ok(()) => Ok(uses.len()),
            Err(error) => {
                self.last_used.restore(uses);
                Err(error)
            }
        }
    }
}
