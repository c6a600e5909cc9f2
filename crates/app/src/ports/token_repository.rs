//! Storage of API tokens (metadata and secret hash; never a secret).

use std::net::IpAddr;

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{
    ApiToken, AuditEvent, ChangedFields, Ended, GracePeriod, LifetimePolicy, NameSearch,
    SecretHash, SpaceId, TokenId, TokenLevel, TokenStatus, TokenUpdate, UpdateRefused,
};

use crate::error::StoreError;

/// A set of token statuses, for listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusFilter(u8);

impl Default for StatusFilter {
    /// Active tokens only.
    fn default() -> Self {
        Self::ACTIVE
    }
}

impl StatusFilter {
    /// Active tokens only: what lists show unless asked otherwise.
    pub const ACTIVE: Self = Self::of(&[TokenStatus::Active]);
    /// Every status.
    pub const ALL: Self = Self::of(&TokenStatus::ALL);

    /// The set of these statuses.
    #[must_use]
    pub const fn of(statuses: &[TokenStatus]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < statuses.len() {
            bits |= Self::bit(statuses[i]);
            i += 1;
        }
        Self(bits)
    }

    const fn bit(status: TokenStatus) -> u8 {
        match status {
            TokenStatus::Active => 1,
            TokenStatus::Expired => 2,
            TokenStatus::Revoked => 4,
            TokenStatus::Rotated => 8,
            TokenStatus::Suspended => 16,
        }
    }

    /// Whether `status` is in the set.
    #[must_use]
    pub const fn contains(self, status: TokenStatus) -> bool {
        self.0 & Self::bit(status) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The order a token listing runs in. Token ids are UUID v7, so id order is creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ListOrder {
    /// Ascending ids: the oldest token first (the REST API's order).
    #[default]
    OldestFirst,
    /// Descending ids: the newest token first (the admin console's order).
    NewestFirst,
}

/// Which tokens of a space to list, in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenQuery {
    /// The space whose tokens are listed.
    pub space_id: SpaceId,
    /// Only tokens of this level, or of every level for `None`.
    pub level: Option<TokenLevel>,
    /// Only tokens whose status at `now` is in this set.
    pub statuses: StatusFilter,
    /// The moment statuses are judged at (expiry depends on it).
    pub now: OffsetDateTime,
    /// Only tokens whose name contains this, ignoring case ([`NameSearch::matches`]).
    pub name: Option<NameSearch>,
    /// Only tokens past this one in `order` (keyset pagination): ids greater than it for
    /// [`ListOrder::OldestFirst`], smaller for [`ListOrder::NewestFirst`].
    pub after: Option<TokenId>,
    /// At most this many tokens.
    pub limit: usize,
    /// The order of the listing, and so which side of `after` it continues on.
    pub order: ListOrder,
}

/// A rotation, applied whole or not at all. The store applies it to the old token as stored, with
/// [`ApiToken::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The token being replaced.
    pub old_id: TokenId,
    /// Its replacement, with `replaces` set to `old_id`.
    pub new_token: ApiToken,
    /// How long the old token keeps working; its `expires_at` becomes the earlier of the grace
    /// period's end and its own.
    pub grace_period: GracePeriod,
    /// The moment of the rotation, also the old token's `rotated_at`.
    pub now: OffsetDateTime,
    /// The `token.rotated` event to record with it.
    pub event: AuditEvent,
}

/// What [`TokenRepository::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// Done: the old token as stored afterwards.
    Rotated(Box<ApiToken>),
    /// Nothing changed: the old token is revoked, expired or already rotated (as stored), and
    /// this is its status.
    NotActive(TokenStatus),
    /// No token has that id, or its space was deleted (checked atomically with
    /// [`SpaceRepository::delete`](super::SpaceRepository::delete), as for an insert).
    NotFound,
}

/// A suspension or a resumption, as [`TokenRepository::set_suspended`] applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suspension {
    /// [`ApiToken::suspend`]: the token stops verifying.
    Suspend,
    /// [`ApiToken::resume`]: it verifies again.
    Resume,
}

impl Suspension {
    /// Applies this transition to `token` at `at`; whether it changed the token.
    ///
    /// # Errors
    /// [`Ended`], changing nothing, for a token that has ended.
    pub fn apply(self, token: &mut ApiToken, at: OffsetDateTime) -> Result<bool, Ended> {
        match self {
            Self::Suspend => token.suspend(at),
            Self::Resume => token.resume(at),
        }
    }
}

/// What [`TokenRepository::set_suspended`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspendOutcome {
    /// The token as stored afterwards, and whether this call changed it (`false` when it was
    /// suspended already, or active already: nothing written, no event).
    Done {
        /// The token as stored.
        token: Box<ApiToken>,
        /// Whether it changed (and the event was recorded).
        changed: bool,
    },
    /// Nothing changed: the token has ended (revoked, expired or rotated, as stored), and this
    /// is its status.
    Ended(TokenStatus),
    /// No token has that id.
    NotFound,
}

/// An update of a token, as [`TokenRepository::update`] applies it: the changes, the lifetime
/// policy they are checked against, the time, and the event to record if anything changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The token to update.
    pub id: TokenId,
    /// What to change.
    pub changes: TokenUpdate,
    /// The lifetime rules a new expiry must follow.
    pub policy: LifetimePolicy,
    /// When the update happens.
    pub now: OffsetDateTime,
    /// The `token.updated` event; the store records it with the fields that changed
    /// ([`AuditEvent::with_changes`]).
    pub event: AuditEvent,
}

impl Update {
    /// Applies this update to `token` ([`ApiToken::update`]).
    ///
    /// # Errors
    /// [`UpdateRefused`], changing nothing.
    pub fn apply(&self, token: &mut ApiToken) -> Result<ChangedFields, UpdateRefused> {
        token.update(&self.changes, &self.policy, self.now)
    }

    /// The event to record once `changed` is known.
    #[must_use]
    pub fn event_for(&self, changed: ChangedFields) -> AuditEvent {
        self.event.clone().with_changes(changed)
    }
}

/// What [`TokenRepository::update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The token as stored afterwards, and the fields this call changed (none: nothing was
    /// written and no event recorded).
    Done {
        /// The token as stored.
        token: Box<ApiToken>,
        /// What changed.
        changed: ChangedFields,
    },
    /// Nothing changed: the domain refused the update on the token as stored.
    Refused(UpdateRefused),
    /// No token has that id.
    NotFound,
}

/// One entry of a [`TokenRepository::record_uses`] batch: a token's latest successful use seen
/// by this node, and perhaps a new hash of its secret to store in place of an outdated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    /// The token used.
    pub id: TokenId,
    /// When (its `last_used_at` becomes the later of its own and this).
    pub at: OffsetDateTime,
    /// From where, as the adapter that verified it determined it; `None` if not known.
    pub ip: Option<IpAddr>,
    /// A new hash of the token's secret, made right after a successful verification against an
    /// outdated one.
    pub rehash: Option<Rehash>,
}

impl TokenUse {
    /// A use of `id` at `at` from `ip`, with no new hash.
    #[must_use]
    pub const fn new(id: TokenId, at: OffsetDateTime, ip: Option<IpAddr>) -> Self {
        Self {
            id,
            at,
            ip,
            rehash: None,
        }
    }

    /// Folds `other`, another use of the same token, into this one, as a store applies both:
    /// the later time wins with its address (the earlier noted on a tie, as
    /// [`ApiToken::record_use`] does), and the first new hash noted stays (any of them does:
    /// they hash the same secret, and each replaces only the hash it was made against).
    pub fn merge(&mut self, other: Self) {
        if other.at > self.at {
            self.at = other.at;
            self.ip = other.ip;
        }
        if self.rehash.is_none() {
            self.rehash = other.rehash;
        }
    }

    /// Applies this use to `token` as stored: [`ApiToken::record_use`], then
    /// [`ApiToken::rehash`] if a new hash came with it. What the in-memory store does, and the
    /// rule the SQL stores write in SQL.
    pub fn apply(&self, token: &mut ApiToken) {
        token.record_use(self.at, self.ip);
        if let Some(rehash) = &self.rehash {
            token.rehash(&rehash.old, rehash.new.clone());
        }
    }
}

/// A new hash of a token's secret (the same secret, hashed with the current parameters) and the
/// hash it replaces. The secret itself is never queued. The store writes `new` only where the
/// stored hash is still `old`, so a hash changed meanwhile (by another node's re-hash, or an
/// import) is never overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehash {
    /// The hash the secret was verified against.
    pub old: SecretHash,
    /// Its replacement.
    pub new: SecretHash,
}

/// What [`TokenRepository::revoke_instance_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceRevocation {
    /// Revoked now, or revoked already (the first time kept): the token as stored afterwards.
    Revoked(Box<ApiToken>),
    /// Nothing changed: it is the last active instance admin token
    /// ([`leaves_an_active_instance_admin`](tollgate_domain::leaves_an_active_instance_admin)).
    LastActive,
    /// No instance admin token has that id.
    NotFound,
}

/// Stores API tokens, and the audit events of the changes it makes.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Stores a new token and its `token.created` event, both or neither. Returns `false`,
    /// changing nothing, when a token with the same id exists already, or when the token's
    /// space was deleted (checked atomically with [`SpaceRepository::delete`], so that no token
    /// is ever added to a deleted space).
    ///
    /// [`SpaceRepository::delete`]: super::SpaceRepository::delete
    ///
    /// # Errors
    /// [`StoreError`] if the store fails. (A space that does not exist at all is no error:
    /// nothing is stored, as for a deleted one.)
    async fn insert(&self, token: &ApiToken, event: &AuditEvent) -> Result<bool, StoreError>;

    /// The token with this id, whatever its status, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a row that breaks a domain rule.
    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError>;

    /// The tokens of `query.space_id` that match `query`, in `query.order`: ascending ids for
    /// [`ListOrder::OldestFirst`], descending for [`ListOrder::NewestFirst`], starting past
    /// `query.after` and at most `query.limit` of them. Paging newest first through a space
    /// MUST give exactly the reverse of paging oldest first, whatever the filters.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes the token at `at` with [`ApiToken::revoke`] (the first revocation time is kept),
    /// recording `event` only when it changed the token. Returns the token as stored
    /// afterwards, or `None` if no token has this id. MUST be atomic: a revocation is never lost
    /// to a concurrent write.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn revoke(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<Option<ApiToken>, StoreError>;

    /// Suspends or resumes the token at `at` with [`ApiToken::suspend`] or
    /// [`ApiToken::resume`] applied to it as stored, recording `event` only when it changed the
    /// token, both or neither. MUST be atomic like [`TokenRepository::revoke`]: the row changed
    /// is the row read, so a concurrent revocation or rotation is never undone.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn set_suspended(
        &self,
        id: TokenId,
        suspension: Suspension,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<SuspendOutcome, StoreError>;

    /// Updates a token: applies [`ApiToken::update`] to it as stored (under the lock a
    /// revocation takes, so a concurrent revocation or rotation is never undone), writes its
    /// name, description and expiry, and records `update`'s event with the fields that changed,
    /// all or nothing; nothing at all when nothing changed.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn update(&self, update: &Update) -> Result<UpdateOutcome, StoreError>;

    /// Replaces an active token: applies [`ApiToken::rotate`] to it as stored, stores the new
    /// token and records the event, all or nothing.
    /// Of two concurrent rotations of one token, exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, StoreError>;

    /// Records successful uses, as [`TokenUse::apply`] says: each token's `last_used_at` becomes
    /// the later of its own and the given time, `last_used_ip` the address of that use, and a
    /// [`Rehash`] replaces the secret's hash only if the stored hash is still its `old` one (a
    /// compare-and-set on the row, atomic against concurrent batches of other nodes). Several
    /// uses of one token in a batch count as their [`TokenUse::merge`]. Unknown ids are ignored.
    /// One call is one write, however many tokens, and changes no token's validity (no
    /// revocation notification).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; then nothing was written.
    async fn record_uses(&self, uses: &[TokenUse]) -> Result<(), StoreError>;

    /// Every instance admin token (the tokens of no space), whatever its status, in ascending
    /// id order.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a row that breaks a domain rule.
    async fn instance_admins(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes instance admin token `id` as [`TokenRepository::revoke`] does, unless that would
    /// leave the instance without an active instance admin token
    /// ([`leaves_an_active_instance_admin`](tollgate_domain::leaves_an_active_instance_admin),
    /// applied to the instance tokens as stored). The check and the revocation MUST be one
    /// atomic step: of two concurrent revocations of the last two active instance tokens, one
    /// succeeds and the other answers [`InstanceRevocation::LastActive`].
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; nothing was changed.
    async fn revoke_instance_admin(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<InstanceRevocation, StoreError>;

    /// Whether any instance admin token exists, whatever its status.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn any_instance_admin(&self) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters_hold_exactly_their_statuses() {
        assert!(StatusFilter::ACTIVE.contains(TokenStatus::Active));
        assert!(!StatusFilter::ACTIVE.contains(TokenStatus::Rotated));
        let some = StatusFilter::of(&[TokenStatus::Revoked, TokenStatus::Expired]);
        assert!(some.contains(TokenStatus::Revoked) && some.contains(TokenStatus::Expired));
        assert!(!some.contains(TokenStatus::Active));
        assert!(TokenStatus::ALL
            .into_iter()
            .all(|s| StatusFilter::ALL.contains(s)));
        assert!(StatusFilter::of(&[]).is_empty());
    }
}
