//! Updating a token: renaming it, describing it, and shortening or extending its expiry within
//! the lifetime policy. It needs what rotation needs (the right to create a token of that level
//! and to revoke this one), so an editor cannot shorten someone else's token into a revocation.

use tollgate_domain::{
    allows, create_permission, Actor, AuditAction, LifetimeError, Permission, Resource, TokenId,
    TokenUpdate, UpdateRefused,
};

use super::TokenService;
use crate::ports::{Update, UpdateOutcome};
use crate::services::commands::{TokenHome, TokenView};
use crate::services::errors::UpdateTokenError;

impl UpdateTokenError {
    /// The error for what the domain refused, `asked` being the update asked for.
    fn refused(refused: UpdateRefused, asked: &TokenUpdate) -> Self {
        match refused {
            UpdateRefused::Ended(status) => Self::Ended(status),
            UpdateRefused::Expiry(LifetimeError::BeyondMaximum { max_days })
                if asked.expires_at == Some(None) =>
            {
                Self::NeverBeyondMaximum { max_days }
            }
            UpdateRefused::Expiry(LifetimeError::BeyondMaximum { max_days }) => {
                Self::ExpiryBeyondMaximum { max_days }
            }
            UpdateRefused::Expiry(_) => Self::ExpiryNotInFuture,
        }
    }
}

impl TokenService {
    /// Updates a token's name, description or expiry, each only when `changes` gives it. An
    /// expiry may be shortened at any time and extended only within the lifetime policy;
    /// "never" only where there is no maximum. A revoked, expired or rotated token (in its grace
    /// period or not) cannot be updated, so an update never brings a token back or stretches a
    /// grace period. The change is recorded as `token.updated` with the fields that changed (no
    /// event when nothing did). A shortened expiry takes effect on this node at once and on the
    /// others as a revocation does. Needs the permission to create a token of that level and
    /// the permission to revoke this one.
    ///
    /// # Errors
    /// [`UpdateTokenError`]; on any error nothing changed.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn update(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
        changes: TokenUpdate,
    ) -> Result<TokenView, UpdateTokenError> {
        let home = home.into();
        let token = self
            .access
            .token::<UpdateTokenError>(self.repository(), actor, home, token_id)
            .await?;
        if !allows(actor, create_permission(token.level()), home.resource())
            || !allows(actor, Permission::RevokeApiToken, Resource::Token(&token))
        {
            return Err(UpdateTokenError::Forbidden(token.level()));
        }
        let update = Update {
            id: token_id,
            event: self
                .issuer
                .stamp()
                .event_by(AuditAction::TokenUpdated, actor, &token),
            changes,
            policy: self.lifetime,
            now: self.now(),
        };
        match self.repository().update(&update).await? {
            UpdateOutcome::Done { token, changed } => {
                if !changed.is_empty() {
                    // Before the caller hears of success: a shortened expiry holds here at once
                    // (the store's change feed tells the other nodes), and this node's answers
                    // (`whoami`, introspection) show the new name.
                    self.verifier.forget(token_id);
                    tracing::info!(changed = %changed.to_text(), "token updated");
                }
                Ok(self.view_one(actor, *token).await?)
            }
            UpdateOutcome::Refused(refused) => {
                Err(UpdateTokenError::refused(refused, &update.changes))
            }
            UpdateOutcome::NotFound => Err(UpdateTokenError::NotFound),
        }
    }
}
