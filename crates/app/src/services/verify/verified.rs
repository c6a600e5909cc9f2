//! What a successful verification yields. Below both the verifier and its cache, which hold it.

use tollgate_domain::{Actor, ApiToken, TokenIdentity};

/// A token that passed verification, and whom it acts as.
///
/// It carries the token's [`TokenIdentity`] (id, scope, name, creation, expiry), not the stored
/// row: a verified token is live, and what else the store keeps of it (its hash, description,
/// creator, history) is read from the store by whoever needs it. It is also all that a node's
/// verification cache keeps of each token in use (`docs/performance.md`, "Memory per cached
/// token").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The actor the token acts as.
    pub actor: Actor,
    /// Who the token is.
    pub token: TokenIdentity,
}

impl VerifiedToken {
    /// The verification of `token`: it acts as [`Actor::for_token`] says.
    #[must_use]
    pub fn of(token: &ApiToken) -> Self {
        Self::from(token.identity())
    }
}

impl From<TokenIdentity> for VerifiedToken {
    /// The verification of the token `token` identifies: it acts as [`Actor::for_identity`]
    /// says.
    fn from(token: TokenIdentity) -> Self {
        Self {
            actor: Actor::for_identity(&token),
            token,
        }
    }
}
