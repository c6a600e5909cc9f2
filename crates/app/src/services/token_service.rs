//! The token use cases: issuing, listing, reading, rotating and revoking a space's tokens, and
//! reading its audit events; suspending and resuming are in `token_service/suspension.rs`,
//! updating in `token_service/update.rs`, listing the instance admin tokens in
//! `token_service/instance.rs`. Each reaches its space and token through [`Access`],
//! asks the domain's policy, then calls the ports. Verification is the [`Verifier`]'s; the
//! service hands it on.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use tollgate_domain::{
    allows, as_seen_by, create_permission, event_as_seen_by, may_manage_instance_tokens, Actor,
    ApiToken, AuditAction, AuditEvent, CreatedBy, EventId, LifetimeError, LifetimePolicy,
    Permission, Resource, SpaceId, TokenId, TokenIdentity, TokenLevel, TokenName, TokenScope,
    TokenStatus,
};

use super::access::{unreachable_as_not_found, Access};
use super::commands::{ListTokens, NewToken, RotateToken, TokenHome, TokenView};
use super::errors::{
    CreateTokenError, GetTokenError, IssueError, ListEventsError, ListTokensError,
    RevokeTokenError, RotateTokenError, UpdateTokenError, VerifyTokenError,
};
use super::issuer::{IssuedToken, Issuer};
use super::verify::{VerifiedToken, Verifier, VerifyCacheConfig};
use crate::error::StoreError;
use crate::pagination::{CursorKey, Listing, Page, PageRequest, Pager};
use crate::ports::{
    AuditRepository, Clock, InstanceRevocation, ListOrder, RandomSource, RotateOutcome, Rotation,
    SecretHasher, SpaceRepository, StatusFilter, TokenQuery, TokenRepository,
};

mod instance;
mod suspension;
mod update;

unreachable_as_not_found!(
    CreateTokenError, ListTokensError, GetTokenError, RevokeTokenError, RotateTokenError,
    UpdateTokenError, ListEventsError;
    tokens: GetTokenError, RevokeTokenError, RotateTokenError, UpdateTokenError
);

/// The ports the token use cases run on.
#[derive(Clone)]
struct Ports {
    tokens: Arc<dyn TokenRepository>,
    events: Arc<dyn AuditRepository>,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl Ports {
    fn verifier(&self, config: &VerifyCacheConfig) -> Arc<Verifier> {
        Arc::new(Verifier::new(
            Arc::clone(&self.tokens),
            Arc::clone(&self.events),
            Arc::clone(&self.hasher),
            Arc::clone(&self.clock),
            Arc::clone(&self.random),
            config,
        ))
    }
}

/// The token use cases.
#[derive(Clone)]
pub struct TokenService {
    ports: Ports,
    access: Access,
    issuer: Issuer,
    verifier: Arc<Verifier>,
    lifetime: LifetimePolicy,
    cursors: CursorKey,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("lifetime", &self.lifetime)
            .field("verifier", &self.verifier)
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
        let ports = Ports {
            tokens,
            events,
            hasher,
            clock,
            random,
        };
        Self {
            access: Access::new(spaces),
            issuer: Issuer::new(
                Arc::clone(&ports.tokens),
                Arc::clone(&ports.hasher),
                Arc::clone(&ports.clock),
                Arc::clone(&ports.random),
            ),
            verifier: ports.verifier(&VerifyCacheConfig::default()),
            lifetime: LifetimePolicy::UNLIMITED,
            cursors: CursorKey::random(),
            ports,
        }
    }

    /// The same service sealing its listings' cursors with `key` instead of a random key of
    /// its own: every node serving the same store needs the same key, or a cursor one node
    /// handed out is refused by the next.
    #[must_use]
    pub fn with_cursor_key(mut self, key: CursorKey) -> Self {
        self.cursors = key;
        self
    }

    /// The same service with a verification cache of these bounds (the default one is on). It
    /// replaces the verifier: call it before anything takes [`Self::verifier`], or that
    /// verifier would not hear of this service's revocations.
    #[must_use]
    pub fn with_verify_cache(mut self, config: VerifyCacheConfig) -> Self {
        self.verifier = self.ports.verifier(&config);
        self
    }

    /// The same service with these token lifetime rules.
    #[must_use]
    pub const fn with_lifetime_policy(mut self, policy: LifetimePolicy) -> Self {
        self.lifetime = policy;
        self
    }

    /// The token lifetime rules this service applies.
    #[must_use]
    pub const fn lifetime_policy(&self) -> &LifetimePolicy {
        &self.lifetime
    }

    /// The verifier this service's changes keep up to date: every node verifies tokens with
    /// its own, and follows other nodes' revocations with it.
    #[must_use]
    pub const fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// Verifies a presented token string; see [`Verifier::verify`].
    ///
    /// # Errors
    /// [`VerifyTokenError`].
    pub async fn verify(&self, presented: &str) -> Result<VerifiedToken, VerifyTokenError> {
        self.verifier.verify(presented).await
    }

    /// Verifies a presented token string used from `client`, which becomes its
    /// `last_used_ip`; see [`Verifier::verify_from`].
    ///
    /// # Errors
    /// [`VerifyTokenError`].
    pub async fn verify_from(
        &self,
        presented: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<VerifiedToken, VerifyTokenError> {
        self.verifier.verify_from(presented, client).await
    }

    pub(super) const fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    pub(super) fn repository(&self) -> &dyn TokenRepository {
        self.ports.tokens.as_ref()
    }

    /// The time by this service's clock: what statuses and expiries are judged at.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// `token` as `actor` is shown it, now; `spaces` holds the space of the token that created
    /// it ([`Self::actor_token_spaces`]).
    fn view(&self, actor: &Actor, token: ApiToken, spaces: &ActorTokenSpaces) -> TokenView {
        let status = token.status_at(self.now());
        let creator_space = space_of(spaces, token.created_by());
        TokenView {
            token: as_seen_by(actor, token, creator_space),
            status,
        }
    }

    /// One token as `actor` is shown it, with the lookup of its creator's space.
    async fn view_one(&self, actor: &Actor, token: ApiToken) -> Result<TokenView, StoreError> {
        let spaces = self
            .actor_token_spaces(actor, std::iter::once(token.created_by()))
            .await?;
        Ok(self.view(actor, token, &spaces))
    }

    /// The spaces of the tokens that `actors` name (`None`: an instance admin token, or one no
    /// longer stored), which the policy needs to decide what `reader` is shown of them
    /// (`discloses_token_actor`: space actors never learn an instance admin token's id).
    /// Looked up only for a reader in a space, once per distinct id; the reader's own token
    /// needs no lookup.
    async fn actor_token_spaces<'a>(
        &self,
        reader: &Actor,
        actors: impl IntoIterator<Item = &'a CreatedBy> + Send,
    ) -> Result<ActorTokenSpaces, StoreError> {
        let mut spaces = HashMap::new();
        if reader.is_instance_wide() {
            return Ok(spaces);
        }
        let own = reader.as_creator().token_id();
        let ids: Vec<TokenId> = actors.into_iter().filter_map(CreatedBy::token_id).collect();
        for id in ids {
            if spaces.contains_key(&id) {
                continue;
            }
            let space = if own == Some(id) {
                reader.space_id()
            } else {
                self.repository()
                    .get(id)
                    .await?
                    .and_then(|token| token.space_id())
            };
            spaces.insert(id, space);
        }
        Ok(spaces)
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
        // Reach, permission and input first, without I/O; then whether the space exists.
        Access::reach::<CreateTokenError>(actor, space_id)?;
        if !allows(
            actor,
            create_permission(cmd.level),
            Resource::Space(space_id),
        ) {
            return Err(CreateTokenError::Forbidden(cmd.level));
        }
        let expires_at = self.lifetime_for(cmd.expires_at)?;
        self.access
            .space::<CreateTokenError>(actor, space_id)
            .await?;
        let scope = TokenScope::Space {
            space_id,
            level: cmd.level,
        };
        let issued = match self
            .issuer
            .issue(
                scope,
                cmd.name,
                actor.as_creator(),
                actor.via_token_id(),
                expires_at,
            )
            .await
        {
            // The store refuses a token in a space deleted since the check above: the space is
            // gone now, as it would have been a moment earlier.
            Err(IssueError::NotStored) => {
                self.access
                    .space::<CreateTokenError>(actor, space_id)
                    .await?;
                return Err(IssueError::NotStored.into());
            }
            issued => issued?,
        };
        tracing::info!(token_id = %issued.token().id(), "token created");
        Ok(issued)
    }

    /// Issues another instance admin token. Only an instance-wide actor may: an instance admin
    /// token, or the operator at the store (which is how access is regained once every instance
    /// admin token is lost). The lifetime policy applies as for any token.
    ///
    /// # Errors
    /// [`CreateTokenError`]; `Forbidden(Admin)` for any other actor. On any error nothing is
    /// stored.
    #[tracing::instrument(skip_all)]
    pub async fn create_instance_admin(
        &self,
        actor: &Actor,
        name: TokenName,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, CreateTokenError> {
        if !may_manage_instance_tokens(actor) {
            return Err(CreateTokenError::Forbidden(TokenLevel::Admin));
        }
        let expires_at = self.lifetime_for(expires_at)?;
        let issued = self
            .issuer
            .issue(
                TokenScope::Instance,
                name,
                actor.as_creator(),
                actor.via_token_id(),
                expires_at,
            )
            .await?;
        tracing::info!(token_id = %issued.token().id(), "instance admin token created");
        Ok(issued)
    }

    /// The `expires_at` a new token gets from the lifetime policy, asked for or not.
    fn lifetime_for(
        &self,
        asked: Option<OffsetDateTime>,
    ) -> Result<Option<OffsetDateTime>, CreateTokenError> {
        match self.lifetime.resolve(asked, self.now()) {
            Ok(at) => Ok(at),
            Err(LifetimeError::BeyondMaximum { max_days }) => {
                Err(CreateTokenError::ExpiryBeyondMaximum { max_days })
            }
            Err(_) => Err(CreateTokenError::ExpiryNotInFuture),
        }
    }

    /// Replaces an active token with a new one (new id and secret; same name, level and space)
    /// that records which token it replaces. The old token keeps working for the grace period,
    /// then fails like a revoked one. Needs the permission to create a token of that level and
    /// the permission to revoke the old one (so an editor rotates only its own client tokens).
    /// The new token's lifetime is [`LifetimePolicy::for_rotation`]'s.
    ///
    /// # Errors
    /// [`RotateTokenError`]; on any error nothing changed.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn rotate(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
        cmd: RotateToken,
    ) -> Result<IssuedToken, RotateTokenError> {
        let home = home.into();
        let old = self
            .access
            .token::<RotateTokenError>(self.repository(), actor, home, token_id)
            .await?;
        // Rotation creates a token and ends another: it needs both rights, so an editor may
        // rotate only the client tokens it could revoke.
        if !allows(actor, create_permission(old.level()), home.resource())
            || !allows(actor, Permission::RevokeApiToken, Resource::Token(&old))
        {
            return Err(RotateTokenError::Forbidden(old.level()));
        }
        let now = self.now();
        // Checked here as well as by the store, so that a token that cannot rotate costs no hash.
        old.can_rotate_at(now)?;
        let issued = self
            .issuer
            .mint(
                old.scope(),
                old.name().clone(),
                actor.as_creator(),
                self.lifetime.for_rotation(&old, now),
                Some(old.id()),
            )
            .await?;
        let rotation = Rotation {
            old_id: old.id(),
            grace_period: cmd.grace_period,
            now,
            event: self
                .issuer
                .stamp()
                .event_by(AuditAction::TokenRotated, actor, &old),
            new_token: issued.token().clone(),
        };
        match self.repository().rotate(&rotation).await? {
            RotateOutcome::Rotated(_) => {}
            RotateOutcome::NotActive(status) => return Err(RotateTokenError::NotActive(status)),
            RotateOutcome::NotFound => return Err(RotateTokenError::NotFound),
        }
        // Its expiry changed: the next use must read it from the store.
        self.verifier.forget(old.id());
        tracing::info!(new_token_id = %issued.token().id(), "token rotated");
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
    ) -> Result<Page<TokenView>, ListTokensError> {
        self.access
            .space::<ListTokensError>(actor, space_id)
            .await?;
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
        let pager = self.cursors.pager(token_listing(space_id, &query));
        let after = pager.position(&query.page)?.map(TokenId::from_uuid);
        let limit = query.page.limit.get() as usize;
        let tokens = self
            .repository()
            .list(&TokenQuery {
                space_id,
                level,
                statuses: query.statuses,
                now: self.now(),
                name: query.name,
                after,
                limit: limit + 1,
                order: query.order,
            })
            .await?;
        Ok(self
            .page_of(actor, tokens, query.page.limit, &pager)
            .await?)
    }

    /// `tokens` (one more than `limit` if there are more) as a page of what `actor` is shown.
    async fn page_of(
        &self,
        actor: &Actor,
        tokens: Vec<ApiToken>,
        limit: crate::pagination::PageLimit,
        pager: &Pager<'_>,
    ) -> Result<Page<TokenView>, StoreError> {
        let spaces = self
            .actor_token_spaces(actor, tokens.iter().map(ApiToken::created_by))
            .await?;
        let views = tokens
            .into_iter()
            .map(|t| self.view(actor, t, &spaces))
            .collect();
        Ok(pager.page(views, limit, |v| v.token.id().as_uuid()))
    }

    /// Reads one token's metadata, whatever its status.
    ///
    /// # Errors
    /// [`GetTokenError`]; a token the actor may not know of is `NotFound`.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn get(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
    ) -> Result<TokenView, GetTokenError> {
        let token = self
            .access
            .token::<GetTokenError>(self.repository(), actor, home.into(), token_id)
            .await?;
        Ok(self.view_one(actor, token).await?)
    }

    /// Revokes a token: it fails verification from this moment on. Revoking a revoked token
    /// succeeds again and keeps the first revocation time. The last active instance admin
    /// token is never revoked this way ([`leaves_an_active_instance_admin`](tollgate_domain::leaves_an_active_instance_admin)): the instance
    /// would be left with nothing that can manage it.
    ///
    /// # Errors
    /// [`RevokeTokenError`]; `LastInstanceAdmin` for the last active instance admin token.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn revoke(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
    ) -> Result<TokenView, RevokeTokenError> {
        let token = self
            .access
            .token::<RevokeTokenError>(self.repository(), actor, home.into(), token_id)
            .await?;
        if !allows(actor, Permission::RevokeApiToken, Resource::Token(&token)) {
            return Err(RevokeTokenError::Forbidden);
        }
        let event = self
            .issuer
            .stamp()
            .event_by(AuditAction::TokenRevoked, actor, &token);
        let revoked = if token.scope() == TokenScope::Instance {
            self.revoke_instance_admin(&token, &event).await?
        } else {
            self.apply_revocation(token.id(), &event)
                .await?
                .ok_or(RevokeTokenError::NotFound)?
        };
        tracing::info!("token revoked");
        Ok(self.view_one(actor, revoked).await?)
    }

    /// Revokes an instance admin token unless it is the last active one, the check and the
    /// revocation in one step of the store; then forgets it here as [`Self::apply_revocation`]
    /// does (the store's change tells every other node).
    async fn revoke_instance_admin(
        &self,
        token: &ApiToken,
        event: &AuditEvent,
    ) -> Result<ApiToken, RevokeTokenError> {
        match self
            .repository()
            .revoke_instance_admin(token.id(), self.now(), event)
            .await?
        {
            InstanceRevocation::Revoked(revoked) => {
                self.verifier.forget(token.id());
                Ok(*revoked)
            }
            InstanceRevocation::LastActive => Err(RevokeTokenError::LastInstanceAdmin),
            InstanceRevocation::NotFound => Err(RevokeTokenError::NotFound),
        }
    }

    /// Revokes a token that was reported as leaked and verified ([`LeakReports`]), whatever
    /// its kind: the last instance admin token too, since a leaked one must stop working (the
    /// operator mints another on the store, as docs/operations.md says). Its event's actor is
    /// `leak_report`. `None` if it was deleted meanwhile.
    ///
    /// [`LeakReports`]: super::LeakReports
    pub(super) async fn revoke_leaked(
        &self,
        token: &TokenIdentity,
    ) -> Result<Option<ApiToken>, StoreError> {
        let event = self.issuer.stamp().event_about_identity(
            AuditAction::TokenRevoked,
            CreatedBy::LeakReport,
            token,
        );
        self.apply_revocation(token.id(), &event).await
    }

    /// The one way a token is revoked: in the store with its event (which tells every other
    /// node), then in this node's cache.
    async fn apply_revocation(
        &self,
        token_id: TokenId,
        event: &AuditEvent,
    ) -> Result<Option<ApiToken>, StoreError> {
        let revoked = self
            .repository()
            .revoke(token_id, self.now(), event)
            .await?;
        // Before the caller hears of success: from here on, no use of this token succeeds here.
        self.verifier.forget(token_id);
        Ok(revoked)
    }

    /// Lists the audit events of `space_id`, newest first. Needs READ_ADMIN_API_TOKEN there.
    /// Only an instance admin is shown which instance admin token acted for a member, and only
    /// an instance-wide actor still reads the events of a deleted space.
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
        self.access
            .space_history::<ListEventsError>(actor, space_id)
            .await?;
        if !allows(
            actor,
            Permission::ReadAdminApiToken,
            Resource::Space(space_id),
        ) {
            return Err(ListEventsError::Forbidden);
        }
        let pager = self
            .cursors
            .pager(Listing::of("events").with("space", space_id));
        let before = pager.position(&page)?.map(EventId::from_uuid);
        let limit = page.limit.get() as usize;
        let events = self.ports.events.list(space_id, before, limit + 1).await?;
        let spaces = self
            .actor_token_spaces(actor, events.iter().map(|e| &e.actor))
            .await?;
        let events = events
            .into_iter()
            .map(|e| {
                let actor_space = space_of(&spaces, &e.actor);
                event_as_seen_by(actor, e, actor_space)
            })
            .collect();
        Ok(pager.page(events, page.limit, |e| e.id.as_uuid()))
    }
}

/// What a page of a space's tokens is bound to: the space and every filter the request gave
/// (the level asked for, not the one the actor's permissions narrowed it to), the name search
/// included.
fn token_listing(space_id: SpaceId, query: &ListTokens) -> Listing {
    Listing::of("tokens")
        .with("space", space_id)
        .with("level", query.level.map_or("*", TokenLevel::as_str))
        .with("status", statuses_text(query.statuses))
        // A search term with its length: `q` absent and `q` present never read alike.
        .with(
            "q",
            query
                .name
                .as_ref()
                .map_or_else(String::new, |q| format!("={}", q.as_str())),
        )
        .with(
            "order",
            match query.order {
                ListOrder::OldestFirst => "oldest",
                ListOrder::NewestFirst => "newest",
            },
        )
}

/// A status filter as a listing's parameter: its statuses in a fixed order.
fn statuses_text(statuses: StatusFilter) -> String {
    let names: Vec<&str> = TokenStatus::ALL
        .into_iter()
        .filter(|status| statuses.contains(*status))
        .map(TokenStatus::as_str)
        .collect();
    names.join(",")
}

/// What a page of the instance admin tokens is bound to: its status filter.
pub(super) fn instance_listing(statuses: StatusFilter) -> Listing {
    Listing::of("instance_tokens").with("status", statuses_text(statuses))
}

/// The spaces of the tokens that actors name, by token id (`None`: an instance admin token).
type ActorTokenSpaces = HashMap<TokenId, Option<SpaceId>>;

/// The space of the token `actor` names, as looked up (`None` if it names none).
fn space_of(spaces: &ActorTokenSpaces, actor: &CreatedBy) -> Option<SpaceId> {
    actor
        .token_id()
        .and_then(|id| spaces.get(&id).copied().flatten())
}
