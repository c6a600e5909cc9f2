//! Reading a whole store out, and loading a whole store into an empty one, for moving an
//! installation from one store to another (`tollgate export` and `tollgate import`).

use async_trait::async_trait;
use tollgate_domain::{ApiToken, AuditEvent, EventId, Space, SpaceId, TokenId};

use crate::error::StoreError;
use crate::ports::HashRefused;
use crate::store_contents::StoreContents;

/// [`StoreTransfer::import`] failed; the store is as it was.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The store holds a space, a token or an event already: an import only fills an empty
    /// store, so it never mixes two installations.
    #[error(
        "the target store is not empty: an import loads only into a store that holds no space, \
         token or event"
    )]
    NotEmpty,
    /// The store failed.
    #[error("the store failed during the import, which wrote nothing")]
    Store(#[source] StoreError),
    /// A token's hash is one the configured hasher refuses to run (its parameters exceed the
    /// bounds, or it is no argon2id hash): checked by
    /// [`TransferService::import`](crate::TransferService::import) before the store is
    /// touched, so nothing was written.
    #[error(
        "token {token}'s secret hash is refused: {reason}{}; nothing was imported (raise the \
         argon2 bounds only for a dump you trust)",
        more_refused(.others)
    )]
    RefusedHash {
        /// The first token whose hash is refused.
        token: TokenId,
        /// Why.
        reason: HashRefused,
        /// How many more tokens' hashes are refused.
        others: usize,
    },
}

/// How [`ImportError::RefusedHash`] counts the other refused hashes.
fn more_refused(others: &usize) -> String {
    match others {
        0 => String::new(),
        1 => ", and so is 1 more token's".to_owned(),
        n => format!(", and so are {n} more tokens'"),
    }
}

/// Reads a whole store out, and loads a whole store into an empty one.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait StoreTransfer: Send + Sync {
    /// Up to `limit` spaces with ids greater than `after` (all, if `None`), in ascending id
    /// order: what [`SpaceRepository::list`](super::SpaceRepository::list) answers.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a space that breaks a domain rule.
    async fn export_spaces(
        &self,
        after: Option<SpaceId>,
        limit: usize,
    ) -> Result<Vec<Space>, StoreError>;

    /// Up to `limit` tokens with ids greater than `after` (all, if `None`), in ascending id
    /// order, whatever their space (instance tokens included) and status, hash included.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds a token that breaks a domain rule.
    async fn export_tokens(
        &self,
        after: Option<TokenId>,
        limit: usize,
    ) -> Result<Vec<ApiToken>, StoreError>;

    /// Up to `limit` audit events with ids greater than `after` (all, if `None`), in ascending
    /// id order, whatever their space (events of instance tokens included).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds an event that breaks a domain rule.
    async fn export_events(
        &self,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// Stores every space, token and event of `contents` exactly as given (hashes, rotation
    /// links, `last_used_at` and all), MUST do so all or nothing, and only if the store holds no
    /// space, token or event. The emptiness check and the writes MUST be one atomic step: of two
    /// concurrent imports into one empty store, exactly one succeeds. Loading empty `contents`
    /// into an empty store succeeds and writes nothing.
    ///
    /// # Errors
    /// [`ImportError::NotEmpty`] for a store that holds anything; [`ImportError::Store`] if the
    /// store fails. Either way nothing was written.
    async fn import(&self, contents: &StoreContents) -> Result<(), ImportError>;
}
