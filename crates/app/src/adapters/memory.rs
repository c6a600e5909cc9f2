//! The in-memory store: spaces and tokens in ordered maps behind locks. Correct under concurrent
//! use (every method takes the lock once, so each is atomic); keeps nothing across restarts.
//! Locks are always taken in the order spaces, tokens, deleted spaces, events, so methods that
//! take several (an import, a space's deletion) cannot deadlock with the others. Console sessions live in a file of their own,
//! behind a lock that no other method takes.

mod keys;
mod sessions;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_domain::{
    leaves_an_active_instance_admin, ApiToken, AuditEvent, Ended, EventId, NotActive, Space,
    SpaceId, SpaceName, TokenId, TokenScope,
};

use crate::error::StoreError;
use crate::ports::{
    AuditRepository, DeleteOutcome, ImportError, InstanceRevocation, ListOrder, RenameOutcome,
    RotateOutcome, Rotation, SpaceRepository, StoreHealth, StoreTransfer, SuspendOutcome,
    Suspension, TokenQuery, TokenRepository, TokenUse, Update, UpdateOutcome,
};
use crate::store_contents::StoreContents;

pub use keys::InMemoryServerKeyRepository;
pub use sessions::InMemorySessionRepository;

fn after<K: Ord + Copy>(key: Option<K>) -> (Bound<K>, Bound<K>) {
    (
        key.map_or(Bound::Unbounded, Bound::Excluded),
        Bound::Unbounded,
    )
}

fn before<K: Ord + Copy>(key: Option<K>) -> (Bound<K>, Bound<K>) {
    (
        Bound::Unbounded,
        key.map_or(Bound::Unbounded, Bound::Excluded),
    )
}

/// Spaces in memory. Deleting a space revokes its tokens in the [`InMemoryTokenRepository`]
/// it was given, and records the space's events in that repository's audit log.
#[derive(Debug, Default)]
pub struct InMemorySpaceRepository {
    spaces: RwLock<BTreeMap<SpaceId, Space>>,
    tokens: Arc<InMemoryTokenRepository>,
}

impl InMemorySpaceRepository {
    /// An empty repository, with a token repository of its own (whose tokens a deletion
    /// revokes).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty repository whose deletions revoke the tokens of `tokens`, and whose events go
    /// to its audit log.
    #[must_use]
    pub fn with_tokens(tokens: Arc<InMemoryTokenRepository>) -> Self {
        Self {
            spaces: RwLock::default(),
            tokens,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<SpaceId, Space>> {
        self.spaces.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every space, deleted or not, past `after_id`: what an export reads.
    fn all(&self, after_id: Option<SpaceId>, limit: usize) -> Vec<Space> {
        let spaces = self.spaces.read().unwrap_or_else(PoisonError::into_inner);
        spaces
            .range(after(after_id))
            .take(limit)
            .map(|(_, s)| s.clone())
            .collect()
    }
}

#[async_trait]
impl SpaceRepository for InMemorySpaceRepository {
    async fn insert(&self, space: &Space) -> Result<(), StoreError> {
        let mut spaces = self.spaces.write().unwrap_or_else(PoisonError::into_inner);
        if spaces.contains_key(&space.id) {
            return Err(StoreError::Failed("a space with this id exists".into()));
        }
        spaces.insert(space.id, space.clone());
        Ok(())
    }

    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        Ok(self
            .spaces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned())
    }

    async fn list(
        &self,
        after_id: Option<SpaceId>,
        limit: usize,
    ) -> Result<Vec<Space>, StoreError> {
        let spaces = self.spaces.read().unwrap_or_else(PoisonError::into_inner);
        Ok(spaces
            .range(after(after_id))
            .map(|(_, s)| s)
            .filter(|s| !s.is_deleted())
            .take(limit)
            .cloned()
            .collect())
    }

    async fn rename(
        &self,
        id: SpaceId,
        name: &SpaceName,
        event: &AuditEvent,
    ) -> Result<RenameOutcome, StoreError> {
        let mut spaces = self.write();
        let Some(space) = spaces.get_mut(&id) else {
            return Ok(RenameOutcome::NotFound);
        };
        match space.rename(name.clone()) {
            Err(_) => Ok(RenameOutcome::NotFound),
            Ok(changed) => {
                if changed {
                    self.tokens.audit.write().insert(event.id, event.clone());
                }
                Ok(RenameOutcome::Done {
                    space: space.clone(),
                    changed,
                })
            }
        }
    }

    async fn delete(
        &self,
        id: SpaceId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut spaces = self.write();
        let Some(space) = spaces.get_mut(&id) else {
            return Ok(DeleteOutcome::NotFound);
        };
        if !space.delete(at) {
            return Ok(DeleteOutcome::AlreadyDeleted);
        }
        let revoked = self.tokens.close_space(id, at, event);
        Ok(DeleteOutcome::Deleted { revoked })
    }
}

/// Audit events in memory.
#[derive(Debug, Default)]
pub struct InMemoryAuditRepository {
    events: RwLock<BTreeMap<EventId, AuditEvent>>,
}

impl InMemoryAuditRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<EventId, AuditEvent>> {
        self.events.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AuditRepository for InMemoryAuditRepository {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.write().insert(event.id, event.clone());
        Ok(())
    }

    async fn list(
        &self,
        space_id: SpaceId,
        before: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let events = self.events.read().unwrap_or_else(PoisonError::into_inner);
        Ok(events
            .range(self::before(before))
            .rev()
            .map(|(_, e)| e)
            .filter(|e| e.space_id == Some(space_id))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// Tokens in memory, recording their creations, rotations and revocations in an
/// [`InMemoryAuditRepository`]. Each method holds the token lock for its whole change, and the
/// event lock inside it, so a reader never sees half of one.
#[derive(Debug, Default)]
pub struct InMemoryTokenRepository {
    tokens: RwLock<BTreeMap<TokenId, ApiToken>>,
    /// Spaces deleted through an [`InMemorySpaceRepository`] over this repository: no token is
    /// added to them any more. Taken after `tokens`, under its write lock.
    deleted_spaces: RwLock<BTreeSet<SpaceId>>,
    audit: Arc<InMemoryAuditRepository>,
}

impl InMemoryTokenRepository {
    /// An empty repository with an audit log of its own.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty repository recording its events in `audit`.
    #[must_use]
    pub fn with_audit(audit: Arc<InMemoryAuditRepository>) -> Self {
        Self {
            tokens: RwLock::default(),
            deleted_spaces: RwLock::default(),
            audit,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<TokenId, ApiToken>> {
        self.tokens.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `token`'s space was deleted; to be asked under the tokens' write lock, so that
    /// the answer holds until the write is done.
    fn in_deleted_space(&self, token: &ApiToken) -> bool {
        token.space_id().is_some_and(|space| {
            self.deleted_spaces
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&space)
        })
    }

    /// A space's deletion, on the tokens' side: no token is added to `space_id` from now on,
    /// each of its tokens not revoked yet is revoked at `at`, and `event` is recorded, all
    /// under one lock. Returns the revoked tokens' ids, ascending.
    fn close_space(
        &self,
        space_id: SpaceId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Vec<TokenId> {
        let mut tokens = self.write();
        self.deleted_spaces
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(space_id);
        let revoked = tokens
            .values_mut()
            .filter(|t| t.space_id() == Some(space_id))
            .filter_map(|t| t.revoke(at).then(|| t.id()))
            .collect();
        self.audit.write().insert(event.id, event.clone());
        revoked
    }
}

#[async_trait]
impl TokenRepository for InMemoryTokenRepository {
    async fn insert(&self, token: &ApiToken, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tokens = self.write();
        if tokens.contains_key(&token.id()) || self.in_deleted_space(token) {
            return Ok(false);
        }
        tokens.insert(token.id(), token.clone());
        self.audit.write().insert(event.id, event.clone());
        Ok(true)
    }

    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
        Ok(self
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned())
    }

    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        let page = |listed: &mut dyn Iterator<Item = &ApiToken>| {
            listed
                .filter(|t| t.space_id() == Some(query.space_id))
                .filter(|t| query.level.is_none_or(|level| t.level() == level))
                .filter(|t| query.statuses.contains(t.status_at(query.now)))
                .filter(|t| {
                    query
                        .name
                        .as_ref()
                        .is_none_or(|search| search.matches(t.name().as_str()))
                })
                .take(query.limit)
                .cloned()
                .collect()
        };
        Ok(match query.order {
            ListOrder::OldestFirst => page(&mut tokens.range(after(query.after)).map(|(_, t)| t)),
            ListOrder::NewestFirst => {
                page(&mut tokens.range(before(query.after)).rev().map(|(_, t)| t))
            }
        })
    }

    async fn revoke(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tokens = self.write();
        let Some(token) = tokens.get_mut(&id) else {
            return Ok(None);
        };
        if token.revoke(at) {
            self.audit.write().insert(event.id, event.clone());
        }
        Ok(Some(token.clone()))
    }

    async fn set_suspended(
        &self,
        id: TokenId,
        suspension: Suspension,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<SuspendOutcome, StoreError> {
        let mut tokens = self.write();
        let Some(token) = tokens.get_mut(&id) else {
            return Ok(SuspendOutcome::NotFound);
        };
        let mut changed_token = token.clone();
        match suspension.apply(&mut changed_token, at) {
            Err(Ended(status)) => Ok(SuspendOutcome::Ended(status)),
            Ok(changed) => {
                if changed {
                    *token = changed_token;
                    self.audit.write().insert(event.id, event.clone());
                }
                Ok(SuspendOutcome::Done {
                    token: Box::new(token.clone()),
                    changed,
                })
            }
        }
    }

    async fn update(&self, update: &Update) -> Result<UpdateOutcome, StoreError> {
        let mut tokens = self.write();
        let Some(token) = tokens.get_mut(&update.id) else {
            return Ok(UpdateOutcome::NotFound);
        };
        let mut updated = token.clone();
        match update.apply(&mut updated) {
            Err(refused) => Ok(UpdateOutcome::Refused(refused)),
            Ok(changed) => {
                if !changed.is_empty() {
                    *token = updated;
                    let event = update.event_for(changed);
                    self.audit.write().insert(event.id, event);
                }
                Ok(UpdateOutcome::Done {
                    token: Box::new(token.clone()),
                    changed,
                })
            }
        }
    }

    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, StoreError> {
        let mut tokens = self.write();
        let new_id = rotation.new_token.id();
        let Some(old) = tokens.get(&rotation.old_id) else {
            return Ok(RotateOutcome::NotFound);
        };
        if self.in_deleted_space(old) {
            return Ok(RotateOutcome::NotFound);
        }
        if let Err(NotActive(status)) = old.can_rotate_at(rotation.now) {
            return Ok(RotateOutcome::NotActive(status));
        }
        if tokens.contains_key(&new_id) {
            return Err(StoreError::Failed(
                "a token with the new token's id exists".into(),
            ));
        }
        let Some(old) = tokens.get_mut(&rotation.old_id) else {
            return Ok(RotateOutcome::NotFound);
        };
        if let Err(NotActive(status)) = old.rotate(new_id, rotation.now, rotation.grace_period) {
            return Ok(RotateOutcome::NotActive(status));
        }
        let rotated = old.clone();
        tokens.insert(new_id, rotation.new_token.clone());
        self.audit
            .write()
            .insert(rotation.event.id, rotation.event.clone());
        Ok(RotateOutcome::Rotated(Box::new(rotated)))
    }

    async fn record_uses(&self, uses: &[TokenUse]) -> Result<(), StoreError> {
        let mut tokens = self.write();
        for used in uses {
            if let Some(token) = tokens.get_mut(&used.id) {
                used.apply(token);
            }
        }
        Ok(())
    }

    async fn any_instance_admin(&self) -> Result<bool, StoreError> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        Ok(tokens.values().any(|t| t.scope() == TokenScope::Instance))
    }

    async fn instance_admins(&self) -> Result<Vec<ApiToken>, StoreError> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        Ok(tokens
            .values()
            .filter(|t| t.scope() == TokenScope::Instance)
            .cloned()
            .collect())
    }

    async fn revoke_instance_admin(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<InstanceRevocation, StoreError> {
        // One write lock for the check and the revocation: no other change comes between.
        let mut tokens = self.write();
        let Some(target) = tokens
            .get(&id)
            .filter(|t| t.scope() == TokenScope::Instance)
        else {
            return Ok(InstanceRevocation::NotFound);
        };
        let instance = tokens
            .values()
            .filter(|t| t.scope() == TokenScope::Instance);
        if !leaves_an_active_instance_admin(target, instance, at) {
            return Ok(InstanceRevocation::LastActive);
        }
        let Some(token) = tokens.get_mut(&id) else {
            return Ok(InstanceRevocation::NotFound);
        };
        if token.revoke(at) {
            self.audit.write().insert(event.id, event.clone());
        }
        Ok(InstanceRevocation::Revoked(Box::new(token.clone())))
    }
}

/// The in-memory repositories over one store, for wiring a whole core in one line.
#[derive(Debug, Clone)]
pub struct InMemoryStore {
    /// The spaces.
    pub spaces: Arc<InMemorySpaceRepository>,
    /// The tokens, recording their events in `events`.
    pub tokens: Arc<InMemoryTokenRepository>,
    /// The audit events.
    pub events: Arc<InMemoryAuditRepository>,
    /// The console sessions (not part of an export or import).
    pub sessions: Arc<InMemorySessionRepository>,
    /// The server's keys (not part of an export or import).
    pub keys: Arc<InMemoryServerKeyRepository>,
}

impl InMemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        let events = Arc::new(InMemoryAuditRepository::new());
        let tokens = Arc::new(InMemoryTokenRepository::with_audit(events.clone()));
        Self {
            spaces: Arc::new(InMemorySpaceRepository::with_tokens(tokens.clone())),
            tokens,
            events,
            sessions: Arc::new(InMemorySessionRepository::new()),
            keys: Arc::new(InMemoryServerKeyRepository::new()),
        }
    }
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl StoreHealth for InMemoryStore {
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl StoreTransfer for InMemoryStore {
    async fn export_spaces(
        &self,
        after_id: Option<SpaceId>,
        limit: usize,
    ) -> Result<Vec<Space>, StoreError> {
        Ok(self.spaces.all(after_id, limit))
    }

    async fn export_tokens(
        &self,
        after_id: Option<TokenId>,
        limit: usize,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let tokens = self
            .tokens
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(tokens
            .range(after(after_id))
            .take(limit)
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn export_events(
        &self,
        after_id: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let events = self
            .events
            .events
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(events
            .range(after(after_id))
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn import(&self, contents: &StoreContents) -> Result<(), ImportError> {
        // All three locks at once, in the module's order: nothing can write between the
        // emptiness check and the import, and a reader sees all of it or none.
        let mut spaces = self
            .spaces
            .spaces
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut tokens = self.tokens.write();
        let mut events = self.events.write();
        if !(spaces.is_empty() && tokens.is_empty() && events.is_empty()) {
            return Err(ImportError::NotEmpty);
        }
        spaces.extend(contents.spaces().iter().map(|s| (s.id, s.clone())));
        self.tokens
            .deleted_spaces
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(
                contents
                    .spaces()
                    .iter()
                    .filter(|s| s.is_deleted())
                    .map(|s| s.id),
            );
        tokens.extend(contents.tokens().iter().map(|t| (t.id(), t.clone())));
        events.extend(contents.events().iter().map(|e| (e.id, e.clone())));
        Ok(())
    }
}
