//! Issuing, listing, reading, revoking and verifying API tokens.

use std::fmt;
use std::sync::Arc;

use std::time::Duration as StdDuration;

use moka::sync::Cache;
use time::OffsetDateTime;
use tollgate_domain::{
    allows, can_see, create_permission, Actor, ApiToken, AuditAction, AuditEvent, CreatedBy,
    EventId, GracePeriod, LifetimeError, LifetimePolicy, ParsedToken, Permission, Resource,
    SpaceId, TokenId, TokenKind, TokenLevel, TokenName, TokenScope, TokenStatus, TokenString,
};
use tracing::Instrument;

use super::last_used::LastUsed;
use super::verify_cache::{self, Lookup, VerifyCache, VerifyCacheConfig};
use crate::adapters::truncate_to_micros;
use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::ports::{
    AuditRepository, Clock, HashError, RandomSource, RevocationEvent, RevocationFeed,
    RotateOutcome, Rotation, SecretHasher, SpaceRepository, StatusFilter, TokenQuery,
    TokenRepository,
};

/// The command to issue a token in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its name.
    pub name: TokenName,
    /// Its level.
    pub level: TokenLevel,
    /// When it stops working, if ever; must be in the future.
    pub expires_at: Option<OffsetDateTime>,
}

/// A freshly issued token: its metadata and the token string, the only value that ever carries
/// the secret. Its `Debug` shows the metadata, never the secret.
pub struct IssuedToken {
    /// The stored token (metadata and hash).
    pub token: ApiToken,
    secret: TokenString,
}

impl IssuedToken {
    /// The token string to hand to its user, once.
    #[must_use]
    pub const fn secret(&self) -> &TokenString {
        &self.secret
    }

    /// The metadata and the token string, to move each where it belongs.
    #[must_use]
    pub fn into_parts(self) -> (ApiToken, TokenString) {
        (self.token, self.secret)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Which tokens of a space to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListTokens {
    /// Only this level, or every level the actor may see for `None`.
    pub level: Option<TokenLevel>,
    /// Only tokens in these statuses (active ones unless asked otherwise).
    pub statuses: StatusFilter,
    /// The page.
    pub page: PageRequest,
}

/// A token that passed verification, and whom it acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The actor the token acts as.
    pub actor: Actor,
    /// The token's metadata.
    pub token: ApiToken,
}

/// Why a token could not be issued. Nothing was stored in any case.
#[derive(Debug, thiserror::Error)]
pub enum CreateTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor may not create tokens of this level here.
    #[error("creating a {0} token needs {perm}", perm = create_permission(*.0))]
    Forbidden(TokenLevel),
    /// `expires_at` is not in the future.
    #[error("expires_at must be in the future")]
    ExpiryNotInFuture,
    /// `expires_at` is beyond the instance's maximum token lifetime.
    #[error("expires_at must be at most {max_days} days from now")]
    ExpiryBeyondMaximum {
        /// The maximum lifetime, in days.
        max_days: i64,
    },
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why tokens could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListTokensError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor lacks READ_API_TOKEN in the space.
    #[error("listing tokens needs READ_API_TOKEN")]
    Forbidden,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor sees the token but may not revoke it.
    #[error("revoking this token needs REVOKE_API_TOKEN")]
    Forbidden,
    /// The store failed; the token may not be revoked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be rotated. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum RotateTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor may not create tokens of this level here.
    #[error("rotating a {0} token needs {perm} and REVOKE_API_TOKEN on it", perm = create_permission(*.0))]
    Forbidden(TokenLevel),
    /// The token is revoked, expired or already rotated.
    #[error("only an active token can be rotated; this one is {}", .0.as_str())]
    NotActive(TokenStatus),
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why audit events could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListEventsError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor lacks READ_ADMIN_API_TOKEN in the space.
    #[error("reading audit events needs READ_ADMIN_API_TOKEN")]
    Forbidden,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The command to rotate a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateToken {
    /// How long the old token keeps working next to the new one.
    pub grace_period: GracePeriod,
}

/// Why a presented token string was not accepted. `Invalid` is deliberately one opaque case
/// for malformed, unknown, revoked, expired and wrong-secret tokens; the reason is logged.
#[derive(Debug, thiserror::Error)]
pub enum VerifyTokenError {
    /// Not a valid, active token.
    #[error("invalid token")]
    Invalid,
    /// The store could not be asked; the token may be valid.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The failures of issuing itself, once every check has passed.
#[derive(Debug, thiserror::Error)]
enum IssueError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IssueError> for CreateTokenError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Hash(e) => Self::Hash(e),
            IssueError::Store(e) => Self::Store(e),
        }
    }
}

impl From<IssueError> for RotateTokenError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Hash(e) => Self::Hash(e),
            IssueError::Store(e) => Self::Store(e),
        }
    }
}

impl From<IssueError> for BootstrapError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Hash(e) => Self::Hash(e),
            IssueError::Store(e) => Self::Store(e),
        }
    }
}

/// What bootstrap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// The token was stored now.
    Registered,
    /// The same token was stored before; nothing changed.
    AlreadyRegistered,
}

/// Why the bootstrap token could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The string is not a well-formed token.
    #[error("the bootstrap token is not a well-formed tollgate token")]
    Malformed,
    /// The token is well formed but not an instance admin token (`tgi_`).
    #[error("the bootstrap token must be an instance admin token (tgi_...)")]
    NotInstanceAdmin,
    /// A different token with the same id is stored.
    #[error("a different token with the bootstrap token's id is stored")]
    Conflict,
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a fresh, well-formed token string of `kind` without storing anything (what
/// `tollgate token mint` prints).
#[must_use]
pub fn mint_token_string(random: &dyn RandomSource, kind: TokenKind) -> TokenString {
    TokenString::new(kind, random.token_id(), &random.secret())
}

/// The name given to instance admin tokens that tollgate registers or creates at start.
const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";

/// How often at most one token's rejected uses are recorded as events: a flood of a revoked
/// token must not become a flood of writes.
const REJECTION_EVENT_INTERVAL: StdDuration = StdDuration::from_secs(60);

/// The token use cases.
#[derive(Clone)]
pub struct TokenService {
    spaces: Arc<dyn SpaceRepository>,
    tokens: Arc<dyn TokenRepository>,
    events: Arc<dyn AuditRepository>,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    lifetime: LifetimePolicy,
    cache: Arc<VerifyCache>,
    last_used: Arc<LastUsed>,
    recent_rejections: Cache<TokenId, ()>,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("lifetime", &self.lifetime)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A service over these ports, with no lifetime limits and the default verification cache.
    #[must_use]
    pub fn new(
        spaces: Arc<dyn SpaceRepository>,
        tokens: Arc<dyn TokenRepository>,
        events: Arc<dyn AuditRepository>,
        hasher: Arc<dyn SecretHasher>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            spaces,
            tokens,
            events,
            hasher,
            clock,
            random,
            lifetime: LifetimePolicy::UNLIMITED,
            cache: Arc::new(VerifyCache::new(VerifyCacheConfig::default())),
            last_used: Arc::new(LastUsed::default()),
            recent_rejections: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(REJECTION_EVENT_INTERVAL)
                .build(),
        }
    }

    /// The same service with a verification cache of these bounds (the default one is on).
    #[must_use]
    pub fn with_verify_cache(mut self, config: VerifyCacheConfig) -> Self {
        self.cache = Arc::new(VerifyCache::new(config));
        self
    }

    /// The same service with these token lifetime rules.
    #[must_use]
    pub const fn with_lifetime_policy(mut self, policy: LifetimePolicy) -> Self {
        self.lifetime = policy;
        self
    }

    /// Drops what this node's verification cache knows of `id`, e.g. because another node
    /// revoked it.
    pub fn forget_token(&self, id: TokenId) {
        self.cache.forget(id);
    }

    /// Empties this node's verification cache, e.g. because it may have missed another node's
    /// revocations.
    pub fn forget_all_tokens(&self) {
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

    /// Where `token` is in its life now, by this service's clock.
    #[must_use]
    pub fn status_of(&self, token: &ApiToken) -> TokenStatus {
        token.status_at(self.clock.now())
    }

    /// Writes the `last_used_at` of every token verified since the last flush, in one store
    /// call. Call it every `TOLLGATE_LAST_USED_FLUSH_SECONDS` and once at shutdown. On failure
    /// the uses are kept for the next flush.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub async fn flush_last_used(&self) -> Result<usize, StoreError> {
        let uses = self.last_used.take();
        if uses.is_empty() {
            return Ok(0);
        }
        match self.tokens.record_last_used(&uses).await {
            Ok(()) => Ok(uses.len()),
            Err(error) => {
                self.last_used.restore(uses);
                Err(error)
            }
        }
    }

    fn event(&self, action: AuditAction, actor: CreatedBy, token: &ApiToken) -> AuditEvent {
        AuditEvent {
            id: self.random.event_id(),
            at: self.clock.now(),
            action,
            actor,
            token_id: token.id,
            space_id: token.space_id(),
        }
    }

    /// Whether the actor can reach `space_id` at all: its own space (or any, for an instance
    /// admin), and one that exists. Everything else looks exactly like a missing space.
    async fn space_exists_for(&self, actor: &Actor, space_id: SpaceId) -> Result<bool, StoreError> {
        if actor.space_id().is_some_and(|own| own != space_id) {
            return Ok(false);
        }
        Ok(self.spaces.get(space_id).await?.is_some())
    }

    /// The token `token_id` of `space_id` if the actor may know of it.
    async fn visible_token(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        token_id: TokenId,
    ) -> Result<Option<ApiToken>, StoreError> {
        Ok(self
            .tokens
            .get(token_id)
            .await?
            .filter(|t| t.space_id() == Some(space_id) && can_see(actor, t)))
    }

    /// A new token (id, secret, hash) with these attributes, not yet stored.
    async fn mint(
        &self,
        scope: TokenScope,
        name: TokenName,
        created_by: CreatedBy,
        expires_at: Option<OffsetDateTime>,
        replaces: Option<TokenId>,
    ) -> Result<IssuedToken, HashError> {
        let id = self.random.token_id();
        let secret = self.random.secret();
        let secret_hash = self.hasher.hash(&secret).await?;
        let token = ApiToken {
            id,
            scope,
            name,
            created_at: self.clock.now(),
            created_by,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            replaces,
            replaced_by: None,
            rotated_at: None,
            secret_hash,
        };
        let secret = TokenString::new(scope.kind(), id, &secret);
        Ok(IssuedToken { token, secret })
    }

    async fn issue(
        &self,
        scope: TokenScope,
        name: TokenName,
        created_by: CreatedBy,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, IssueError> {
        let issued = self
            .mint(scope, name, created_by.clone(), expires_at, None)
            .await?;
        let event = self.event(AuditAction::TokenCreated, created_by, &issued.token);
        if !self.tokens.insert(&issued.token, &event).await? {
            return Err(IssueError::Store(StoreError::Failed(
                "token id collision".into(),
            )));
        }
        Ok(issued)
    }

    /// Issues a token in `space_id`. Needs CREATE_API_TOKEN there, or CREATE_ADMIN_API_TOKEN for
    /// an admin-level token (which no token holds: only instance admins and owner or admin
    /// members mint admin tokens). The lifetime policy gives it its `expires_at` when none is
    /// asked for, and refuses one beyond the maximum.
    ///
    /// # Errors
    /// [`CreateTokenError`]; on any error nothing is stored.
    #[tracing::instrument(skip_all, fields(space_id = %space_id, level = %cmd.level))]
    pub async fn create(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        cmd: NewToken,
    ) -> Result<IssuedToken, CreateTokenError> {
        if actor.space_id().is_some_and(|own| own != space_id) {
            return Err(CreateTokenError::SpaceNotFound);
        }
        if !allows(
            actor,
            create_permission(cmd.level),
            Resource::Space(space_id),
        ) {
            return Err(CreateTokenError::Forbidden(cmd.level));
        }
        // Stores keep microseconds: truncate first so that what is checked is what is stored.
        let requested = cmd.expires_at.map(truncate_to_micros);
        let expires_at = match self.lifetime.resolve(requested, self.clock.now()) {
            Ok(at) => at,
            Err(LifetimeError::BeyondMaximum { max_days }) => {
                return Err(CreateTokenError::ExpiryBeyondMaximum { max_days })
            }
            Err(_) => return Err(CreateTokenError::ExpiryNotInFuture),
        };
        if self.spaces.get(space_id).await?.is_none() {
            return Err(CreateTokenError::SpaceNotFound);
        }
        let scope = TokenScope::Space {
            space_id,
            level: cmd.level,
        };
        let issued = self
            .issue(scope, cmd.name, actor.as_creator(), expires_at)
            .await?;
        tracing::info!(token_id = %issued.token.id, "token created");
        Ok(issued)
    }

    /// Replaces an active token with a new one (new id and secret; same name, level and space)
    /// that records which token it replaces. The old token keeps working for the grace period,
    /// then fails like a revoked one. Needs the permission to create a token of that level and
    /// the permission to revoke the old one (so an editor rotates only its own client tokens).
    ///
    /// The new token keeps the old one's lifetime length if it had one (capped by the maximum),
    /// and otherwise gets the policy's default.
    ///
    /// # Errors
    /// [`RotateTokenError`]; on any error nothing changed.
    #[tracing::instrument(skip_all, fields(space_id = %space_id, token_id = %token_id))]
    pub async fn rotate(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        token_id: TokenId,
        cmd: RotateToken,
    ) -> Result<IssuedToken, RotateTokenError> {
        if !self.space_exists_for(actor, space_id).await? {
            return Err(RotateTokenError::SpaceNotFound);
        }
        let old = self
            .visible_token(actor, space_id, token_id)
            .await?
            .ok_or(RotateTokenError::NotFound)?;
        // Rotation creates a token and ends another: it needs both rights, so an editor may
        // rotate only the client tokens it could revoke.
        if !allows(
            actor,
            create_permission(old.level()),
            Resource::Space(space_id),
        ) || !allows(actor, Permission::RevokeApiToken, Resource::Token(&old))
        {
            return Err(RotateTokenError::Forbidden(old.level()));
        }
        let now = self.clock.now();
        match old.status_at(now) {
            TokenStatus::Active => {}
            status => return Err(RotateTokenError::NotActive(status)),
        }
        let lifetime = old.expires_at.map(|at| at - old.created_at);
        let expires_at = match (lifetime, self.lifetime.max()) {
            // Past the end of representable time, keep the old token's own expiry.
            (Some(lifetime), max) => {
                let lifetime = max.map_or(lifetime, |max| lifetime.min(max));
                now.checked_add(lifetime).or(old.expires_at)
            }
            (None, _) => self.lifetime.resolve(None, now).unwrap_or(None),
        };
        let issued = self
            .mint(
                old.scope,
                old.name.clone(),
                actor.as_creator(),
                expires_at,
                Some(old.id),
            )
            .await?;
        let rotation = Rotation {
            old_id: old.id,
            old_expires_at: now + cmd.grace_period.duration(),
            now,
            event: self.event(AuditAction::TokenRotated, actor.as_creator(), &old),
            new_token: issued.token.clone(),
        };
        match self.tokens.rotate(&rotation).await? {
            RotateOutcome::Rotated(_) => {}
            RotateOutcome::NotActive(current) => {
                return Err(RotateTokenError::NotActive(current.status_at(now)))
            }
            RotateOutcome::NotFound => return Err(RotateTokenError::NotFound),
        }
        // Its expiry changed: the next use must read it from the store.
        self.cache.forget(old.id);
        tracing::info!(new_token_id = %issued.token.id, "token rotated");
        Ok(issued)
    }

    /// Lists the tokens of `space_id` the actor may see, active ones unless `query.statuses`
    /// asks for others. An actor without READ_ADMIN_API_TOKEN sees client tokens only, and
    /// asking for admin tokens gives it an empty list rather than a hint that they exist.
    ///
    /// # Errors
    /// [`ListTokensError`].
    #[tracing::instrument(skip_all, fields(space_id = %space_id))]
    pub async fn list(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        query: ListTokens,
    ) -> Result<Page<ApiToken>, ListTokensError> {
        if !self.space_exists_for(actor, space_id).await? {
            return Err(ListTokensError::SpaceNotFound);
        }
        if !allows(actor, Permission::ReadApiToken, Resource::Space(space_id)) {
            return Err(ListTokensError::Forbidden);
        }
        let reads_admin = allows(
            actor,
            Permission::ReadAdminApiToken,
            Resource::Space(space_id),
        );
        let level = match query.level {
            Some(TokenLevel::Admin) if !reads_admin => return Ok(Page::empty()),
            None if !reads_admin => Some(TokenLevel::Client),
            level => level,
        };
        let limit = query.page.limit.get() as usize;
        let tokens = self
            .tokens
            .list(&TokenQuery {
                space_id,
                level,
                statuses: query.statuses,
                now: self.clock.now(),
                after: query.page.cursor.map(|c| TokenId::from_uuid(c.last_id())),
                limit: limit + 1,
            })
            .await?;
        let tokens = tokens
            .into_iter()
            .map(|t| Self::as_seen_by(t, reads_admin))
            .collect();
        Ok(Page::from_overfetch(tokens, query.page.limit, |t| {
            t.id.as_uuid()
        }))
    }

    /// Reads one token's metadata, whatever its status.
    ///
    /// # Errors
    /// [`GetTokenError`]; a token the actor may not know of is `NotFound`.
    #[tracing::instrument(skip_all, fields(space_id = %space_id, token_id = %token_id))]
    pub async fn get(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        token_id: TokenId,
    ) -> Result<ApiToken, GetTokenError> {
        if !self.space_exists_for(actor, space_id).await? {
            return Err(GetTokenError::SpaceNotFound);
        }
        let token = self
            .visible_token(actor, space_id, token_id)
            .await?
            .ok_or(GetTokenError::NotFound)?;
        let reads_admin = allows(
            actor,
            Permission::ReadAdminApiToken,
            Resource::Space(space_id),
        );
        Ok(Self::as_seen_by(token, reads_admin))
    }

    /// Revokes a token: it fails verification from this moment on. Revoking a revoked token
    /// succeeds again and keeps the first revocation time.
    ///
    /// # Errors
    /// [`RevokeTokenError`].
    #[tracing::instrument(skip_all, fields(space_id = %space_id, token_id = %token_id))]
    pub async fn revoke(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        token_id: TokenId,
    ) -> Result<ApiToken, RevokeTokenError> {
        if !self.space_exists_for(actor, space_id).await? {
            return Err(RevokeTokenError::SpaceNotFound);
        }
        let token = self
            .visible_token(actor, space_id, token_id)
            .await?
            .ok_or(RevokeTokenError::NotFound)?;
        if !allows(actor, Permission::RevokeApiToken, Resource::Token(&token)) {
            return Err(RevokeTokenError::Forbidden);
        }
        let event = self.event(AuditAction::TokenRevoked, actor.as_creator(), &token);
        let revoked = self
            .tokens
            .revoke(token_id, self.clock.now(), &event)
            .await?
            .ok_or(RevokeTokenError::NotFound)?;
        // Before the caller hears of success: from here on, no use of this token succeeds here.
        self.cache.forget(token_id);
        tracing::info!("token revoked");
        Ok(revoked)
    }

    /// Lists the audit events of `space_id`, newest first. Needs READ_ADMIN_API_TOKEN there.
    ///
    /// # Errors
    /// [`ListEventsError`].
    #[tracing::instrument(skip_all, fields(space_id = %space_id))]
    pub async fn list_events(
        &self,
        actor: &Actor,
        space_id: SpaceId,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, ListEventsError> {
        if !self.space_exists_for(actor, space_id).await? {
            return Err(ListEventsError::SpaceNotFound);
        }
        if !allows(
            actor,
            Permission::ReadAdminApiToken,
            Resource::Space(space_id),
        ) {
            return Err(ListEventsError::Forbidden);
        }
        let before = page.cursor.map(|c| EventId::from_uuid(c.last_id()));
        let limit = page.limit.get() as usize;
        let events = self.events.list(space_id, before, limit + 1).await?;
        Ok(Page::from_overfetch(events, page.limit, |e| e.id.as_uuid()))
    }

    /// Records that a revoked or expired token was presented, at most once per token per
    /// [`REJECTION_EVENT_INTERVAL`]. A failure to record is logged, never the caller's problem.
    async fn record_rejection(&self, token: &ApiToken) {
        if self.recent_rejections.contains_key(&token.id) {
            return;
        }
        self.recent_rejections.insert(token.id, ());
        let event = self.event(
            AuditAction::TokenRejected,
            CreatedBy::Token(token.id),
            token,
        );
        if let Err(error) = self.events.record(&event).await {
            tracing::warn!(token_id = %token.id, error = &error as &dyn std::error::Error, "could not record a rejected use");
        }
    }

    /// Verifies a presented token string: format and checksum (no store access for junk),
    /// the cache, lookup by id, revoked, expired, then argon2id. Every failure is the same
    /// [`VerifyTokenError::Invalid`]; the reason is logged with the token id, never the token.
    /// A success is noted for `last_used_at` (written by [`Self::flush_last_used`]).
    ///
    /// # Errors
    /// [`VerifyTokenError::Invalid`], or [`VerifyTokenError::Store`] when the store is down.
    pub async fn verify(&self, presented: &str) -> Result<VerifiedToken, VerifyTokenError> {
        let Ok(parsed) = ParsedToken::parse(presented) else {
            tracing::debug!(reason = "malformed", "token rejected");
            return Err(VerifyTokenError::Invalid);
        };
        let id = parsed.id();
        let reject = |reason: &'static str| {
            tracing::debug!(token_id = %id, reason, "token rejected");
            VerifyTokenError::Invalid
        };
        let digest = verify_cache::digest(presented);
        if let Some(answer) = self.answer_from_cache(id, &digest).await {
            return answer;
        }
        if self.cache.is_known_unknown(id) {
            return Err(reject("unknown id (remembered)"));
        }
        // One verification of this id at a time from here on; the others wait, then usually
        // find its result cached. Held until the result is cached.
        let _lane = self.cache.lane(id).await;
        if let Some(answer) = self.answer_from_cache(id, &digest).await {
            return answer;
        }
        let now = self.clock.now();
        let epoch = self.cache.epoch();
        let Some(token) = self.tokens.get(id).await? else {
            self.cache.remember_unknown(id);
            return Err(reject("unknown id"));
        };
        if token.scope.kind() != parsed.kind() {
            return Err(reject("kind does not match the stored token"));
        }
        if token.revoked_at.is_some() || token.is_expired_at(now) {
            // No argon2 for a dead token: the event is throttled per token instead, so a flood
            // of it costs one write a minute, not one hash a request.
            self.record_rejection(&token).await;
            return Err(reject(if token.revoked_at.is_some() {
                "revoked"
            } else {
                "expired"
            }));
        }
        if !self.secret_matches(&parsed, &token).await {
            return Err(reject("wrong secret"));
        }
        // A revocation or rotation may have landed while this request waited for argon2 (the
        // permits queue under a flood): then the row read above is stale, so read it again
        // before saying yes. Epoch changes are rare, so this costs nothing in the common case.
        let token = if self.cache.epoch() == epoch {
            token
        } else {
            match self.tokens.get(id).await? {
                Some(fresh) => fresh,
                None => return Err(reject("deleted while verifying")),
            }
        };
        let now = self.clock.now();
        if token.revoked_at.is_some() || token.is_expired_at(now) {
            return Err(reject("revoked or expired while verifying"));
        }
        self.last_used.note(id, now);
        let verified = Arc::new(VerifiedToken {
            actor: Actor::for_token(&token),
            token,
        });
        self.cache.insert(epoch, digest, Arc::clone(&verified));
        Ok(Arc::unwrap_or_clone(verified))
    }

    /// What the cache alone can say of a presented token: `None` when it has to be verified.
    async fn answer_from_cache(
        &self,
        id: TokenId,
        digest: &verify_cache::TokenDigest,
    ) -> Option<Result<VerifiedToken, VerifyTokenError>> {
        let reject = |reason: &'static str| {
            tracing::debug!(token_id = %id, reason, "token rejected");
            Some(Err(VerifyTokenError::Invalid))
        };
        match self.cache.lookup(id, digest) {
            Lookup::Hit(hit) => {
                let now = self.clock.now();
                if hit.token.is_expired_at(now) {
                    self.cache.forget(id);
                    self.record_rejection(&hit.token).await;
                    return reject("expired");
                }
                self.last_used.note(id, now);
                Some(Ok(VerifiedToken::clone(&hit)))
            }
            // This node verified this id's one valid string and holds its digest: any other
            // string with the same id (the id encoding is one-to-one) carries another secret,
            // which argon2 would refuse. So a flood of forgeries against a token in use costs
            // a SHA-256 each, no store lookup and no argon2.
            Lookup::OtherSecret => reject("wrong secret for a cached id"),
            Lookup::Miss => None,
        }
    }

    /// The verification of `presented` if this node has it cached and it has not expired; never
    /// asks the store or runs argon2. Lets a known-good token through where a full verification
    /// would be refused for other reasons (a rate limit on its id that a guesser tripped).
    #[must_use]
    pub fn verify_cached(&self, presented: &str) -> Option<VerifiedToken> {
        let parsed = ParsedToken::parse(presented).ok()?;
        let hit = self
            .cache
            .get(parsed.id(), &verify_cache::digest(presented))?;
        let now = self.clock.now();
        if hit.token.is_expired_at(now) {
            return None;
        }
        self.last_used.note(parsed.id(), now);
        Some(VerifiedToken::clone(&hit))
    }

    /// `token` as a reader sees it: one without READ_ADMIN_API_TOKEN does not learn which
    /// (admin-level) token created it.
    fn as_seen_by(mut token: ApiToken, reads_admin_tokens: bool) -> ApiToken {
        token.created_by = token.created_by.as_seen_by(reads_admin_tokens);
        token
    }

    async fn secret_matches(&self, parsed: &ParsedToken, token: &ApiToken) -> bool {
        let permit = self.cache.hash_permit().await;
        let hasher = Arc::clone(&self.hasher);
        let (secret, hash) = (parsed.secret().clone(), token.secret_hash.clone());
        let hashing = async move {
            let _permit = permit;
            hasher.verify(&secret, &hash).await
        }
        .instrument(tracing::Span::current());
        // The hash runs as a task of its own that owns the permit: if the client hangs up, this
        // future is dropped but argon2 keeps its core until it finishes, and so must the permit,
        // or a flood of requests that hang up at once would run unbounded argon2s. Outside a
        // tokio runtime (an embedder's own executor) it runs in place instead.
        let matches = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => match runtime.spawn(hashing).await {
                Ok(matches) => matches,
                Err(failed) => Err(HashError(Box::new(failed))),
            },
            Err(_) => hashing.await,
        };
        matches.unwrap_or_else(|error| {
            tracing::error!(token_id = %token.id, error = &error as &dyn std::error::Error, "stored hash could not be checked");
            false
        })
    }

    /// Registers `presented` as an instance admin token, once: registering the same token
    /// again changes nothing.
    ///
    /// # Errors
    /// [`BootstrapError`].
    #[tracing::instrument(skip_all)]
    pub async fn register_instance_admin(
        &self,
        presented: &str,
    ) -> Result<BootstrapOutcome, BootstrapError> {
        let parsed = ParsedToken::parse(presented).map_err(|_| BootstrapError::Malformed)?;
        if parsed.kind() != TokenKind::InstanceAdmin {
            return Err(BootstrapError::NotInstanceAdmin);
        }
        let token = ApiToken {
            id: parsed.id(),
            scope: TokenScope::Instance,
            name: bootstrap_name(),
            created_at: self.clock.now(),
            created_by: CreatedBy::System,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            rotated_at: None,
            secret_hash: self.hasher.hash(parsed.secret()).await?,
        };
        let event = self.event(AuditAction::TokenCreated, CreatedBy::System, &token);
        if self.tokens.insert(&token, &event).await? {
            self.cache.forget(token.id);
            tracing::info!(token_id = %token.id, "bootstrap instance admin token registered");
            return Ok(BootstrapOutcome::Registered);
        }
        match self.tokens.get(token.id).await? {
            Some(stored)
                if stored.scope == TokenScope::Instance
                    && self
                        .hasher
                        .verify(parsed.secret(), &stored.secret_hash)
                        .await? =>
            {
                Ok(BootstrapOutcome::AlreadyRegistered)
            }
            _ => Err(BootstrapError::Conflict),
        }
    }

    /// Creates an instance admin token if the store has never had one, and returns it (to be
    /// shown once); `None` if one exists (revoked or not: revoking the last one must not make
    /// the next start mint a fresh one).
    ///
    /// # Errors
    /// [`BootstrapError`].
    #[tracing::instrument(skip_all)]
    pub async fn ensure_instance_admin(&self) -> Result<Option<IssuedToken>, BootstrapError> {
        if self.tokens.any_instance_admin().await? {
            return Ok(None);
        }
        let issued = self
            .issue(
                TokenScope::Instance,
                bootstrap_name(),
                CreatedBy::System,
                None,
            )
            .await?;
        Ok(Some(issued))
    }
}

fn bootstrap_name() -> TokenName {
    TokenName::parse(BOOTSTRAP_TOKEN_NAME).unwrap_or_else(|_| unreachable!("a valid constant name"))
}
