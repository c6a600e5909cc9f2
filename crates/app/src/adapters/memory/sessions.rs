//! Console sessions in memory: each session with the nonces it claimed, in one map behind one
//! lock, so that every method is atomic and deleting a session drops its nonces with it.

use std::collections::{BTreeMap, HashSet};
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{ConsoleSession, EndedSessions, FormNonce, SessionDigest};

use crate::error::StoreError;
use crate::ports::SessionRepository;

/// A session and the nonces it claimed.
#[derive(Debug)]
struct Entry {
    session: ConsoleSession,
    // No claim time: nothing reads it here (the SQL stores keep it for an operator's eyes).
    nonces: HashSet<FormNonce>,
}

/// Console sessions in memory. Unlike the SQL stores, it does not check that a session's
/// token exists, and keeps the session when the token goes (no token is ever deleted from
/// memory).
#[derive(Debug, Default)]
pub struct InMemorySessionRepository {
    sessions: RwLock<BTreeMap<SessionDigest, Entry>>,
}

impl InMemorySessionRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<SessionDigest, Entry>> {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionRepository for InMemorySessionRepository {
    async fn insert(&self, session: &ConsoleSession) -> Result<bool, StoreError> {
        let mut sessions = self.write();
        if sessions.contains_key(session.digest()) {
            return Ok(false);
        }
        sessions.insert(
            *session.digest(),
            Entry {
                session: session.clone(),
                nonces: HashSet::new(),
            },
        );
        Ok(true)
    }

    async fn get(&self, digest: &SessionDigest) -> Result<Option<ConsoleSession>, StoreError> {
        Ok(self
            .sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .map(|entry| entry.session.clone()))
    }

    async fn touch(&self, digest: &SessionDigest, at: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(entry) = self.write().get_mut(digest) {
            entry.session.seen_at(at);
        }
        Ok(())
    }

    async fn delete(&self, digest: &SessionDigest) -> Result<(), StoreError> {
        self.write().remove(digest);
        Ok(())
    }

    async fn delete_ended(&self, ended: &EndedSessions) -> Result<u64, StoreError> {
        let mut sessions = self.write();
        let before = sessions.len();
        sessions.retain(|_, entry| !ended.contains(&entry.session));
        Ok(u64::try_from(before - sessions.len()).unwrap_or(u64::MAX))
    }

    async fn claim_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
        _at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(self
            .write()
            .get_mut(digest)
            .is_some_and(|entry| entry.nonces.insert(*nonce)))
    }

    async fn release_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
    ) -> Result<(), StoreError> {
        if let Some(entry) = self.write().get_mut(digest) {
            entry.nonces.remove(nonce);
        }
        Ok(())
    }
}
