//! `last_used_at`, `last_used_ip` and re-hashes without a database write per request:
//! successful verifications note the use in memory (and, after a cold verification against an
//! outdated hash, the new hash), and a flush writes every noted token in one store call.
//! Flushing every `TOLLGATE_LAST_USED_FLUSH_SECONDS` (and once at shutdown) gives at most one
//! write per token per interval, however many requests it served.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tollgate_domain::TokenId;

use crate::ports::TokenUse;

#[derive(Debug, Default)]
pub(super) struct LastUsed {
    pending: Mutex<HashMap<TokenId, TokenUse>>,
}

impl LastUsed {
    /// Notes a use; cheap enough for every request (one short lock, one map insert). Several
    /// uses of a token before a flush fold into one ([`TokenUse::merge`]).
    pub(super) fn note(&self, used: TokenUse) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        match pending.entry(used.id) {
            std::collections::hash_map::Entry::Occupied(mut entry) => entry.get_mut().merge(used),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(used);
            }
        }
    }

    /// Everything noted since the last call.
    pub(super) fn take(&self) -> Vec<TokenUse> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.drain().map(|(_, used)| used).collect()
    }

    /// Puts back what a failed flush could not write, keeping newer notes.
    pub(super) fn restore(&self, uses: Vec<TokenUse>) {
        for used in uses {
            self.note(used);
        }
    }
}
