//! News of revocations made by other nodes sharing the store, so each node can drop its cached
//! verifications.

use async_trait::async_trait;
use tollgate_domain::TokenId;

/// What a [`RevocationFeed`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationEvent {
    /// A token was revoked (or otherwise stopped working) somewhere.
    Revoked(TokenId),
    /// The feed lost its connection and may have missed revocations; it reconnects by itself on
    /// the next call. The node must forget every cached verification.
    Lost,
    /// The feed listens now, for the first time or again after [`RevocationEvent::Lost`]:
    /// revocations made before this point were not reported. The node must forget every
    /// cached verification, but nothing is wrong (a healthy start reports this once).
    Listening,
}

/// A stream of revocations from every node.
#[async_trait]
pub trait RevocationFeed: Send {
    /// Waits for the next event. MUST report [`RevocationEvent::Lost`] whenever events may have
    /// been missed (the connection dropped), and MUST NOT return before it has either an event
    /// or a loss to report.
    async fn next(&mut self) -> RevocationEvent;
}

#[async_trait]
impl<F: RevocationFeed + ?Sized> RevocationFeed for Box<F> {
    async fn next(&mut self) -> RevocationEvent {
        (**self).next().await
    }
}
