//! [`TokenRepository`] on the `api_tokens` table.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;
use tollgate_app::ports::{TokenQuery, TokenRepository};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, TokenId};

use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::{token_columns, TokenRow};
use crate::spaces::sql_limit;
use crate::PgStore;

pub(crate) const INSERT: &str = "INSERT INTO api_tokens \
     (id, space_id, level, name, created_at, created_by, expires_at, last_used_at, revoked_at, \
      secret_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (id) DO NOTHING";
pub(crate) const GET: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE id = $1"
);
/// One statement: the row lock makes a concurrent revocation wait and then keep the first time.
pub(crate) const REVOKE: &str = concat!(
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
    token_columns!()
);
pub(crate) const ANY_INSTANCE_ADMIN: &str =
    "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE space_id IS NULL)";

/// The listing statement for `query`. Each optional filter is left out of the SQL rather than
/// written as `($n IS NULL OR ...)`, so that the generic plans Postgres caches for prepared
/// statements still use the indexes (in particular the partial index on active tokens, which
/// a plan may only use when `revoked_at IS NULL` is written literally). At most eight distinct
/// statements exist, each prepared once per connection.
pub(crate) fn list_statement(query: &TokenQuery) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::new(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE space_id = "
    ));
    sql.push_bind(query.space_id.as_uuid());
    if !query.include_revoked {
        sql.push(" AND revoked_at IS NULL");
    }
    if let Some(level) = query.level {
        sql.push(" AND level = ").push_bind(level.as_str());
    }
    if let Some(after) = query.after {
        sql.push(" AND id > ").push_bind(after.as_uuid());
    }
    sql.push(" ORDER BY id LIMIT ")
        .push_bind(sql_limit(query.limit));
    sql
}

fn to_tokens(rows: Vec<TokenRow>) -> Result<Vec<ApiToken>, StoreError> {
    rows.into_iter().map(ApiToken::try_from).collect()
}

#[async_trait]
impl TokenRepository for PgStore {
    #[tracing::instrument(
        name = "pg.insert_token",
        level = "debug",
        skip_all,
        fields(token_id = %token.id, space_id = token.space_id().map(tracing::field::display))
    )]
    async fn insert(&self, token: &ApiToken) -> Result<bool, StoreError> {
        let inserted = sqlx::query(INSERT)
            .bind(token.id.as_uuid())
            .bind(token.space_id().map(|id| id.as_uuid()))
            .bind(token.level().as_str())
            .bind(token.name.as_str())
            .bind(token.created_at)
            .bind(token.created_by.to_string())
            .bind(token.expires_at)
            .bind(token.last_used_at)
            .bind(token.revoked_at)
            .bind(token.secret_hash.as_str())
            .execute(self.pool())
            .await;
        match inserted {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if violated_constraint(&e) == Some(constraint::TOKENS_SPACE_FKEY) => {
                let space = token
                    .space_id()
                    .map_or_else(|| "(none)".to_owned(), |id| id.to_string());
                Err(StoreError::Failed(
                    format!("token {}: space {space} does not exist", token.id).into(),
                ))
            }
            Err(e) => Err(store_error(e)),
        }
    }

    #[tracing::instrument(name = "pg.get_token", level = "debug", skip_all, fields(token_id = %id))]
    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
        sqlx::query_as::<_, TokenRow>(GET)
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .map(ApiToken::try_from)
            .transpose()
    }

    #[tracing::instrument(
        name = "pg.list_tokens",
        level = "debug",
        skip_all,
        fields(
            space_id = %query.space_id,
            token_level = query.level.map(|l| l.as_str()),
            include_revoked = query.include_revoked,
            after = query.after.map(tracing::field::display),
            limit = query.limit,
        )
    )]
    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError> {
        let rows = list_statement(query)
            .build_query_as::<TokenRow>()
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        to_tokens(rows)
    }

    #[tracing::instrument(name = "pg.revoke_token", level = "debug", skip_all, fields(token_id = %id))]
    async fn revoke(
        &self,
        id: TokenId,
        at: OffsetDateTime,
    ) -> Result<Option<ApiToken>, StoreError> {
        sqlx::query_as::<_, TokenRow>(REVOKE)
            .bind(id.as_uuid())
            .bind(at)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .map(ApiToken::try_from)
            .transpose()
    }

    #[tracing::instrument(name = "pg.any_instance_admin", level = "debug", skip_all)]
    async fn any_instance_admin(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar::<_, bool>(ANY_INSTANCE_ADMIN)
            .fetch_one(self.pool())
            .await
            .map_err(store_error)
    }
}
