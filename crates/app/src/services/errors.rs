//! Why the token use cases fail: one enum per operation, so a caller can match exactly the
//! failures that operation has. Nothing in them carries a secret, a hash or a token string.

use tollgate_domain::{create_permission, NotActive, TokenLevel, TokenStatus};

use crate::error::StoreError;
use crate::pagination::CursorError;
use crate::ports::HashError;

/// Why a token could not be issued. Nothing was stored in any case.
#[derive(Debug, thiserror::Error)]
pub enum CreateTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor may not create tokens of this level here.
    #[error("creating a {0} token needs {perm}", perm = create_permission(*.0))]
    Forbidden(TokenLevel),
    /// `expires_at` is not in the future.
    #[error("expires_at must be in the future")]
    ExpiryNotInFuture,
    /// `expires_at` is beyond the instance's maximum token lifetime.
    #[error("expires_at must be at most {max_days} days from now")]
    ExpiryBeyondMaximum {
        /// The maximum lifetime, in days.
        max_days: i64,
    },
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why tokens could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListTokensError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor lacks READ_API_TOKEN in the space.
    #[error("listing tokens needs READ_API_TOKEN")]
    Forbidden,
    /// The cursor was not handed out for this listing.
    #[error(transparent)]
    InvalidCursor(#[from] CursorError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor sees the token but may not revoke it.
    #[error("revoking this token needs REVOKE_API_TOKEN")]
    Forbidden,
    /// It is the last active instance admin token: revoking it would leave nothing that can
    /// manage the instance. Nothing changed.
    #[error("the last active instance admin token cannot be revoked")]
    LastInstanceAdmin,
    /// The store failed; the token may not be revoked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be suspended. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum SuspendTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor sees the token but may not revoke it, which suspending needs.
    #[error("suspending this token needs REVOKE_API_TOKEN")]
    Forbidden,
    /// The token is revoked, expired or rotated: there is nothing left to switch off.
    #[error("the token has ended; it is {}", .0.as_str())]
    Ended(TokenStatus),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be resumed. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum ResumeTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor sees the token but may not revoke it, which resuming needs.
    #[error("resuming this token needs REVOKE_API_TOKEN")]
    Forbidden,
    /// The token is revoked, expired or rotated: resuming cannot bring it back.
    #[error("the token has ended; it is {}", .0.as_str())]
    Ended(TokenStatus),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be updated. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum UpdateTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor may not create tokens of this level here, or may not revoke this one: updating
    /// needs both, as rotating does.
    #[error("updating a {0} token needs {perm} and REVOKE_API_TOKEN on it", perm = create_permission(*.0))]
    Forbidden(TokenLevel),
    /// The token is revoked, expired or rotated.
    #[error("the token has ended; it is {}", .0.as_str())]
    Ended(TokenStatus),
    /// The new `expires_at` is not in the future.
    #[error("expires_at must be in the future")]
    ExpiryNotInFuture,
    /// The new `expires_at` extends the token beyond the maximum lifetime.
    #[error("expires_at must be at most {max_days} days from now")]
    ExpiryBeyondMaximum {
        /// The maximum lifetime, in days.
        max_days: i64,
    },
    /// "Never" was asked for, but the instance has a maximum lifetime.
    #[error("expires_at cannot be null (never): tokens live at most {max_days} days")]
    NeverBeyondMaximum {
        /// The maximum lifetime, in days.
        max_days: i64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be rotated. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum RotateTokenError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// No such token in the space, or one the actor may not know of.
    #[error("token not found")]
    NotFound,
    /// The actor may not create tokens of this level here.
    #[error("rotating a {0} token needs {perm} and REVOKE_API_TOKEN on it", perm = create_permission(*.0))]
    Forbidden(TokenLevel),
    /// The token is revoked, expired or already rotated.
    #[error("only an active token can be rotated; this one is {}", .0.as_str())]
    NotActive(TokenStatus),
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<NotActive> for RotateTokenError {
    fn from(NotActive(status): NotActive) -> Self {
        Self::NotActive(status)
    }
}

/// Why audit events could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListEventsError {
    /// No such space, or not the actor's.
    #[error("space not found")]
    SpaceNotFound,
    /// The actor lacks READ_ADMIN_API_TOKEN in the space.
    #[error("reading audit events needs READ_ADMIN_API_TOKEN")]
    Forbidden,
    /// The cursor was not handed out for this listing.
    #[error(transparent)]
    InvalidCursor(#[from] CursorError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented token string was not accepted. `Invalid` is deliberately one opaque case
/// for malformed, unknown, revoked, expired and wrong-secret tokens; the reason is logged.
#[derive(Debug, thiserror::Error)]
pub enum VerifyTokenError {
    /// Not a valid, active token.
    #[error("invalid token")]
    Invalid,
    /// The store could not be asked; the token may be valid.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the bootstrap token could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The string is not a well-formed token.
    #[error("the bootstrap token is not a well-formed tollgate token")]
    Malformed,
    /// The token is well formed but not an instance admin token (`tgi_`).
    #[error("the bootstrap token must be an instance admin token (tgi_...)")]
    NotInstanceAdmin,
    /// A different token with the same id is stored.
    #[error("a different token with the bootstrap token's id is stored")]
    Conflict,
    /// The hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The failures of issuing itself (hashing, storing), shared by the operations that issue.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IssueError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store kept nothing: the id was taken, or the token's space was deleted meanwhile.
    #[error("the token was not stored (its id is taken, or its space was deleted)")]
    NotStored,
}

macro_rules! issue_error_into {
    ($($error:ident),+) => {$(
        impl From<IssueError> for $error {
            fn from(e: IssueError) -> Self {
                match e {
                    IssueError::Hash(e) => Self::Hash(e),
                    IssueError::Store(e) => Self::Store(e),
                    IssueError::NotStored => {
                        Self::Store(StoreError::Failed("token id collision".into()))
                    }
                }
            }
        }
    )+};
}

issue_error_into!(CreateTokenError, RotateTokenError, BootstrapError);
