//! [`AuditRepository`] on the `audit_events` table. The events of creations, rotations and
//! revocations are written by [`TokenRepository`](tollgate_app::ports::TokenRepository) in the
//! same transaction as the change; this records the others (rejected uses) and reads them all.

use async_trait::async_trait;
use sqlx::{Executor, Sqlite};
use tollgate_app::ports::AuditRepository;
use tollgate_app::StoreError;
use tollgate_domain::{AuditEvent, EventId, SpaceId};

use crate::error::{store_error, write_error};
use crate::rows::{bind_event, convert, event_columns, sql_limit, EventRow};
use crate::SqliteStore;

const RECORD: &str = concat!(
    "INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
);
/// The newest page of a space's events: `audit_events_space_id_id_idx` read backwards.
const LIST_FIRST: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE space_id = ? ORDER BY id DESC LIMIT ?"
);
/// The page before a cursor (ids are UUID v7, so older events have lower ids).
const LIST_BEFORE: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE space_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
);

/// Records `event` with `executor` (the writer, or a transaction of it).
pub(crate) async fn record<'e, E: Executor<'e, Database = Sqlite>>(
    executor: E,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    bind_event(sqlx::query(RECORD), event)
        .execute(executor)
        .await
        .map(drop)
        .map_err(|e| {
            write_error(
                e,
                || format!("an audit event with id {} exists already", event.id),
                || {
                    let space = event
                        .space_id
                        .map_or_else(|| "(none)".to_owned(), |id| id.to_string());
                    format!("audit event {}: space {space} does not exist", event.id)
                },
            )
        })
}

#[async_trait]
impl AuditRepository for SqliteStore {
    #[tracing::instrument(
        name = "sqlite.record_event",
        level = "debug",
        skip_all,
        fields(
            event_id = %event.id,
            action = event.action.as_str(),
            token_id = event.token_id.map(tracing::field::display),
            space_id = event.space_id.map(tracing::field::display),
        )
    )]
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        record(self.writer(), event).await
    }

    #[tracing::instrument(
        name = "sqlite.list_events",
        level = "debug",
        skip_all,
        fields(space_id = %space_id, before = before.map(tracing::field::display), limit)
    )]
    async fn list(
        &self,
        space_id: SpaceId,
        before: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let query = match before {
            None => sqlx::query_as::<_, EventRow>(LIST_FIRST)
                .bind(space_id.as_uuid())
                .bind(sql_limit(limit)),
            Some(before) => sqlx::query_as::<_, EventRow>(LIST_BEFORE)
                .bind(space_id.as_uuid())
                .bind(before.as_uuid())
                .bind(sql_limit(limit)),
        };
        convert(query.fetch_all(self.readers()).await.map_err(store_error)?)
    }
}
