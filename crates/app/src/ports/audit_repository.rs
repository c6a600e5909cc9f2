//! Storage of audit events.

use async_trait::async_trait;
use tollgate_domain::{AuditEvent, EventId, SpaceId};

use crate::error::StoreError;

/// Stores audit events. Creations, rotations and revocations are recorded by the
/// [`TokenRepository`](super::TokenRepository) with the change itself; this port records the
/// rest (rejected uses) and reads them all.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Records one event.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// Up to `limit` events of `space_id` with ids below `before` (all, if `None`), newest first.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails or holds an event that breaks a domain rule.
    async fn list(
        &self,
        space_id: SpaceId,
        before: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError>;
}
