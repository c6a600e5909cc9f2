//! [`SpaceRepository`] on the `spaces` table: a deletion also revokes the space's tokens in
//! `api_tokens` and records its event in `audit_events`, in one write transaction.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use tollgate_app::ports::{DeleteOutcome, RenameOutcome, SpaceRepository};
use tollgate_app::StoreError;
use tollgate_domain::{AuditEvent, Space, SpaceId, SpaceName, TokenId};
use uuid::Uuid;

use crate::audit;
use crate::error::{store_error, write_error};
use crate::rows::{convert, space_columns, sql_limit, Micros, SpaceRow};
use crate::SqliteStore;

const INSERT: &str = "INSERT INTO spaces (id, name, created_at) VALUES (?, ?, ?)";
pub(crate) const GET: &str = concat!("SELECT ", space_columns!(), " FROM spaces WHERE id = ?");
/// The living spaces: `spaces_living_id_idx`, whose predicate is written literally.
const LIST_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE deleted_at IS NULL ORDER BY id LIMIT ?"
);
const LIST_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?"
);
const RENAME: &str = concat!(
    "UPDATE spaces SET name = ? WHERE id = ? RETURNING ",
    space_columns!()
);
const MARK_DELETED: &str = "UPDATE spaces SET deleted_at = ? WHERE id = ?";
/// Revokes every token of a space not revoked yet, as `ApiToken::revoke` does (the first
/// revocation time is kept), in one statement; each changed row fires `api_tokens_changed`.
const REVOKE_SPACE_TOKENS: &str =
    "UPDATE api_tokens SET revoked_at = ?1 WHERE space_id = ?2 AND revoked_at IS NULL RETURNING id";
const LIVING: &str = "SELECT EXISTS (SELECT 1 FROM spaces WHERE id = ? AND deleted_at IS NULL)";

/// Whether `space_id` is a living space, asked inside `tx`, which holds the write lock: the
/// answer holds until `tx` ends, so no token is added to a space deleted meanwhile.
pub(crate) async fn is_living(
    tx: &mut Transaction<'static, Sqlite>,
    space_id: SpaceId,
) -> Result<bool, StoreError> {
    sqlx::query_scalar::<_, bool>(LIVING)
        .bind(space_id.as_uuid())
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)
}

/// Reads space `id` inside `tx`, which holds the write lock.
async fn read(
    tx: &mut Transaction<'static, Sqlite>,
    id: SpaceId,
) -> Result<Option<Space>, StoreError> {
    sqlx::query_as::<_, SpaceRow>(GET)
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)?
        .map(Space::try_from)
        .transpose()
}

#[async_trait]
impl SpaceRepository for SqliteStore {
    #[tracing::instrument(name = "sqlite.insert_space", level = "debug", skip_all, fields(space_id = %space.id))]
    async fn insert(&self, space: &Space) -> Result<(), StoreError> {
        sqlx::query(INSERT)
            .bind(space.id.as_uuid())
            .bind(space.name.as_str())
            .bind(Micros::of(space.created_at))
            .execute(self.writer())
            .await
            .map(drop)
            .map_err(|e| {
                write_error(
                    e,
                    || format!("a space with id {} exists already", space.id),
                    || unreachable_foreign_key("spaces"),
                )
            })
    }

    #[tracing::instrument(name = "sqlite.get_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn get(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        sqlx::query_as::<_, SpaceRow>(GET)
            .bind(id.as_uuid())
            .fetch_optional(self.readers())
            .await
            .map_err(store_error)?
            .map(Space::try_from)
            .transpose()
    }

    #[tracing::instrument(
        name = "sqlite.list_spaces",
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
        convert(query.fetch_all(self.readers()).await.map_err(store_error)?)
    }

    #[tracing::instrument(name = "sqlite.rename_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn rename(
        &self,
        id: SpaceId,
        name: &SpaceName,
        event: &AuditEvent,
    ) -> Result<RenameOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut space) = read(&mut tx, id).await? else {
            return Ok(RenameOutcome::NotFound);
        };
        // The domain's transition, on the row as read under the write lock.
        match space.rename(name.clone()) {
            Err(_) => Ok(RenameOutcome::NotFound),
            Ok(false) => Ok(RenameOutcome::Done {
                space,
                changed: false,
            }),
            Ok(true) => {
                let row = sqlx::query_as::<_, SpaceRow>(RENAME)
                    .bind(space.name.as_str())
                    .bind(id.as_uuid())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                let stored = Space::try_from(row)?;
                audit::record(&mut *tx, event).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(RenameOutcome::Done {
                    space: stored,
                    changed: true,
                })
            }
        }
    }

    #[tracing::instrument(name = "sqlite.delete_space", level = "debug", skip_all, fields(space_id = %id))]
    async fn delete(
        &self,
        id: SpaceId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut space) = read(&mut tx, id).await? else {
            return Ok(DeleteOutcome::NotFound);
        };
        if !space.delete(at) {
            return Ok(DeleteOutcome::AlreadyDeleted);
        }
        sqlx::query(MARK_DELETED)
            .bind(Micros::of(at))
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let mut revoked: Vec<Uuid> = sqlx::query_scalar(REVOKE_SPACE_TOKENS)
            .bind(Micros::of(at))
            .bind(id.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        audit::record(&mut *tx, event).await?;
        tx.commit().await.map_err(store_error)?;
        revoked.sort_unstable();
        Ok(DeleteOutcome::Deleted {
            revoked: revoked.into_iter().map(TokenId::from_uuid).collect(),
        })
    }
}

/// The message for a foreign key that a table does not have.
pub(crate) fn unreachable_foreign_key(table: &str) -> String {
    format!("{table}: a foreign key failed that the schema does not declare")
}
