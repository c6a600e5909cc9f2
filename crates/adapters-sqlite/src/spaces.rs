//! [`SpaceRepository`] on the `spaces` table.

use async_trait::async_trait;
use tollgate_app::ports::SpaceRepository;
use tollgate_app::StoreError;
use tollgate_domain::{Space, SpaceId};

use crate::error::{store_error, write_error};
use crate::rows::{convert, space_columns, sql_limit, Micros, SpaceRow};
use crate::SqliteStore;

const INSERT: &str = "INSERT INTO spaces (id, name, created_at) VALUES (?, ?, ?)";
const GET: &str = concat!("SELECT ", space_columns!(), " FROM spaces WHERE id = ?");
const LIST_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces ORDER BY id LIMIT ?"
);
const LIST_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE id > ? ORDER BY id LIMIT ?"
);

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
}

/// The message for a foreign key that a table does not have.
pub(crate) fn unreachable_foreign_key(table: &str) -> String {
    format!("{table}: a foreign key failed that the schema does not declare")
}
