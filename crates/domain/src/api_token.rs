//! The API token entity: what a store keeps of a token, and the transitions of its life
//! (issue, revoke, rotate, suspend, update, use; updating is `api_token/update.rs`). Its fields are private, so every store applies the same rules
//! by calling these methods, and a value read back from a store goes through
//! [`ApiToken::restore`], which checks what the methods guarantee.

mod identity;
mod update;

use std::net::IpAddr;

use time::OffsetDateTime;

pub use self::identity::TokenIdentity;
pub use self::update::{ChangedFields, TokenField, TokenFieldError, TokenUpdate, UpdateRefused};
use crate::description::TokenDescription;
use crate::ids::{SpaceId, TokenId};
use crate::lifecycle::GracePeriod;
use crate::token::{CreatedBy, SecretHash, TokenLevel, TokenName, TokenScope, TokenStatus};
use crate::token_format::hint;

/// A rotation: the token that replaced this one, and when. Both or neither, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Replacement {
    by: TokenId,
    at: OffsetDateTime,
}

/// Whether an expiry has passed at `now`: a token expires at the instant itself. The one rule,
/// for [`ApiToken`] and [`TokenIdentity`].
fn has_expired(expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// A stored API token: its metadata and the hash of its secret. The secret itself is not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    id: TokenId,
    scope: TokenScope,
    name: TokenName,
    description: Option<TokenDescription>,
    created_at: OffsetDateTime,
    created_by: CreatedBy,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    last_used_ip: Option<IpAddr>,
    revoked_at: Option<OffsetDateTime>,
    suspended_at: Option<OffsetDateTime>,
    replaces: Option<TokenId>,
    replacement: Option<Replacement>,
    secret_hash: SecretHash,
}

/// What a new token is made of: everything but the state its life gives it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// UUID v7, also carried in the token string.
    pub id: TokenId,
    /// Instance, or a space and a level.
    pub scope: TokenScope,
    /// Human-given name.
    pub name: TokenName,
    /// When it is issued.
    pub created_at: OffsetDateTime,
    /// Who issues it.
    pub created_by: CreatedBy,
    /// When it stops verifying, if ever (the lifetime policy has been applied).
    pub expires_at: Option<OffsetDateTime>,
    /// The token it replaces, for a rotation's new token.
    pub replaces: Option<TokenId>,
    /// argon2id hash of its secret.
    pub secret_hash: SecretHash,
}

/// Every column a store keeps of a token, to rebuild it with [`ApiToken::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// See [`ApiToken::id`].
    pub id: TokenId,
    /// See [`ApiToken::scope`].
    pub scope: TokenScope,
    /// See [`ApiToken::name`].
    pub name: TokenName,
    /// See [`ApiToken::description`].
    pub description: Option<TokenDescription>,
    /// See [`ApiToken::created_at`].
    pub created_at: OffsetDateTime,
    /// See [`ApiToken::created_by`].
    pub created_by: CreatedBy,
    /// See [`ApiToken::expires_at`].
    pub expires_at: Option<OffsetDateTime>,
    /// See [`ApiToken::last_used_at`].
    pub last_used_at: Option<OffsetDateTime>,
    /// See [`ApiToken::last_used_ip`].
    pub last_used_ip: Option<IpAddr>,
    /// See [`ApiToken::revoked_at`].
    pub revoked_at: Option<OffsetDateTime>,
    /// See [`ApiToken::suspended_at`].
    pub suspended_at: Option<OffsetDateTime>,
    /// See [`ApiToken::replaces`].
    pub replaces: Option<TokenId>,
    /// See [`ApiToken::replaced_by`].
    pub replaced_by: Option<TokenId>,
    /// See [`ApiToken::rotated_at`].
    pub rotated_at: Option<OffsetDateTime>,
    /// See [`ApiToken::secret_hash`].
    pub secret_hash: SecretHash,
}

/// A stored token that no sequence of transitions can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRecordError {
    /// `replaced_by` without `rotated_at`, or the other way round.
    #[error("replaced_by and rotated_at must be set together")]
    HalfRotated,
}

/// The token has ended (revoked, expired or rotated), so it can be neither suspended nor
/// resumed; this is its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token has ended; it is {}", .0.as_str())]
pub struct Ended(pub TokenStatus);

/// Only an active token can be rotated; this one is in another status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only an active token can be rotated; this one is {}", .0.as_str())]
pub struct NotActive(pub TokenStatus);

impl ApiToken {
    /// A freshly issued token: active, never used, never revoked or rotated.
    #[must_use]
    pub fn issue(new: NewApiToken) -> Self {
        Self {
            id: new.id,
            scope: new.scope,
            name: new.name,
            description: None,
            created_at: new.created_at,
            created_by: new.created_by,
            expires_at: new.expires_at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            suspended_at: None,
            replaces: new.replaces,
            replacement: None,
            secret_hash: new.secret_hash,
        }
    }

    /// Rebuilds a token from what a store kept.
    ///
    /// # Errors
    /// [`TokenRecordError`] for a record that the transitions cannot produce.
    pub fn restore(record: TokenRecord) -> Result<Self, TokenRecordError> {
        let replacement = match (record.replaced_by, record.rotated_at) {
            (Some(by), Some(at)) => Some(Replacement { by, at }),
            (None, None) => None,
            _ => return Err(TokenRecordError::HalfRotated),
        };
        Ok(Self {
            id: record.id,
            scope: record.scope,
            name: record.name,
            description: record.description,
            created_at: record.created_at,
            created_by: record.created_by,
            expires_at: record.expires_at,
            last_used_at: record.last_used_at,
            last_used_ip: record.last_used_ip,
            revoked_at: record.revoked_at,
            suspended_at: record.suspended_at,
            replaces: record.replaces,
            replacement,
            secret_hash: record.secret_hash,
        })
    }

    /// Every column a store keeps of this token: what [`ApiToken::restore`] takes back.
    #[must_use]
    pub fn record(&self) -> TokenRecord {
        TokenRecord {
            id: self.id,
            scope: self.scope,
            name: self.name.clone(),
            description: self.description.clone(),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            last_used_ip: self.last_used_ip,
            revoked_at: self.revoked_at,
            suspended_at: self.suspended_at,
            replaces: self.replaces,
            replaced_by: self.replaced_by(),
            rotated_at: self.rotated_at(),
            secret_hash: self.secret_hash.clone(),
        }
    }

    /// UUID v7, also carried in the token string.
    #[must_use]
    pub const fn id(&self) -> TokenId {
        self.id
    }

    /// Instance, or a space and a level.
    #[must_use]
    pub const fn scope(&self) -> TokenScope {
        self.scope
    }

    /// The level (admin for an instance token).
    #[must_use]
    pub const fn level(&self) -> TokenLevel {
        self.scope.level()
    }

    /// The space, or `None` for an instance admin token.
    #[must_use]
    pub const fn space_id(&self) -> Option<SpaceId> {
        self.scope.space_id()
    }

    /// Human-given name.
    #[must_use]
    pub const fn name(&self) -> &TokenName {
        &self.name
    }

    /// What the token is for, if someone said.
    #[must_use]
    pub const fn description(&self) -> Option<&TokenDescription> {
        self.description.as_ref()
    }

    /// When it was issued.
    #[must_use]
    pub const fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// Who issued it.
    #[must_use]
    pub const fn created_by(&self) -> &CreatedBy {
        &self.created_by
    }

    /// When it stops verifying, if ever.
    #[must_use]
    pub const fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// The last successful verification, as far as the store knows.
    #[must_use]
    pub const fn last_used_at(&self) -> Option<OffsetDateTime> {
        self.last_used_at
    }

    /// The client address of the use [`Self::last_used_at`] records, as the adapter that
    /// verified it determined it (trusted-proxy rules); `None` if never used or not known.
    #[must_use]
    pub const fn last_used_ip(&self) -> Option<IpAddr> {
        self.last_used_ip
    }

    /// When it was revoked.
    #[must_use]
    pub const fn revoked_at(&self) -> Option<OffsetDateTime> {
        self.revoked_at
    }

    /// When it was suspended, if it is suspended now (resuming clears it).
    #[must_use]
    pub const fn suspended_at(&self) -> Option<OffsetDateTime> {
        self.suspended_at
    }

    /// The token this one replaced by rotation.
    #[must_use]
    pub const fn replaces(&self) -> Option<TokenId> {
        self.replaces
    }

    /// The token that replaced this one by rotation.
    #[must_use]
    pub fn replaced_by(&self) -> Option<TokenId> {
        self.replacement.map(|r| r.by)
    }

    /// When this token was rotated (its `expires_at` then became the end of the grace period).
    #[must_use]
    pub fn rotated_at(&self) -> Option<OffsetDateTime> {
        self.replacement.map(|r| r.at)
    }

    /// argon2id hash of the secret.
    #[must_use]
    pub const fn secret_hash(&self) -> &SecretHash {
        &self.secret_hash
    }

    /// The non-secret hint shown in lists (kind prefix and the start of the id).
    #[must_use]
    pub fn hint(&self) -> String {
        hint(self.scope.kind(), self.id)
    }

    /// Whether `expires_at` has passed at `now`. A token expires at the instant itself.
    #[must_use]
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        has_expired(self.expires_at, now)
    }

    /// Whether the token can still be used at `now`: neither revoked, nor expired, nor
    /// suspended. A rotated token is live until its grace period (its `expires_at`) ends.
    #[must_use]
    pub fn is_live_at(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.suspended_at.is_none() && !self.is_expired_at(now)
    }

    /// Where the token is in its life at `now`.
    ///
    /// Precedence: revoked wins over everything; then rotated; then expired; then suspended;
    /// else active. A suspended token is therefore reported `suspended` only while it could
    /// otherwise verify: once it expires it is `expired`, and revoking it makes it `revoked`
    /// (its `suspended_at` is kept, but no longer matters). Only an active token can be
    /// rotated, so a rotated token is never suspended.
    #[must_use]
    pub fn status_at(&self, now: OffsetDateTime) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.replacement.is_some() {
            TokenStatus::Rotated
        } else if self.is_expired_at(now) {
            TokenStatus::Expired
        } else if self.suspended_at.is_some() {
            TokenStatus::Suspended
        } else {
            TokenStatus::Active
        }
    }

    /// Whether the token has ended at `now`: revoked, expired or rotated (in its grace period or
    /// not). An ended token can be neither suspended nor resumed.
    ///
    /// # Errors
    /// [`Ended`] with the token's status.
    pub fn check_not_ended_at(&self, now: OffsetDateTime) -> Result<(), Ended> {
        match self.status_at(now) {
            TokenStatus::Active | TokenStatus::Suspended => Ok(()),
            status => Err(Ended(status)),
        }
    }

    /// Suspends the token at `at`: it stops verifying, like a revoked one, until
    /// [`ApiToken::resume`]. Suspending a suspended token changes nothing (the first suspension
    /// time is kept). Returns whether the token changed.
    ///
    /// # Errors
    /// [`Ended`], changing nothing, for a revoked, expired or rotated token.
    pub fn suspend(&mut self, at: OffsetDateTime) -> Result<bool, Ended> {
        self.check_not_ended_at(at)?;
        if self.suspended_at.is_some() {
            return Ok(false);
        }
        self.suspended_at = Some(at);
        Ok(true)
    }

    /// Resumes a suspended token at `at`: it verifies again. Resuming an active token changes
    /// nothing. Returns whether the token changed.
    ///
    /// # Errors
    /// [`Ended`], changing nothing, for a revoked, expired or rotated token.
    pub fn resume(&mut self, at: OffsetDateTime) -> Result<bool, Ended> {
        self.check_not_ended_at(at)?;
        Ok(self.suspended_at.take().is_some())
    }

    /// Revokes the token at `at`. Revoking a revoked token changes nothing: the first revocation
    /// time is kept. Returns whether the token changed.
    pub fn revoke(&mut self, at: OffsetDateTime) -> bool {
        if self.revoked_at.is_some() {
            return false;
        }
        self.revoked_at = Some(at);
        true
    }

    /// Whether the token can be rotated at `at`: only an active one can.
    ///
    /// # Errors
    /// [`NotActive`] with the token's status.
    pub fn can_rotate_at(&self, at: OffsetDateTime) -> Result<(), NotActive> {
        match self.status_at(at) {
            TokenStatus::Active => Ok(()),
            status => Err(NotActive(status)),
        }
    }

    /// Marks the token replaced by `replacement` at `at`. It keeps working for `grace`, and its
    /// expiry becomes the earlier of its own and the grace period's end.
    ///
    /// # Errors
    /// [`NotActive`], changing nothing, for a revoked, expired or already rotated token.
    pub fn rotate(
        &mut self,
        replacement: TokenId,
        at: OffsetDateTime,
        grace: GracePeriod,
    ) -> Result<(), NotActive> {
        self.can_rotate_at(at)?;
        let grace_end = at.saturating_add(grace.duration());
        self.expires_at = Some(self.expires_at.map_or(grace_end, |own| own.min(grace_end)));
        self.replacement = Some(Replacement {
            by: replacement,
            at,
        });
        Ok(())
    }

    /// Notes a successful use at `at` from `ip` (`None`: not known); the latest use wins, with
    /// its address, so the address always belongs to the use `last_used_at` shows. Of two uses
    /// at the same instant the first noted stays.
    pub fn record_use(&mut self, at: OffsetDateTime, ip: Option<IpAddr>) {
        if self.last_used_at.is_none_or(|last| last < at) {
            self.last_used_at = Some(at);
            self.last_used_ip = ip;
        }
    }

    /// Replaces the secret's hash with `new` (the same secret hashed with other parameters), if
    /// the hash is still `old`: a hash changed since `old` was read (another node re-hashed it
    /// first, say) is kept. Whether it changed.
    pub fn rehash(&mut self, old: &SecretHash, new: SecretHash) -> bool {
        if self.secret_hash != *old {
            return false;
        }
        self.secret_hash = new;
        true
    }

    /// The token as a reader sees it: one without READ_ADMIN_API_TOKEN does not learn which
    /// (admin-level) token created it (see [`CreatedBy::as_seen_by`]) nor where the token was
    /// last used from (an address is about the holder, not the token), and one that may not
    /// learn the creating token's id (`discloses_creator` false) sees an instance-level
    /// creator without its id (see [`CreatedBy::disclosed`]).
    #[must_use]
    pub fn seen_with(mut self, discloses_creator: bool, reads_admin_tokens: bool) -> Self {
        self.created_by = self
            .created_by
            .disclosed(discloses_creator)
            .as_seen_by(reads_admin_tokens);
        if !reads_admin_tokens {
            self.last_used_ip = None;
        }
        self
    }
}

/// A token for the domain's own tests: id 99, named `t`, with a placeholder hash.
#[cfg(test)]
pub(crate) fn test_token(
    scope: TokenScope,
    created_by: CreatedBy,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
) -> ApiToken {
    ApiToken::issue(NewApiToken {
        id: TokenId::from_uuid(uuid::Uuid::from_u128(99)),
        scope,
        name: TokenName::parse("t").unwrap_or_else(|_| unreachable!()),
        created_at,
        created_by,
        expires_at,
        replaces: None,
        secret_hash: SecretHash::new("$argon2id$v=19$secret-looking".into()),
    })
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use uuid::Uuid;

    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| unreachable!())
    }

    fn id(n: u128) -> TokenId {
        TokenId::from_uuid(Uuid::from_u128(n))
    }

    fn client(created_by: CreatedBy, expires_in: Option<Duration>) -> ApiToken {
        let scope = TokenScope::Space {
            space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
            level: TokenLevel::Client,
        };
        test_token(scope, created_by, now(), expires_in.map(|d| now() + d))
    }

    fn token(expires_in: Option<Duration>) -> ApiToken {
        client(CreatedBy::System, expires_in)
    }

    fn grace(seconds: u64) -> GracePeriod {
        GracePeriod::from_seconds(seconds).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn status_prefers_revoked_then_expired() {
        assert_eq!(token(None).status_at(now()), TokenStatus::Active);
        assert_eq!(
            token(Some(Duration::seconds(1))).status_at(now()),
            TokenStatus::Active
        );
        let mut expired = token(Some(Duration::ZERO));
        assert_eq!(expired.status_at(now()), TokenStatus::Expired);
        assert!(expired.revoke(now()));
        assert_eq!(expired.status_at(now()), TokenStatus::Revoked);
    }

    #[test]
    fn a_rotated_token_is_rotated_until_revoked() {
        let mut t = token(Some(Duration::hours(1)));
        assert_eq!(t.rotate(id(8), now(), grace(60)), Ok(()));
        assert_eq!(t.status_at(now()), TokenStatus::Rotated);
        assert_eq!(t.status_at(now() + Duration::days(1)), TokenStatus::Rotated);
        t.revoke(now());
        assert_eq!(t.status_at(now()), TokenStatus::Revoked);
    }

    #[test]
    fn revoking_keeps_the_first_revocation_time() {
        let mut t = token(None);
        assert!(t.revoke(now()));
        assert!(!t.revoke(now() + Duration::hours(1)));
        assert_eq!(t.revoked_at(), Some(now()));
    }

    #[test]
    fn rotation_ends_the_old_token_at_the_earlier_of_its_expiry_and_the_grace_end() {
        let mut long = token(Some(Duration::days(30)));
        assert_eq!(long.rotate(id(8), now(), grace(3600)), Ok(()));
        assert_eq!(long.expires_at(), Some(now() + Duration::hours(1)));
        assert_eq!(long.replaced_by(), Some(id(8)));
        assert_eq!(long.rotated_at(), Some(now()));

        let mut short = token(Some(Duration::minutes(5)));
        assert_eq!(short.rotate(id(8), now(), grace(3600)), Ok(()));
        assert_eq!(short.expires_at(), Some(now() + Duration::minutes(5)));

        let mut forever = token(None);
        assert_eq!(forever.rotate(id(8), now(), grace(0)), Ok(()));
        assert_eq!(forever.expires_at(), Some(now()));
        assert!(!forever.is_live_at(now()));
    }

    #[test]
    fn only_an_active_token_rotates_and_a_refused_rotation_changes_nothing() {
        let mut rotated = token(None);
        assert_eq!(rotated.rotate(id(8), now(), grace(60)), Ok(()));
        let mut revoked = token(None);
        revoked.revoke(now());
        let expired = token(Some(Duration::ZERO));
        for (mut t, status) in [
            (rotated, TokenStatus::Rotated),
            (revoked, TokenStatus::Revoked),
            (expired, TokenStatus::Expired),
        ] {
            let before = t.clone();
            assert_eq!(t.rotate(id(9), now(), grace(60)), Err(NotActive(status)));
            assert_eq!(t, before);
        }
    }

    #[test]
    fn a_grace_period_near_the_end_of_time_never_overflows() {
        let end = time::PrimitiveDateTime::MAX.assume_utc() - Duration::days(1);
        let mut t = token(None);
        assert_eq!(
            t.rotate(id(8), end, grace(GracePeriod::MAX_SECONDS)),
            Ok(())
        );
        assert!(t.expires_at().is_some_and(|at| at > end));
    }

    #[test]
    fn uses_keep_the_latest_time_with_its_address() {
        let (a, b) = (ip("192.0.2.1"), ip("2001:db8::7"));
        let mut t = token(None);
        t.record_use(now() + Duration::seconds(10), Some(a));
        t.record_use(now() + Duration::seconds(5), Some(b));
        assert_eq!(t.last_used_at(), Some(now() + Duration::seconds(10)));
        assert_eq!(t.last_used_ip(), Some(a));
        t.record_use(now() + Duration::seconds(10), Some(b));
        assert_eq!(
            t.last_used_ip(),
            Some(a),
            "the first of two uses at one instant stays"
        );
        t.record_use(now() + Duration::seconds(11), None);
        assert_eq!(
            t.last_used_ip(),
            None,
            "an address belongs to the use it came with"
        );
        t.record_use(now() + Duration::seconds(12), Some(b));
        assert_eq!(t.last_used_ip(), Some(b));
    }

    #[test]
    fn a_rehash_replaces_the_hash_only_while_it_is_the_one_read() {
        let mut t = token(None);
        let (old, new) = (t.secret_hash().clone(), SecretHash::new("$new".into()));
        assert!(!t.rehash(&SecretHash::new("$other".into()), new.clone()));
        assert_eq!(t.secret_hash(), &old);
        assert!(t.rehash(&old, new.clone()));
        assert_eq!(t.secret_hash(), &new);
        assert!(
            !t.rehash(&old, SecretHash::new("$newer".into())),
            "already replaced"
        );
        assert_eq!(t.secret_hash(), &new);
    }

    #[test]
    fn only_readers_of_admin_tokens_see_where_a_token_was_used() {
        let mut t = client(CreatedBy::System, None);
        t.record_use(now(), Some(ip("192.0.2.1")));
        assert_eq!(
            t.clone().seen_with(true, true).last_used_ip(),
            Some(ip("192.0.2.1"))
        );
        let hidden = t.seen_with(true, false);
        assert_eq!(hidden.last_used_ip(), None);
        assert_eq!(hidden.last_used_at(), Some(now()), "the time stays");
    }

    #[test]
    fn every_token_the_transitions_make_restores_as_it_was() {
        let mut rotated = token(Some(Duration::days(1)));
        rotated.record_use(now(), Some(ip("192.0.2.1")));
        assert_eq!(rotated.rotate(id(8), now(), grace(60)), Ok(()));
        let mut revoked = token(None);
        revoked.revoke(now());
        for t in [token(None), rotated, revoked] {
            assert_eq!(ApiToken::restore(t.record()), Ok(t));
        }
    }

    #[test]
    fn a_half_rotated_record_is_refused() {
        let t = token(None);
        let only_replaced = TokenRecord {
            replaced_by: Some(id(8)),
            ..t.record()
        };
        let only_rotated = TokenRecord {
            rotated_at: Some(now()),
            ..t.record()
        };
        for broken in [only_replaced, only_rotated] {
            assert_eq!(
                ApiToken::restore(broken),
                Err(TokenRecordError::HalfRotated)
            );
        }
    }

    #[test]
    fn the_creator_is_hidden_from_readers_of_client_tokens_only() {
        let by_token = client(CreatedBy::Token(id(5)), None);
        assert_eq!(
            by_token.clone().seen_with(true, false).created_by(),
            &CreatedBy::UndisclosedToken
        );
        assert_eq!(by_token.clone().seen_with(true, true), by_token);
        assert_eq!(
            by_token.seen_with(false, true).created_by(),
            &CreatedBy::UndisclosedInstance
        );
    }

    #[test]
    fn a_suspended_token_is_not_live_until_resumed() {
        let mut t = token(Some(Duration::hours(1)));
        assert_eq!(t.suspend(now()), Ok(true));
        assert_eq!(t.status_at(now()), TokenStatus::Suspended);
        assert!(!t.is_live_at(now()));
        assert_eq!(t.suspend(now() + Duration::seconds(5)), Ok(false));
        assert_eq!(t.suspended_at(), Some(now()));
        assert_eq!(t.resume(now()), Ok(true));
        assert_eq!(t.status_at(now()), TokenStatus::Active);
        assert!(t.is_live_at(now()));
        assert_eq!(t.resume(now()), Ok(false));
        assert_eq!(t.suspended_at(), None);
    }

    #[test]
    fn suspended_yields_to_revoked_and_expired() {
        let mut t = token(Some(Duration::hours(1)));
        assert_eq!(t.suspend(now()), Ok(true));
        assert_eq!(
            t.status_at(now() + Duration::hours(2)),
            TokenStatus::Expired
        );
        t.revoke(now());
        assert_eq!(t.status_at(now()), TokenStatus::Revoked);
    }

    #[test]
    fn a_suspended_token_cannot_be_rotated() {
        let mut t = token(None);
        assert_eq!(t.suspend(now()), Ok(true));
        let before = t.clone();
        assert_eq!(
            t.rotate(id(9), now(), grace(60)),
            Err(NotActive(TokenStatus::Suspended))
        );
        assert_eq!(t, before);
    }

    #[test]
    fn an_ended_token_is_neither_suspended_nor_resumed() {
        let mut rotated = token(None);
        assert_eq!(rotated.rotate(id(8), now(), grace(60)), Ok(()));
        let mut revoked = token(None);
        revoked.revoke(now());
        let expired = token(Some(Duration::ZERO));
        for (mut t, status) in [
            (rotated, TokenStatus::Rotated),
            (revoked, TokenStatus::Revoked),
            (expired, TokenStatus::Expired),
        ] {
            let before = t.clone();
            assert_eq!(t.suspend(now()), Err(Ended(status)));
            assert_eq!(t.resume(now()), Err(Ended(status)));
            assert_eq!(t, before);
        }
    }

    #[test]
    fn a_suspended_token_restores_as_it_was() {
        let mut t = token(None);
        assert_eq!(t.suspend(now()), Ok(true));
        assert_eq!(ApiToken::restore(t.record()), Ok(t));
    }

    #[test]
    fn secret_hash_debug_is_redacted() {
        assert!(!format!("{:?}", token(None)).contains("secret-looking"));
    }
}
