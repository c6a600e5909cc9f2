//! Keys the server keeps in its store, so that every node serving the store uses the same ones.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::pagination::CursorKey;

/// Keeps the server's keys. Nothing here is a token or a token's hash: a key lets a node seal
/// what it hands out (listing cursors) so that any node can check it, and authorizes nothing.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait ServerKeyRepository: Send + Sync {
    /// The key that seals listing cursors: the one stored, or `candidate`, stored now, if none
    /// is. However many nodes call this at once with different candidates, every one of them
    /// MUST get the same key, and it MUST stay the same from then on.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn cursor_key(&self, candidate: &CursorKey) -> Result<CursorKey, StoreError>;
}
