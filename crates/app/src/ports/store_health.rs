//! Whether the store answers, for readiness probes.

use async_trait::async_trait;

use crate::error::StoreError;

/// Reports whether the store can serve requests now.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Checks the store with the cheapest possible round trip.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it cannot be reached.
    async fn check(&self) -> Result<(), StoreError>;
}
