//! The first instance admin token: registering the operator's own (`TOLLGATE_BOOTSTRAP_TOKEN`)
//! or creating one for a store that never had one, and minting a token string offline
//! (`tollgate token mint`).

use tollgate_domain::{CreatedBy, ParsedToken, TokenKind, TokenName, TokenScope, TokenString};

use super::errors::BootstrapError;
use super::issuer::IssuedToken;
use super::TokenService;
use crate::ports::RandomSource;

/// What bootstrap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// The token was stored now.
    Registered,
    /// The same token was stored before; nothing changed.
    AlreadyRegistered,
}

/// The name given to instance admin tokens that tollgate registers or creates at start.
const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";

fn bootstrap_name() -> TokenName {
    TokenName::parse(BOOTSTRAP_TOKEN_NAME).unwrap_or_else(|_| unreachable!("a valid constant name"))
}

/// Makes a fresh, well-formed token string of `kind` without storing anything (what
/// `tollgate token mint` prints).
#[must_use]
pub fn mint_token_string(random: &dyn RandomSource, kind: TokenKind) -> TokenString {
    TokenString::new(kind, random.token_id(), &random.secret())
}

impl TokenService {
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
        let issuer = self.issuer();
        let token = issuer
            .token(
                parsed.id(),
                parsed.secret(),
                TokenScope::Instance,
                bootstrap_name(),
                CreatedBy::System,
                None,
                None,
            )
            .await?;
        if issuer.store(&token, CreatedBy::System, None).await? {
            // A token of that id may have been cached as unknown, or with another secret.
            self.verifier().forget(token.id());
            tracing::info!(token_id = %token.id(), "bootstrap instance admin token registered");
            return Ok(BootstrapOutcome::Registered);
        }
        match self.repository().get(token.id()).await? {
            Some(stored)
                if stored.scope() == TokenScope::Instance
                    && issuer
                        .hasher()
                        .verify(parsed.secret(), stored.secret_hash())
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
        if self.repository().any_instance_admin().await? {
            return Ok(None);
        }
        let issued = self
            .issuer()
            .issue(
                TokenScope::Instance,
                bootstrap_name(),
                CreatedBy::System,
                None,
                None,
            )
            .await?;
        Ok(Some(issued))
    }
}
