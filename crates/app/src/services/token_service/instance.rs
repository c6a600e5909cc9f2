//! The instance admin tokens as a set: listing them, and what bootstrap does to the others
//! when the operator registers a new one (`TOLLGATE_BOOTSTRAP_TOKEN`). One instance token is
//! read, rotated, updated and revoked by the same use cases as a space token, at
//! [`TokenHome::Instance`].

use tollgate_domain::{
    may_manage_instance_tokens, Actor, ApiToken, AuditAction, CreatedBy, TokenId, TokenStatus,
};

use super::TokenService;
use crate::error::StoreError;
use crate::pagination::Page;
use crate::services::commands::{ListInstanceTokens, TokenHome, TokenView};
use crate::services::errors::ListTokensError;

impl TokenService {
    /// Lists the instance admin tokens, oldest first, active ones unless `query.statuses` asks
    /// for others. Only an instance-wide actor may (an instance admin token, or the operator at
    /// the store); any other is `Forbidden`.
    ///
    /// # Errors
    /// [`ListTokensError`]: `Forbidden`, or the store's failure.
    #[tracing::instrument(skip_all, fields(space_id = %TokenHome::Instance))]
    pub async fn list_instance_admins(
        &self,
        actor: &Actor,
        query: ListInstanceTokens,
    ) -> Result<Page<TokenView>, ListTokensError> {
        if !may_manage_instance_tokens(actor) {
            return Err(ListTokensError::Forbidden);
        }
        let now = self.now();
        let pager = self.cursors.pager(super::instance_listing(query.statuses));
        let after = pager.position(&query.page)?.map(TokenId::from_uuid);
        // Instance tokens are few (an operator's handful, and their rotated predecessors):
        // the store hands them all over and the page is cut here, by the domain's own status.
        let limit = query.page.limit.get() as usize;
        let tokens: Vec<ApiToken> = self
            .repository()
            .instance_admins()
            .await?
            .into_iter()
            .filter(|t| after.is_none_or(|after| t.id() > after))
            .filter(|t| query.statuses.contains(t.status_at(now)))
            .take(limit + 1)
            .collect();
        Ok(self
            .page_of(actor, tokens, query.page.limit, &pager)
            .await?)
    }

    /// The active instance admin tokens other than `except`: what a newly registered bootstrap
    /// token leaves valid beside it.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn other_active_instance_admins(
        &self,
        except: TokenId,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let now = self.now();
        Ok(self
            .repository()
            .instance_admins()
            .await?
            .into_iter()
            .filter(|t| t.id() != except && t.status_at(now) == TokenStatus::Active)
            .collect())
    }

    /// Revokes every active instance admin token but `keep`, each with a `token.revoked` event
    /// by `system`, on every node as any revocation: the break-glass step of
    /// `TOLLGATE_BOOTSTRAP_REVOKE_OTHERS` once an instance token has leaked
    /// (docs/operations.md). Returns the tokens it revoked. `keep` is not checked: the caller
    /// has just registered it.
    ///
    /// # Errors
    /// [`StoreError`]; the tokens revoked before the failure stay revoked.
    #[tracing::instrument(skip_all, fields(keep = %keep))]
    pub async fn revoke_other_instance_admins(
        &self,
        keep: TokenId,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let mut revoked = Vec::new();
        for token in self.other_active_instance_admins(keep).await? {
            let event =
                self.issuer()
                    .stamp()
                    .event(AuditAction::TokenRevoked, CreatedBy::System, &token);
            if let Some(token) = self.apply_revocation(token.id(), &event).await? {
                tracing::info!(token_id = %token.id(), "instance admin token revoked at start");
                revoked.push(token);
            }
        }
        Ok(revoked)
    }
}
