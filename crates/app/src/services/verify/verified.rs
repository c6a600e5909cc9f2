//! What a successful verification yields. Below both the verifier and its cache, which hold it.

use tollgate_domain::{Actor, ApiToken};

/// A token that passed verification, and whom it acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The actor the token acts as.
    pub actor: Actor,
    /// The token's metadata.
    pub token: ApiToken,
}

impl VerifiedToken {
    /// The verification of `token`: it acts as [`Actor::for_token`] says.
    #[must_use]
    pub fn of(token: ApiToken) -> Self {
        Self {
            actor: Actor::for_token(&token),
            token,
        }
    }
}
