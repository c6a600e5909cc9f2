//! Issuing: a new token's id, secret and hash, stored with its `token.created` event. Shared by
//! creation, rotation and bootstrap, so a token comes into being one way only.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use tollgate_domain::{
    Actor, ApiToken, AuditAction, AuditEvent, CreatedBy, NewApiToken, SpaceId, TokenId,
    TokenIdentity, TokenName, TokenScope, TokenSecret, TokenString,
};

use super::commands::TokenView;
use super::errors::IssueError;
use crate::error::StoreError;
use crate::ports::{Clock, HashError, RandomSource, SecretHasher, TokenRepository};

/// A freshly issued token: its metadata and the token string, the only value that ever carries
/// the secret. Its `Debug` shows the metadata, never the secret.
pub struct IssuedToken {
    view: TokenView,
    secret: TokenString,
}

impl IssuedToken {
    /// The stored token (metadata and hash).
    #[must_use]
    pub const fn token(&self) -> &ApiToken {
        &self.view.token
    }

    /// The stored token and its status when it was issued.
    #[must_use]
    pub const fn view(&self) -> &TokenView {
        &self.view
    }

    /// The token string to hand to its user, once.
    #[must_use]
    pub const fn secret(&self) -> &TokenString {
        &self.secret
    }

    /// The metadata and the token string, to move each where it belongs.
    #[must_use]
    pub fn into_parts(self) -> (TokenView, TokenString) {
        (self.view, self.secret)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &self.view.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Stamps audit events with a fresh id and the time: one way to make an event, for every part
/// that records one.
#[derive(Clone)]
pub(crate) struct EventStamp {
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl EventStamp {
    pub(crate) fn new(clock: Arc<dyn Clock>, random: Arc<dyn RandomSource>) -> Self {
        Self { clock, random }
    }

    /// An audit event of `action` by `actor` on `token`, now.
    pub(crate) fn event(
        &self,
        action: AuditAction,
        actor: CreatedBy,
        token: &ApiToken,
    ) -> AuditEvent {
        AuditEvent::about(
            self.random.event_id(),
            self.clock.now(),
            action,
            actor,
            token,
        )
    }

    /// [`Self::event`] on a token known by what a verification found of it.
    pub(crate) fn event_about_identity(
        &self,
        action: AuditAction,
        actor: CreatedBy,
        token: &TokenIdentity,
    ) -> AuditEvent {
        AuditEvent::about_identity(
            self.random.event_id(),
            self.clock.now(),
            action,
            actor,
            token,
        )
    }
}

impl EventStamp {
    /// An audit event of `action` by `actor` on `token`, now: the actor as a creator, and the
    /// instance admin token it acted through, if any.
    pub(crate) fn event_by(
        &self,
        action: AuditAction,
        actor: &Actor,
        token: &ApiToken,
    ) -> AuditEvent {
        self.event(action, actor.as_creator(), token)
            .via(actor.via_token_id())
    }

    /// An audit event of `action` (one about a space as a whole) by `actor` on `space_id`, now,
    /// through the instance admin token a platform acted with for a member, if any.
    pub(crate) fn space_event_by(
        &self,
        action: AuditAction,
        actor: &Actor,
        space_id: SpaceId,
    ) -> AuditEvent {
        AuditEvent::about_space(
            self.random.event_id(),
            self.clock.now(),
            action,
            actor.as_creator(),
            space_id,
        )
        .via(actor.via_token_id())
    }
}

/// Mints and stores tokens, and stamps the audit events of token changes.
#[derive(Clone)]
pub(crate) struct Issuer {
    tokens: Arc<dyn TokenRepository>,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    stamp: EventStamp,
}

impl Issuer {
    pub(crate) fn new(
        tokens: Arc<dyn TokenRepository>,
        hasher: Arc<dyn SecretHasher>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            stamp: EventStamp::new(Arc::clone(&clock), Arc::clone(&random)),
            tokens,
            hasher,
            clock,
            random,
        }
    }

    /// The hasher new tokens are hashed with (bootstrap also checks a secret with it).
    pub(crate) fn hasher(&self) -> &dyn SecretHasher {
        self.hasher.as_ref()
    }

    /// What stamps the audit events of token changes.
    pub(crate) const fn stamp(&self) -> &EventStamp {
        &self.stamp
    }

    /// A new token (fresh id, secret and hash) with these attributes, not yet stored.
    pub(crate) async fn mint(
        &self,
        scope: TokenScope,
        name: TokenName,
        created_by: CreatedBy,
        expires_at: Option<OffsetDateTime>,
        replaces: Option<TokenId>,
    ) -> Result<IssuedToken, HashError> {
        let id = self.random.token_id();
        let secret = self.random.secret();
        let token = self
            .token(id, &secret, scope, name, created_by, expires_at, replaces)
            .await?;
        Ok(IssuedToken {
            view: TokenView {
                status: token.status_at(token.created_at()),
                token,
            },
            secret: TokenString::new(scope.kind(), id, &secret),
        })
    }

    /// The token `id` with `secret`'s hash and these attributes, issued now, not yet stored.
    #[allow(clippy::too_many_arguments)] // a token's attributes, each of its own type
    pub(crate) async fn token(
        &self,
        id: TokenId,
        secret: &TokenSecret,
        scope: TokenScope,
        name: TokenName,
        created_by: CreatedBy,
        expires_at: Option<OffsetDateTime>,
        replaces: Option<TokenId>,
    ) -> Result<ApiToken, HashError> {
        Ok(ApiToken::issue(NewApiToken {
            id,
            scope,
            name,
            created_at: self.clock.now(),
            created_by,
            expires_at,
            replaces,
            secret_hash: self.hasher.hash(secret).await?,
        }))
    }

    /// Stores a new token with its `token.created` event by `created_by`; `false` if its id
    /// is taken (nothing stored).
    pub(crate) async fn store(
        &self,
        token: &ApiToken,
        created_by: CreatedBy,
        via_token_id: Option<TokenId>,
    ) -> Result<bool, StoreError> {
        let event = self
            .stamp
            .event(AuditAction::TokenCreated, created_by, token)
            .via(via_token_id);
        self.tokens.insert(token, &event).await
    }

    /// Mints a token and stores it with its `token.created` event (by `created_by`, through
    /// `via_token_id` when a platform acted for a member).
    pub(crate) async fn issue(
        &self,
        scope: TokenScope,
        name: TokenName,
        created_by: CreatedBy,
        via_token_id: Option<TokenId>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, IssueError> {
        let issued = self
            .mint(scope, name, created_by.clone(), expires_at, None)
            .await?;
        if !self.store(issued.token(), created_by, via_token_id).await? {
            return Err(IssueError::NotStored);
        }
        Ok(issued)
    }
}
