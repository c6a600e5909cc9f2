//! What a verified token is, and no more: what a verification answers with and what a node
//! caches of every token in use. Its id, scope, name, creation and expiry, and nothing of its
//! history (revocation, rotation, last use) or its stored hash: a verified token is live, a
//! cached one is forgotten the moment it stops being so, and the hash matters only to the
//! verification that reads it from the store.

use time::OffsetDateTime;

use super::ApiToken;
use crate::ids::{SpaceId, TokenId};
use crate::token::{TokenLevel, TokenName, TokenScope};

/// Who a token is, as a verification found it: see the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    id: TokenId,
    scope: TokenScope,
    name: TokenName,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// Who this token is: its id, scope, name, creation and expiry.
    #[must_use]
    pub fn identity(&self) -> TokenIdentity {
        TokenIdentity {
            id: self.id,
            scope: self.scope,
            name: self.name.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

impl TokenIdentity {
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

    /// When it was issued.
    #[must_use]
    pub const fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When it stops verifying, if ever.
    #[must_use]
    pub const fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// Whether it has expired at `now` (the same rule as [`ApiToken::is_expired_at`]).
    #[must_use]
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        super::has_expired(self.expires_at, now)
    }
}
