//! Audit events: what happened to a token, when, and by whom. Never a secret.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::api_token::{ApiToken, ChangedFields};
use crate::ids::{EventId, SpaceId, TokenId};
use crate::token::CreatedBy;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A token was issued.
    TokenCreated,
    /// A token was replaced by a new one.
    TokenRotated,
    /// A token was revoked.
    TokenRevoked,
    /// A revoked or expired token was presented.
    TokenRejected,
    /// A token was suspended.
    TokenSuspended,
    /// A suspended token was resumed.
    TokenResumed,
    /// A token's name, description or expiry was changed (the event says which).
    TokenUpdated,
}

/// An action name other than the seven of [`AuditAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action")]
pub struct AuditActionError;

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 7] = [
        Self::TokenCreated,
        Self::TokenRotated,
        Self::TokenRevoked,
        Self::TokenRejected,
        Self::TokenSuspended,
        Self::TokenResumed,
        Self::TokenUpdated,
    ];

    /// The action's wire name, e.g. `token.created`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenCreated => "token.created",
            Self::TokenRotated => "token.rotated",
            Self::TokenRevoked => "token.revoked",
            Self::TokenRejected => "token.rejected",
            Self::TokenSuspended => "token.suspended",
            Self::TokenResumed => "token.resumed",
            Self::TokenUpdated => "token.updated",
        }
    }
}

impl FromStr for AuditAction {
    type Err = AuditActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(AuditActionError)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// UUID v7: events sort by time.
    pub id: EventId,
    /// When it happened.
    pub at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// Who did it (for `token.rejected`, the token that was presented).
    pub actor: CreatedBy,
    /// The token it happened to.
    pub token_id: TokenId,
    /// The token's space; `None` for an instance admin token.
    pub space_id: Option<SpaceId>,
    /// The instance admin token a platform's backend acted with, when `actor` is a member it
    /// acted for (`X-Tollgate-Act-As`). Shown to instance admins only
    /// ([`event_as_seen_by`](crate::policy::event_as_seen_by)).
    pub via_token_id: Option<TokenId>,
    /// For `token.updated`, the fields that changed; empty for every other action.
    pub changed: ChangedFields,
}

impl AuditEvent {
    /// An event of `action` by `actor` on `token`, in the token's space.
    #[must_use]
    pub fn about(
        id: EventId,
        at: OffsetDateTime,
        action: AuditAction,
        actor: CreatedBy,
        token: &ApiToken,
    ) -> Self {
        Self {
            id,
            at,
            action,
            actor,
            token_id: token.id(),
            space_id: token.space_id(),
            via_token_id: None,
            changed: ChangedFields::NONE,
        }
    }

    /// This event, recording that the actor acted through `via_token_id` (see
    /// [`Actor::via_token_id`](crate::Actor::via_token_id)).
    #[must_use]
    pub const fn via(mut self, via_token_id: Option<TokenId>) -> Self {
        self.via_token_id = via_token_id;
        self
    }

    /// This event, recording the fields an update changed.
    #[must_use]
    pub const fn with_changes(mut self, changed: ChangedFields) -> Self {
        self.changed = changed;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_wire_names() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse(), Ok(action));
        }
        assert_eq!(
            "token.deleted".parse::<AuditAction>(),
            Err(AuditActionError)
        );
    }
}
