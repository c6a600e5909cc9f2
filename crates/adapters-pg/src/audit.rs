//! [`AuditRepository`] on the `audit_events` table. The events of creations, rotations and
//! revocations are written by [`TokenRepository`](tollgate_app::ports::TokenRepository) in the
//! same statement or transaction as the change; this records the others (rejected uses) and
//! reads them all.

use async_trait::async_trait;
use tollgate_app::ports::AuditRepository;
use tollgate_app::StoreError;
use tollgate_domain::{AuditEvent, EventId, SpaceId};

use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::{event_columns, EventRow};
use crate::spaces::sql_limit;
use crate::values::bind_event;
use crate::PgStore;

pub(crate) const RECORD: &str = concat!(
    "INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);
/// The newest page of a space's events: `audit_events_space_id_id_idx` read backwards.
pub(crate) const LIST_FIRST: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE space_id = $1 ORDER BY id DESC LIMIT $2"
);
/// The page before a cursor (ids are UUID v7, so older events have lower ids).
pub(crate) const LIST_BEFORE: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE space_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
);

/// Classifies a failed write of `event`: the constraints a caller can meet become errors in the
/// adapter's own words.
pub(crate) fn event_write_error(err: sqlx::Error, event: &AuditEvent) -> StoreError {
    match violated_constraint(&err) {
        Some(constraint::EVENTS_PKEY) => {
            StoreError::Failed(format!("an audit event with id {} exists already", event.id).into())
        }
        Some(constraint::EVENTS_SPACE_FKEY) => {
            let space = event
                .space_id
                .map_or_else(|| "(none)".to_owned(), |id| id.to_string());
            StoreError::Failed(
                format!("audit event {}: space {space} does not exist", event.id).into(),
            )
        }
        _ => store_error(err),
    }
}

#[async_trait]
impl AuditRepository for PgStore {
    #[tracing::instrument(
        name = "pg.record_event",
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
        let recorded = bind_event(sqlx::query(RECORD), event)
            .execute(self.pool())
            .await;
        recorded.map(drop).map_err(|e| event_write_error(e, event))
    }

    #[tracing::instrument(
        name = "pg.list_events",
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
        query
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect()
    }
}
