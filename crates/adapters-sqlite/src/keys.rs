//! [`ServerKeyRepository`] on the `server_keys` table: one row per key, written once by the
//! first node that needs it and read by every other.

use async_trait::async_trait;
use tollgate_app::ports::ServerKeyRepository;
use tollgate_app::{CursorKey, StoreError};

use crate::error::store_error;
use crate::SqliteStore;

/// The candidate, unless a key is stored already.
const INSERT_CURSOR_KEY: &str =
    "INSERT INTO server_keys (name, key) VALUES ('cursor', ?) ON CONFLICT (name) DO NOTHING";
const CURSOR_KEY: &str = "SELECT key FROM server_keys WHERE name = 'cursor'";

#[async_trait]
impl ServerKeyRepository for SqliteStore {
    async fn cursor_key(&self, candidate: &CursorKey) -> Result<CursorKey, StoreError> {
        sqlx::query(INSERT_CURSOR_KEY)
            .bind(candidate.as_bytes().as_slice())
            .execute(self.writer())
            .await
            .map_err(store_error)?;
        let stored: Vec<u8> = sqlx::query_scalar(CURSOR_KEY)
            .fetch_one(self.writer())
            .await
            .map_err(store_error)?;
        let bytes = <[u8; 32]>::try_from(stored.as_slice()).map_err(|_| {
            StoreError::Corrupt(format!(
                "the stored cursor key has {} bytes, not 32",
                stored.len()
            ))
        })?;
        Ok(CursorKey::from_bytes(bytes))
    }
}
