//! `last_used_at` without a database write per request: successful verifications note the
//! time in memory, and a flush writes every noted token in one store call. Flushing every
//! `TOLLGATE_LAST_USED_FLUSH_SECONDS` (and once at shutdown) gives at most one write per token
//! per interval, however many requests it served.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::OffsetDateTime;
use tollgate_domain::TokenId;

#[derive(Debug, Default)]
pub(super) struct LastUsed {
    pending: Mutex<HashMap<TokenId, OffsetDateTime>>,
}

impl LastUsed {
    /// Notes a use; cheap enough for every request (one short lock, one map insert).
    pub(super) fn note(&self, id: TokenId, at: OffsetDateTime) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let last = pending.entry(id).or_insert(at);
        *last = (*last).max(at);
    }

    /// Everything noted since the last call.
    pub(super) fn take(&self) -> Vec<(TokenId, OffsetDateTime)> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.drain().collect()
    }

    /// Puts back what a failed flush could not write, keeping newer notes.
    pub(super) fn restore(&self, uses: Vec<(TokenId, OffsetDateTime)>) {
        for (id, at) in uses {
            self.note(id, at);
        }
    }
}
