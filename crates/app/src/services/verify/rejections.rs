//! Rejected uses of revoked or expired tokens, recorded as audit events at most once per token
//! per interval: a flood of a revoked token must not become a flood of writes.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tollgate_domain::{AuditAction, CreatedBy, TokenId, TokenIdentity};

use crate::ports::AuditRepository;
use crate::services::issuer::EventStamp;

/// How often at most one token's rejected uses are recorded.
const REJECTION_EVENT_INTERVAL: Duration = Duration::from_secs(60);

pub(super) struct Rejections {
    events: Arc<dyn AuditRepository>,
    stamp: EventStamp,
    recent: Cache<TokenId, ()>,
}

impl Rejections {
    pub(super) fn new(events: Arc<dyn AuditRepository>, stamp: EventStamp) -> Self {
        Self {
            events,
            stamp,
            recent: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(REJECTION_EVENT_INTERVAL)
                .build(),
        }
    }

    /// Records that `token`, revoked or expired, was presented, unless it was recorded within
    /// the interval. A failure to record is logged, never the caller's problem.
    pub(super) async fn record(&self, token: &TokenIdentity) {
        let id = token.id();
        if self.recent.contains_key(&id) {
            return;
        }
        self.recent.insert(id, ());
        let event = self.stamp.event_about_identity(
            AuditAction::TokenRejected,
            CreatedBy::Token(id),
            token,
        );
        if let Err(error) = self.events.record(&event).await {
            tracing::warn!(token_id = %id, error = &error as &dyn std::error::Error, "could not record a rejected use");
        }
    }
}
