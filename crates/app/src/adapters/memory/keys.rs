//! The server's keys in memory: the first candidate is kept for as long as the process lives.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::error::StoreError;
use crate::pagination::CursorKey;
use crate::ports::ServerKeyRepository;

/// The server's keys in memory.
#[derive(Debug, Default)]
pub struct InMemoryServerKeyRepository {
    cursor: Mutex<Option<CursorKey>>,
}

impl InMemoryServerKeyRepository {
    /// No key yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ServerKeyRepository for InMemoryServerKeyRepository {
    async fn cursor_key(&self, candidate: &CursorKey) -> Result<CursorKey, StoreError> {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(cursor.get_or_insert_with(|| candidate.clone()).clone())
    }
}
