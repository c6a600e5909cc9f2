//! Suspending and resuming a token: switching it off without destroying it, and on again.
//! Both need REVOKE_API_TOKEN on the token, as revocation does; both reach other nodes the way a
//! revocation does (the store's change feed), and this node's cache at once.

use tollgate_domain::{allows, Actor, AuditAction, Permission, Resource, TokenId};

use super::TokenService;
use crate::error::StoreError;
use crate::ports::{SuspendOutcome, Suspension};
use crate::services::access::{SpaceUnreachable, TokenUnreachable};
use crate::services::commands::{TokenHome, TokenView};
use crate::services::errors::{ResumeTokenError, SuspendTokenError};

/// What a suspension or resumption ended in, before it becomes the operation's own error.
enum Failed {
    SpaceNotFound,
    NotFound,
    Forbidden,
    Ended(tollgate_domain::TokenStatus),
    Store(StoreError),
}

macro_rules! failed_into {
    ($($error:ident),+) => {$(
        impl From<Failed> for $error {
            fn from(failed: Failed) -> Self {
                match failed {
                    Failed::SpaceNotFound => Self::SpaceNotFound,
                    Failed::NotFound => Self::NotFound,
                    Failed::Forbidden => Self::Forbidden,
                    Failed::Ended(status) => Self::Ended(status),
                    Failed::Store(e) => Self::Store(e),
                }
            }
        }
    )+};
}

failed_into!(SuspendTokenError, ResumeTokenError);

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl SpaceUnreachable for Failed {
    fn space_not_found() -> Self {
        Self::SpaceNotFound
    }
}

impl TokenUnreachable for Failed {
    fn token_not_found() -> Self {
        Self::NotFound
    }
}

impl TokenService {
    /// Suspends a token: it fails verification, exactly like a revoked one, from this moment
    /// until it is resumed, on this node at once and on the others as a revocation reaches
    /// them. Console sessions signed in with it end. Suspending a suspended token succeeds
    /// again and changes nothing. Needs REVOKE_API_TOKEN on the token.
    ///
    /// # Errors
    /// [`SuspendTokenError`]; `Ended` for a revoked, expired or rotated token.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn suspend(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
    ) -> Result<TokenView, SuspendTokenError> {
        Ok(self
            .set_suspended(actor, home.into(), token_id, Suspension::Suspend)
            .await?)
    }

    /// Resumes a suspended token: it verifies again, on every node. Resuming an active token
    /// succeeds and changes nothing. Needs REVOKE_API_TOKEN on the token.
    ///
    /// # Errors
    /// [`ResumeTokenError`]; `Ended` for a revoked, expired or rotated token.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::of(home), token_id = %token_id))]
    pub async fn resume(
        &self,
        actor: &Actor,
        home: impl Into<TokenHome> + Copy + Send,
        token_id: TokenId,
    ) -> Result<TokenView, ResumeTokenError> {
        Ok(self
            .set_suspended(actor, home.into(), token_id, Suspension::Resume)
            .await?)
    }

    /// The one way a token is suspended or resumed: reach, permission, then the store applies
    /// the domain's transition to the token as stored, with its event.
    async fn set_suspended(
        &self,
        actor: &Actor,
        home: TokenHome,
        token_id: TokenId,
        suspension: Suspension,
    ) -> Result<TokenView, Failed> {
        let token = self
            .access
            .token::<Failed>(self.repository(), actor, home, token_id)
            .await?;
        if !allows(actor, Permission::RevokeApiToken, Resource::Token(&token)) {
            return Err(Failed::Forbidden);
        }
        let action = match suspension {
            Suspension::Suspend => AuditAction::TokenSuspended,
            Suspension::Resume => AuditAction::TokenResumed,
        };
        let event = self.issuer.stamp().event_by(action, actor, &token);
        let outcome = self
            .repository()
            .set_suspended(token_id, suspension, self.now(), &event)
            .await?;
        // Before the caller hears of success: a suspended token is never answered from this
        // node's cache again (a resumed one is simply verified afresh).
        self.verifier.forget(token_id);
        match outcome {
            SuspendOutcome::Done { token, changed } => {
                if changed {
                    tracing::info!(action = action.as_str(), "token suspension changed");
                }
                Ok(self.view_one(actor, *token).await?)
            }
            SuspendOutcome::Ended(status) => Err(Failed::Ended(status)),
            SuspendOutcome::NotFound => Err(Failed::NotFound),
        }
    }
}
