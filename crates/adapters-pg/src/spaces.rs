//! [`SpaceRepository`] on the `spaces` table: a deletion also revokes the space's tokens in
//! `api_tokens` and records its event in `audit_events`, in one transaction.

use async_trait::async_trait;
use sqlx::Postgres;
use time::OffsetDateTime;
use tollgate_app::ports::{DeleteOutcome, RenameOutcome, SpaceRepository};
use tollgate_app::StoreError;
use tollgate_domain::{AuditEvent, Space, SpaceId, SpaceName, TokenId};
use uuid::Uuid;

use crate::audit::{event_write_error, RECORD};
use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::{event_columns, space_columns, SpaceRow};
use crate::values::bind_event;
use crate::PgStore;

pub(crate) const INSERT: &str = "INSERT INTO spaces (id, name, created_at) VALUES ($1, $2, $3)";
pub(crate) const GET: &str = concat!("SELECT ", space_columns!(), " FROM spaces WHERE id = $1");
/// The living spaces: `spaces_living_id_idx`, whose predicate is written literally.
pub(crate) const LIST_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE deleted_at IS NULL ORDER BY id LIMIT $1"
);
pub(crate) const LIST_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
);
/// The first statement of a rename or a deletion: locks the space for the rest of the
/// transaction. `FOR NO KEY UPDATE` conflicts with the `FOR SHARE` that a token's insert and a
/// rotation take on their space ([`LOCK_LIVING_SPACE`]), so a deletion waits for a token being
/// added and then revokes it, or the token's write waits for the deletion and then finds the
/// space deleted.
pub(crate) const LOCK: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE id = $1 FOR NO KEY UPDATE"
);
/// A rotation's first statement: the living space of the tokens, locked against a deletion
/// until the transaction ends (see [`LOCK`]). No row: the space was deleted.
pub(crate) const LOCK_LIVING_SPACE: &str =
    "SELECT id FROM spaces WHERE id = $1 AND deleted_at IS NULL FOR SHARE";
/// A rename, once the domain applied it to the locked row, with its event (`$3` to `$10`).
pub(crate) const RENAME: &str = concat!(
    "WITH renamed AS (UPDATE spaces SET name = $2 WHERE id = $1 RETURNING ",
    space_columns!(),
    "), logged AS (INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES ($3, $4, $5, $6, $7, $8, $9, $10)) SELECT ",
    space_columns!(),
    " FROM renamed"
);
pub(crate) const MARK_DELETED: &str = "UPDATE spaces SET deleted_at = $2 WHERE id = $1";
/// Revokes at `$2` every token of space `$1` not revoked yet, as `ApiToken::revoke` does (the
/// first revocation time is kept), in one statement. The rows are locked in id order first,
/// as a batch of uses locks them, so the two cannot deadlock. Each changed row fires the
/// trigger that tells every node to forget the token.
pub(crate) const REVOKE_SPACE_TOKENS: &str = "\
    WITH locked AS (SELECT id FROM api_tokens WHERE space_id = $1 AND revoked_at IS NULL \
    ORDER BY id FOR NO KEY UPDATE) \
    UPDATE api_tokens t SET revoked_at = $2 FROM locked WHERE t.id = locked.id RETURNING t.id";

/// A page size as Postgres's `LIMIT` takes it.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl SpaceRepository for PgStore {
    #[tracing::instrument(name = "pg.insert_space", level = "debug", skip_all, fields(space_id = %space.id))]
    async fn insert(&self, space: &Space) -> Result<(), StoreError> {
        let inserted = sqlx::query(INSERT)
            .bind(space.id.as_uuid())
            .bind(space.name.as_str())
            .bind(space.created_at)
            .execute(self.pool())
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if violated_constraint(&e) == Some(constraint::SPACES_PKEY) => Err(
                StoreError::Failed(format!("a space with id {} exists already", space.id).into()),
            ),
            Err(e) => Err(store_error(e)),
        }
    }

    #[tracing::instrument(name = "pg.get_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        sqlx::query_as::<_, SpaceRow>(GET)
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .map(Space::try_from)
            .transpose()
    }

    #[tracing::instrument(
        name = "pg.list_spaces",
        level = "debug",
        skip_all,
        fields(after = after.map(tracing::field::display), limit)
    )]
    async fn list(&self, after: Option<SpaceId>, limit: usize) -> Result<Vec<Space>, StoreError> {
        let query = match after {
            None => sqlx::query_as::<_, SpaceRow>(LIST_FIRST).bind(sql_limit(limit)),
            Some(after) => sqlx::query_as::<_, SpaceRow>(LIST_AFTER)
                .bind(after.as_uuid())
                .bind(sql_limit(limit)),
        };
        query
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Space::try_from)
            .collect()
    }

    #[tracing::instrument(name = "pg.rename_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn rename(
        &self,
        id: SpaceId,
        name: &SpaceName,
        event: &AuditEvent,
    ) -> Result<RenameOutcome, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let Some(mut space) = lock(&mut tx, id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(RenameOutcome::NotFound);
        };
        // The domain's transition, on the row as locked.
        let outcome = match space.rename(name.clone()) {
            Err(_) => RenameOutcome::NotFound,
            Ok(false) => RenameOutcome::Done {
                space,
                changed: false,
            },
            Ok(true) => {
                let query = sqlx::query_as::<_, SpaceRow>(RENAME)
                    .bind(id.as_uuid())
                    .bind(space.name.as_str());
                let row = bind_event(query, event)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| event_write_error(e, event))?;
                RenameOutcome::Done {
                    space: Space::try_from(row)?,
                    changed: true,
                }
            }
        };
        tx.commit().await.map_err(store_error)?;
        Ok(outcome)
    }

    #[tracing::instrument(name = "pg.delete_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn delete(
        &self,
        id: SpaceId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let Some(mut space) = lock(&mut tx, id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(DeleteOutcome::NotFound);
        };
        if !space.delete(at) {
            tx.rollback().await.map_err(store_error)?;
            return Ok(DeleteOutcome::AlreadyDeleted);
        }
        sqlx::query(MARK_DELETED)
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let mut revoked: Vec<Uuid> = sqlx::query_scalar(REVOKE_SPACE_TOKENS)
            .bind(id.as_uuid())
            .bind(at)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        bind_event(sqlx::query(RECORD), event)
            .execute(&mut *tx)
            .await
            .map_err(|e| event_write_error(e, event))?;
        tx.commit().await.map_err(store_error)?;
        revoked.sort_unstable();
        Ok(DeleteOutcome::Deleted {
            revoked: revoked.into_iter().map(TokenId::from_uuid).collect(),
        })
    }
}

/// Reads and locks space `id` for the rest of `tx` ([`LOCK`]).
async fn lock(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    id: SpaceId,
) -> Result<Option<Space>, StoreError> {
    sqlx::query_as::<_, SpaceRow>(LOCK)
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)?
        .map(Space::try_from)
        .transpose()
}
