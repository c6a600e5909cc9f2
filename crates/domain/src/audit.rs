//! Audit events: what happened to a token, when, and by whom. Never a secret.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::api_token::{ApiToken, ChangedFields, TokenIdentity};
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
    /// A space was renamed (an event of the space, about no token).
    SpaceRenamed,
    /// A space was deleted, and every token of it revoked with it (an event of the space,
    /// about no token).
    SpaceDeleted,
}

/// An action name other than the nine of [`AuditAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action")]
pub struct AuditActionError;

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 9] = [
        Self::TokenCreated,
        Self::TokenRotated,
        Self::TokenRevoked,
        Self::TokenRejected,
        Self::TokenSuspended,
        Self::TokenResumed,
        Self::TokenUpdated,
        Self::SpaceRenamed,
        Self::SpaceDeleted,
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
            Self::SpaceRenamed => "space.renamed",
            Self::SpaceDeleted => "space.deleted",
        }
    }

    /// Whether the action is about a space as a whole, so that its events name no token.
    #[must_use]
    pub const fn is_about_space(self) -> bool {
        matches!(self, Self::SpaceRenamed | Self::SpaceDeleted)
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

/// An event whose subject does not fit its action: a space's own event must name its space
/// and no token, every other event a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventSubjectError {
    /// A space's own event names a token.
    #[error("{0} names no token")]
    SpaceEventWithToken(AuditAction),
    /// A space's own event names no space.
    #[error("{0} must name its space")]
    SpaceEventWithoutSpace(AuditAction),
    /// A token's event names no token.
    #[error("{0} must name its token")]
    TokenEventWithoutToken(AuditAction),
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
    /// The token it happened to; `None` exactly for a space's own events
    /// ([`AuditAction::is_about_space`]).
    pub token_id: Option<TokenId>,
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
        Self::on_token(id, at, action, actor, token.id(), token.space_id())
    }

    /// [`Self::about`] a token known by what a verification found of it.
    #[must_use]
    pub const fn about_identity(
        id: EventId,
        at: OffsetDateTime,
        action: AuditAction,
        actor: CreatedBy,
        token: &TokenIdentity,
    ) -> Self {
        Self::on_token(id, at, action, actor, token.id(), token.space_id())
    }

    const fn on_token(
        id: EventId,
        at: OffsetDateTime,
        action: AuditAction,
        actor: CreatedBy,
        token_id: TokenId,
        space_id: Option<SpaceId>,
    ) -> Self {
        Self {
            id,
            at,
            action,
            actor,
            token_id: Some(token_id),
            space_id,
            via_token_id: None,
            changed: ChangedFields::NONE,
        }
    }

    /// An event of `action` (one about a space, [`AuditAction::is_about_space`]) by `actor` on
    /// the space `space_id`.
    #[must_use]
    pub const fn about_space(
        id: EventId,
        at: OffsetDateTime,
        action: AuditAction,
        actor: CreatedBy,
        space_id: SpaceId,
    ) -> Self {
        Self {
            id,
            at,
            action,
            actor,
            token_id: None,
            space_id: Some(space_id),
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

    /// Whether the event names what its action is about: a space's own event its space and no
    /// token, every other event its token.
    ///
    /// # Errors
    /// [`EventSubjectError`] says what is missing or too much.
    pub const fn check_subject(&self) -> Result<(), EventSubjectError> {
        match (self.action.is_about_space(), self.token_id, self.space_id) {
            (true, Some(_), _) => Err(EventSubjectError::SpaceEventWithToken(self.action)),
            (true, None, None) => Err(EventSubjectError::SpaceEventWithoutSpace(self.action)),
            (false, None, _) => Err(EventSubjectError::TokenEventWithoutToken(self.action)),
            _ => Ok(()),
        }
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
        let about_space: Vec<_> = AuditAction::ALL
            .into_iter()
            .filter(|a| a.is_about_space())
            .map(AuditAction::as_str)
            .collect();
        assert_eq!(about_space, ["space.renamed", "space.deleted"]);
    }
}
