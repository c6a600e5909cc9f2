//! [`SqliteChangeFeed`]: changes to tokens made by any writer of the file, for the running
//! server's verification cache.
//!
//! SQLite has no LISTEN/NOTIFY. The schema's triggers append the id of every token whose
//! revocation, expiry or rotation changed (or that was deleted) to `token_changes`, whoever
//! wrote it: this server, another `tollgate` command on the same file, or a hand-written
//! `UPDATE`. The feed reads what is new every [`POLL_INTERVAL`] (one indexed read of an
//! almost always empty range) and deletes what it has read, so the table stays small.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use tollgate_app::ports::{RevocationEvent, RevocationFeed};
use tollgate_app::telemetry::RevocationListenerMetrics;
use tollgate_app::StoreError;
use tollgate_domain::TokenId;
use uuid::Uuid;

use crate::error::store_error;
use crate::SqliteStore;

/// How often the feed looks for changes: a change by another process reaches this server's
/// cache within this, plus the time of one read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The most changes read at once.
const BATCH: i64 = 1000;

const LAST: &str = "SELECT coalesce(max(seq), 0) FROM token_changes";
const NEW: &str = "SELECT seq, token_id FROM token_changes WHERE seq > ? ORDER BY seq LIMIT ?";
const READ: &str = "DELETE FROM token_changes WHERE seq <= ?";

/// A [`RevocationFeed`] over a SQLite file's change log. It counts as the revocation listener
/// in the metrics: up while the log can be read, reconnected when it can be read again.
#[derive(Debug)]
pub struct SqliteChangeFeed {
    readers: SqlitePool,
    writer: SqlitePool,
    /// The last change seen.
    seen: i64,
    /// Changes read but not yet reported.
    pending: VecDeque<TokenId>,
    /// Whether the last read failed (reported once as [`RevocationEvent::Lost`]).
    failing: bool,
    metrics: RevocationListenerMetrics,
}

impl SqliteChangeFeed {
    /// A feed of the changes made from now on.
    ///
    /// # Errors
    /// [`StoreError`] if the change log cannot be read.
    pub async fn new(store: &SqliteStore) -> Result<Self, StoreError> {
        let seen = sqlx::query_scalar::<_, i64>(LAST)
            .fetch_one(store.readers())
            .await
            .map_err(store_error)?;
        let mut metrics = RevocationListenerMetrics::new();
        metrics.listening();
        Ok(Self {
            readers: store.readers().clone(),
            writer: store.writer().clone(),
            seen,
            pending: VecDeque::new(),
            failing: false,
            metrics,
        })
    }

    /// Reads the changes after the last one seen into `pending`.
    async fn read_new(&mut self) -> Result<(), StoreError> {
        let rows = sqlx::query_as::<_, (i64, Uuid)>(NEW)
            .bind(self.seen)
            .bind(BATCH)
            .fetch_all(&self.readers)
            .await
            .map_err(store_error)?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(());
        };
        self.pending
            .extend(rows.into_iter().map(|(_, id)| TokenId::from_uuid(id)));
        self.seen = last;
        // Only this server reads the log (the file serves one server), so what it has read
        // can go. A failure only leaves rows for the next time.
        if let Err(error) = sqlx::query(READ).bind(last).execute(&self.writer).await {
            tracing::debug!(%error, "could not prune the token change log");
        }
        Ok(())
    }
}

#[async_trait]
impl RevocationFeed for SqliteChangeFeed {
    async fn next(&mut self) -> RevocationEvent {
        loop {
            if let Some(id) = self.pending.pop_front() {
                return RevocationEvent::Revoked(id);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            match self.read_new().await {
                Ok(()) => {
                    if self.failing {
                        self.failing = false;
                        self.metrics.listening();
                    }
                }
                // Changes may be missed while the file cannot be read: forget everything, once
                // per outage.
                Err(error) if !self.failing => {
                    self.failing = true;
                    self.metrics.lost();
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "cannot read the token change log"
                    );
                    return RevocationEvent::Lost;
                }
                Err(_) => {}
            }
        }
    }
}
