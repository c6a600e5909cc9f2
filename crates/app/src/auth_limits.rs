//! Brute-force protection for authentication, shared by every inbound adapter (the REST API
//! and the console's sign-in count against the same limits): FAILED authentications are
//! counted per client address and per presented token id **from that address** (the pair),
//! each with a GCRA limiter from `governor`. A client address, or a token id from an address,
//! over its limit is refused **before** its token is verified
//! ([`LimitedVerifyError::TooManyFailures`]), so a blocked guesser learns nothing, whatever it
//! sends.
//!
//! - Lockout by a tenant: token ids are not secret (a space admin sees them in `actor` and
//!   `created_by`), so failures with an id never refuse that id from *another* address. A
//!   valid token presented from an address that has not failed is verified, whatever others
//!   sent with its id. The argon2 work spent on one id stays bounded by the verifier's lane per
//!   token id (one verification of an id past the cache at a time; see
//!   `services::verify::admission`), and a guesser's attempts by its address's limit and its
//!   pair's.
//!
//! - Successful authentications never count: a busy client behind one address is never
//!   limited for using its valid tokens.
//! - Junk that fails the offline format check counts against the address (one counter
//!   update), not against any token id: it has none.
//! - IPv6 clients are counted per /64, the block one host usually holds; IPv4-mapped IPv6
//!   addresses count as their IPv4 address.
//! - Which address a request comes from is the adapter's to say, by the one rule of
//!   [`TrustedProxies::client_address`](crate::trusted_proxies::TrustedProxies::client_address).
//!
//! Memory stays bounded: once a minute (on a blocking thread, off the request path) the
//! limiters drop the state of keys that have fully recovered and the blocked keys whose block
//! has ended, and at most [`MAX_BLOCKED_KEYS`] blocks are held at once. The bookkeeping on the
//! request path is O(1): with nothing blocked, the pre-check is one atomic load; with blocks, one
//! hash lookup; a failure is one counter update per key.
//!
//! Each block that starts is counted in `tollgate_auth_blocks_total`, labelled by the kind of
//! limit (`limiter="address"`, or `"token_id"` for a token id from one address), never by the
//! address or the id; each request
//! refused by a block in `tollgate_verifications_total{outcome="rate_limited"}`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::{NoOpMiddleware, StateInformationMiddleware};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{NotUntil, Quota, RateLimiter};
use metrics::Counter;
use tollgate_domain::TokenId;

use crate::services::{
    Malformed, PresentedToken, Usage, VerifiedToken, Verifier, VerifyTokenError,
};
use crate::telemetry::AUTH_BLOCKS;

/// How many failed authentications one client address (or one token id from one address) may
/// have: `burst`
/// in a row, then `per_minute`, evenly spread (GCRA: one more every `60 / per_minute`
/// seconds). Past that, its requests are answered 429 until the next one is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailureLimit {
    per_minute: NonZeroU32,
    burst: NonZeroU32,
}

impl AuthFailureLimit {
    /// `per_minute` failures a minute with bursts of `burst`; `None` if either is 0 (meant
    /// to read as "no limit" where a configuration allows 0).
    #[must_use]
    pub const fn new(per_minute: u32, burst: u32) -> Option<Self> {
        match (NonZeroU32::new(per_minute), NonZeroU32::new(burst)) {
            (Some(per_minute), Some(burst)) => Some(Self { per_minute, burst }),
            _ => None,
        }
    }

    /// Failures allowed per minute, sustained.
    #[must_use]
    pub const fn per_minute(self) -> u32 {
        self.per_minute.get()
    }

    /// Failures allowed in a row before the first 429.
    #[must_use]
    pub const fn burst(self) -> u32 {
        self.burst.get()
    }

    fn quota(self) -> Quota {
        Quota::per_minute(self.per_minute).allow_burst(self.burst)
    }
}

/// The limit for one client address by default: 20 failures in a row, then 20 a minute.
pub const DEFAULT_FAILURES_PER_ADDRESS: AuthFailureLimit = AuthFailureLimit {
    per_minute: nonzero(20),
    burst: nonzero(20),
};

/// The limit for one token id from one address by default: 10 failures in a row, then 10 a
/// minute.
pub const DEFAULT_FAILURES_PER_TOKEN: AuthFailureLimit = AuthFailureLimit {
    per_minute: nonzero(10),
    burst: nonzero(10),
};

const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => panic!("a limit of zero"),
    }
}

/// How many blocks are held at once at most (each a few dozen bytes). Past it, a key over its
/// limit is not blocked until the next sweep makes room: its next failure is verified (and
/// counted) instead of refused, so the limit still holds, one interval late.
const MAX_BLOCKED_KEYS: usize = 1_000_000;

/// How often the limiters drop the state of keys that have fully recovered and the blocks
/// that have ended.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

pub(crate) type KeyedLimiter<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, StateInformationMiddleware>;

/// What a block applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Blocked {
    Address(IpAddr),
    /// A token id presented from one address (`None`: an address the adapter could not tell).
    Token(TokenIdFrom),
}

/// A token id and the address it was presented from: what the per-token limit counts.
type TokenIdFrom = (TokenId, Option<IpAddr>);

/// The brute-force limits of one node, shared by every adapter that authenticates. Cheap to
/// clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AuthLimits(Arc<AuthLimiter>);

/// Why [`AuthLimits::verify`] refused a token.
#[derive(Debug, thiserror::Error)]
pub enum LimitedVerifyError {
    /// The client address, or the presented token's id, failed too often: try again after
    /// this many whole seconds (at least 1). The token was not verified.
    #[error("too many failed authentications")]
    TooManyFailures {
        /// Seconds until the next attempt is let through.
        retry_after_secs: u64,
    },
    /// The verifier's answer.
    #[error(transparent)]
    Verify(#[from] VerifyTokenError),
}

impl AuthLimits {
    /// Limits of `per_address` failures per client address and `per_token` per token id from
    /// one address (`None`: that key is not limited), or `None` when nothing is limited.
    #[must_use]
    pub fn new(
        per_address: Option<AuthFailureLimit>,
        per_token: Option<AuthFailureLimit>,
    ) -> Option<Self> {
        AuthLimiter::with_clock(per_address, per_token, DefaultClock::default())
            .map(|l| Self(Arc::new(l)))
    }

    /// Whether client addresses are counted (else an adapter need not work one out): by both
    /// limits, since the per-token one counts a token id per address.
    #[must_use]
    pub fn counts_addresses(&self) -> bool {
        self.0.by_address.is_some() || self.0.by_token.is_some()
    }

    /// Verifies `presented`, as sent from `address` (`None` if unknown), under the limits:
    /// a blocked address, or a token id blocked from this address, is refused before
    /// verification. A block on an id holds for the address that failed with it only: anyone
    /// who knows a token's id (ids are not secret) could otherwise lock its holder out with bad
    /// guesses. A token this node has already verified passes its id's block even there. A
    /// blocked address stays blocked whatever it presents. An invalid token counts one failure
    /// against the address and, when well formed, against its id from that address.
    ///
    /// A success is a use of the token from `address` ([`Usage::From`]).
    ///
    /// # Errors
    /// [`LimitedVerifyError`].
    pub async fn verify(
        &self,
        verifier: &Verifier,
        address: Option<IpAddr>,
        presented: Result<&PresentedToken, &Malformed>,
    ) -> Result<VerifiedToken, LimitedVerifyError> {
        self.verify_as(verifier, address, presented, Usage::From(address))
            .await
    }

    /// [`Self::verify`], with the verification's `usage` said apart from the address failures
    /// count against: a leak report's check counts against the reporter's address, and is no
    /// use of the token ([`Usage::NotAUse`]).
    ///
    /// # Errors
    /// [`LimitedVerifyError`].
    pub async fn verify_as(
        &self,
        verifier: &Verifier,
        address: Option<IpAddr>,
        presented: Result<&PresentedToken, &Malformed>,
        usage: Usage,
    ) -> Result<VerifiedToken, LimitedVerifyError> {
        let limiter = &self.0;
        let address = address.map(limit_key);
        let token_id = presented.ok().map(PresentedToken::id);
        if let Some(block) = limiter.blocked(address, token_id) {
            if let (Block::TokenId(_), Ok(presented)) = (block, presented) {
                if let Some(verified) = verifier.verify_cached(presented, usage) {
                    return Ok(verified);
                }
            }
            verifier.count_rate_limited(presented);
            return Err(LimitedVerifyError::TooManyFailures {
                retry_after_secs: block.retry_after().max(1),
            });
        }
        let outcome = match presented {
            Ok(presented) => verifier.verify_presented(presented, usage).await,
            Err(malformed) => Err(verifier.refuse_malformed(*malformed)),
        };
        match outcome {
            Ok(verified) => Ok(verified),
            // Counted by what the verifier said, not by what an adapter makes of it.
            Err(VerifyTokenError::Invalid) => {
                limiter.record_failure(address, token_id);
                Err(VerifyTokenError::Invalid.into())
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The limiters and the blocked keys.
pub(crate) struct AuthLimiter<C: Clock = DefaultClock> {
    by_address: Option<KeyedLimiter<IpAddr, C>>,
    by_token: Option<KeyedLimiter<TokenIdFrom, C>>,
    /// Blocked keys and the moment (nanoseconds after `base`) their block ends.
    blocked: DashMap<Blocked, u64>,
    /// No block ends after this moment (nanoseconds after `base`): the fast path.
    blocks_end_by: AtomicU64,
    /// When the limiters were last swept (nanoseconds after `base`).
    last_sweep: AtomicU64,
    /// Blocks started, per address, then per token id.
    blocks: [Counter; 2],
    clock: C,
    base: C::Instant,
}

impl<C: Clock> fmt::Debug for AuthLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLimiter")
            .field("by_address", &self.by_address.is_some())
            .field("by_token", &self.by_token.is_some())
            .field("blocked", &self.blocked.len())
            .finish_non_exhaustive()
    }
}

impl<C> AuthLimiter<C>
where
    C: Clock + Clone + Send + Sync + 'static,
{
    fn with_clock(
        per_address: Option<AuthFailureLimit>,
        per_token: Option<AuthFailureLimit>,
        clock: C,
    ) -> Option<Self> {
        if per_address.is_none() && per_token.is_none() {
            return None;
        }
        let base = clock.now();
        Some(Self {
            by_address: per_address.map(|limit| keyed_limiter(limit, clock.clone())),
            by_token: per_token.map(|limit| keyed_limiter(limit, clock.clone())),
            blocked: DashMap::new(),
            blocks_end_by: AtomicU64::new(0),
            last_sweep: AtomicU64::new(0),
            blocks: ["address", "token_id"]
                .map(|limiter| metrics::counter!(AUTH_BLOCKS, "limiter" => limiter)),
            clock,
            base,
        })
    }

    /// The seconds to wait if the address, or the presented token's id (`None` for junk) from
    /// that address, is blocked now. With nothing blocked anywhere this is one atomic load.
    fn blocked(&self, address: Option<IpAddr>, token: Option<TokenId>) -> Option<Block> {
        let now = self.nanos_now();
        if now >= self.blocks_end_by.load(Ordering::Acquire) {
            return None;
        }
        address
            .and_then(|address| self.blocked_for(Blocked::Address(address), now))
            .map(Block::Address)
            .or_else(|| {
                self.by_token.as_ref()?;
                self.blocked_for(Blocked::Token((token?, address)), now)
                    .map(Block::TokenId)
            })
    }

    fn blocked_for(&self, key: Blocked, now: u64) -> Option<u64> {
        let until = *self.blocked.get(&key)?;
        if until <= now {
            return None;
        }
        // Whole seconds, rounded up: a client that waits that long is let through.
        Some((until - now).div_ceil(1_000_000_000))
    }

    /// Counts one failed authentication against the address and the presented token's id
    /// (`None` for junk) from that address.
    fn record_failure(self: &Arc<Self>, address: Option<IpAddr>, token: Option<TokenId>) {
        if let (Some(limiter), Some(address)) = (&self.by_address, address) {
            self.count(limiter, &address, Blocked::Address(address));
        }
        if let (Some(limiter), Some(token)) = (&self.by_token, token) {
            let key = (token, address);
            self.count(limiter, &key, Blocked::Token(key));
        }
        self.sweep_if_due();
    }

    fn count<K>(&self, limiter: &KeyedLimiter<K, C>, key: &K, blocked: Blocked)
    where
        K: Clone + Eq + std::hash::Hash,
    {
        let not_until = match limiter.check_key(key) {
            Ok(state) if state.remaining_burst_capacity() > 0 => return,
            // That was the last failure allowed for now. Asking again changes nothing (a
            // refused check does not touch the state) and tells exactly when the next one
            // will be allowed, so the block starts with this failure, not the next. (Should a
            // cell have come back in between, the second check takes it: stricter, not laxer.)
            Ok(_) => match limiter.check_key(key) {
                Err(not_until) => not_until,
                Ok(_) => return,
            },
            // Concurrent failures that all passed the pre-check before the first was counted.
            Err(not_until) => not_until,
        };
        self.block(blocked, &not_until);
    }

    fn block(&self, key: Blocked, not_until: &NotUntil<C::Instant>) {
        let until = self.nanos_since_base(not_until.earliest_possible());
        if self.blocked.len() >= MAX_BLOCKED_KEYS && !self.blocked.contains_key(&key) {
            return;
        }
        let now = self.nanos_now();
        let was_blocked = self
            .blocked
            .insert(key, until)
            .is_some_and(|previous_end| previous_end > now);
        self.blocks_end_by.fetch_max(until, Ordering::AcqRel);
        // A key blocked already (concurrent failures that all passed the pre-check) is not a
        // new block.
        if was_blocked {
            return;
        }
        match key {
            Blocked::Address(address) => {
                self.blocks[0].increment(1);
                tracing::debug!(%address, "too many failed authentications from this address");
            }
            Blocked::Token((token_id, address)) => {
                self.blocks[1].increment(1);
                tracing::debug!(
                    %token_id,
                    address = ?address,
                    "too many failed authentications for this token from this address"
                );
            }
        }
    }

    /// Drops the limiter state of keys that have fully recovered and the blocks that have
    /// ended, once per [`SWEEP_INTERVAL`], on a blocking thread: the request that triggers it
    /// does not wait.
    fn sweep_if_due(self: &Arc<Self>) {
        if !sweep_due(&self.last_sweep, self.nanos_now()) {
            return;
        }
        let this = Arc::clone(self);
        off_the_request_path(move || this.sweep());
    }

    fn sweep(&self) {
        let now = self.nanos_now();
        self.blocked.retain(|_, until| *until > now);
        self.blocked.shrink_to_fit();
        if let Some(limiter) = &self.by_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.by_token {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys the limiters hold state for now, and how many are blocked.
    #[cfg(test)]
    fn tracked_keys(&self) -> (usize, usize) {
        (
            self.by_address.as_ref().map_or(0, RateLimiter::len)
                + self.by_token.as_ref().map_or(0, RateLimiter::len),
            self.blocked.len(),
        )
    }

    fn nanos_now(&self) -> u64 {
        self.nanos_since_base(self.clock.now())
    }

    fn nanos_since_base(&self, at: C::Instant) -> u64 {
        at.duration_since(self.base).as_u64()
    }
}

fn keyed_limiter<K, C>(limit: AuthFailureLimit, clock: C) -> KeyedLimiter<K, C>
where
    K: Clone + Eq + std::hash::Hash,
    C: Clock,
{
    keyed_limiter_of(limit.quota(), clock)
}

/// A keyed GCRA limiter of `quota` on `clock`, the kind every limit of this crate uses.
pub(crate) fn keyed_limiter_of<K, C>(quota: Quota, clock: C) -> KeyedLimiter<K, C>
where
    K: Clone + Eq + std::hash::Hash,
    C: Clock,
{
    let limiter: RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<C::Instant>> =
        RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock);
    limiter.with_middleware::<StateInformationMiddleware>()
}

/// Whether a sweep last started at `last_sweep` (nanoseconds, as `now` is) is due again, once
/// per [`SWEEP_INTERVAL`]; if so, `now` becomes the last sweep, so only one caller sweeps.
pub(crate) fn sweep_due(last_sweep: &AtomicU64, now: u64) -> bool {
    let last = last_sweep.load(Ordering::Relaxed);
    let due = u64::try_from(SWEEP_INTERVAL.as_nanos()).unwrap_or(u64::MAX);
    now.saturating_sub(last) >= due
        && last_sweep
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
}

/// Runs `sweep` on a blocking thread when there is a runtime, so the request that triggers
/// it does not wait; in place otherwise.
pub(crate) fn off_the_request_path(sweep: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(sweep);
        }
        Err(_) => sweep(),
    }
}

/// The key an address is counted under: IPv4 as is, IPv6 by its /64.
pub(crate) fn limit_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use governor::clock::FakeRelativeClock;
    use uuid::Uuid;

    use super::*;

    fn limiter(
        address: Option<AuthFailureLimit>,
        token: Option<AuthFailureLimit>,
    ) -> (Arc<AuthLimiter<FakeRelativeClock>>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limiter = AuthLimiter::with_clock(address, token, clock.clone()).unwrap();
        (Arc::new(limiter), clock)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The id of a well-formed token.
    fn well_formed() -> TokenId {
        TokenId::from_uuid(Uuid::now_v7())
    }

    #[test]
    fn no_limits_means_no_limiter() {
        assert!(AuthLimits::new(None, None).is_none());
        assert!(AuthLimits::new(Some(DEFAULT_FAILURES_PER_ADDRESS), None).is_some());
    }

    #[test]
    fn an_address_is_blocked_after_its_burst_and_let_through_one_interval_later() {
        // 3 in a row, then one every 20 seconds.
        let (limiter, clock) = limiter(AuthFailureLimit::new(3, 3), None);
        let attacker = Some(ip("192.0.2.1"));
        for _ in 0..2 {
            limiter.record_failure(attacker, None);
            assert_eq!(limiter.blocked(attacker, None), None);
        }
        limiter.record_failure(attacker, None);
        assert_eq!(limiter.blocked(attacker, None), Some(Block::Address(20)));
        assert_eq!(limiter.blocked(Some(ip("192.0.2.2")), None), None);

        clock.advance(Duration::from_millis(19_500));
        assert_eq!(limiter.blocked(attacker, None), Some(Block::Address(1)));
        clock.advance(Duration::from_millis(500));
        assert_eq!(limiter.blocked(attacker, None), None);
        // One more failure is allowed, and it blocks again at once.
        limiter.record_failure(attacker, None);
        assert_eq!(limiter.blocked(attacker, None), Some(Block::Address(20)));
    }

    #[test]
    fn a_token_id_is_blocked_only_from_the_address_that_failed_with_it() {
        let (limiter, _) = limiter(None, AuthFailureLimit::new(2, 2));
        let token = well_formed();
        let attacker = Some(ip("192.0.2.1"));
        limiter.record_failure(attacker, Some(token));
        assert_eq!(limiter.blocked(attacker, Some(token)), None);
        limiter.record_failure(attacker, Some(token));
        assert_eq!(
            limiter.blocked(attacker, Some(token)),
            Some(Block::TokenId(30))
        );
        // Another address presenting the same id is not refused: the tenant's lockout.
        assert_eq!(limiter.blocked(Some(ip("203.0.113.1")), Some(token)), None);
        assert_eq!(limiter.blocked(None, Some(token)), None);
        // The attacker's other ids are not blocked by this one either.
        assert_eq!(limiter.blocked(attacker, Some(well_formed())), None);
        // Failures from many addresses, one each: no pair reaches its limit.
        let spread = well_formed();
        for n in 0..50_u8 {
            limiter.record_failure(Some(ip(&format!("198.51.100.{n}"))), Some(spread));
        }
        assert_eq!(
            limiter.blocked(Some(ip("198.51.100.1")), Some(spread)),
            None
        );
        // Address limiting is off: nothing was counted for the addresses alone.
        assert_eq!(limiter.blocked(attacker, None), None);
        // Junk has no id, so it counts against no token.
        for _ in 0..10 {
            limiter.record_failure(None, None);
        }
        assert_eq!(limiter.blocked(None, None), None);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));

        let (limiter, _) = limiter(AuthFailureLimit::new(1, 1), None);
        limiter.record_failure(Some(limit_key(ip("2001:db8::1"))), None);
        assert!(limiter
            .blocked(Some(limit_key(ip("2001:db8::ffff"))), None)
            .is_some());
        assert!(limiter
            .blocked(Some(limit_key(ip("2001:db8:0:1::1"))), None)
            .is_none());
    }

    #[test]
    fn recovered_keys_and_ended_blocks_are_swept_from_memory() {
        let (limiter, clock) = limiter(AuthFailureLimit::new(60, 1), AuthFailureLimit::new(60, 5));
        for n in 0..100_u8 {
            limiter.record_failure(Some(ip(&format!("192.0.2.{n}"))), Some(well_formed()));
        }
        // Every address is blocked (a burst of one); no token id is.
        assert_eq!(limiter.tracked_keys(), (200, 100));
        clock.advance(SWEEP_INTERVAL);
        limiter.record_failure(None, None);
        assert_eq!(limiter.tracked_keys(), (0, 0));
    }
}

/// Why a request is refused before verification, and for how many more seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// The client address failed too often: every request from it waits.
    Address(u64),
    /// The presented token's id failed too often from this address.
    TokenId(u64),
}

impl Block {
    /// Whole seconds to wait.
    const fn retry_after(self) -> u64 {
        match self {
            Self::Address(secs) | Self::TokenId(secs) => secs,
        }
    }
}
