//! [`SpaceRepository`] on the `spaces` table.

use async_trait::async_trait;
use tollgate_app::ports::SpaceRepository;
use tollgate_app::StoreError;
use tollgate_domain::{Space, SpaceId};

use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::{space_columns, SpaceRow};
use crate::PgStore;

pub(crate) const INSERT: &str = "INSERT INTO spaces (id, name, created_at) VALUES ($1, $2, $3)";
pub(crate) const GET: &str = concat!("SELECT ", space_columns!(), " FROM spaces WHERE id = $1");
pub(crate) const LIST_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces ORDER BY id LIMIT $1"
);
pub(crate) const LIST_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE id > $1 ORDER BY id LIMIT $2"
);

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
}
