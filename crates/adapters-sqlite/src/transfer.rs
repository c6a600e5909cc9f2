//! [`StoreTransfer`]: the whole file read out in keyset pages, and loaded whole into an empty
//! file in one transaction (`tollgate export` and `tollgate import`).

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use tollgate_app::ports::{ImportError, StoreTransfer};
use tollgate_app::{StoreContents, StoreError};
use tollgate_domain::{ApiToken, AuditEvent, EventId, Space, SpaceId, TokenId};

use crate::audit;
use crate::error::{store_error, write_error};
use crate::rows::{
    bind_token, convert, event_columns, space_columns, sql_limit, token_columns, EventRow, Micros,
    SpaceRow, TokenRow,
};
use crate::spaces::unreachable_foreign_key;
use crate::SqliteStore;

const EXPORT_TOKENS_FIRST: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens ORDER BY id LIMIT ?"
);
const EXPORT_TOKENS_AFTER: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE id > ? ORDER BY id LIMIT ?"
);
const EXPORT_EVENTS_FIRST: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events ORDER BY id LIMIT ?"
);
const EXPORT_EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE id > ? ORDER BY id LIMIT ?"
);
const ANY_ROW: &str = "SELECT EXISTS (SELECT 1 FROM spaces) OR EXISTS (SELECT 1 FROM api_tokens) \
     OR EXISTS (SELECT 1 FROM audit_events)";
const INSERT_SPACE: &str =
    "INSERT INTO spaces (id, name, created_at, deleted_at) VALUES (?, ?, ?, ?)";
/// Every space, deleted or not (a deleted one is exported as such, and stays deleted).
const EXPORT_SPACES_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces ORDER BY id LIMIT ?"
);
const EXPORT_SPACES_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE id > ? ORDER BY id LIMIT ?"
);
const INSERT_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (",
    token_columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
);

/// Loads `contents` inside `tx`, which holds the write lock, if the file is empty.
async fn import_in(
    tx: &mut Transaction<'static, Sqlite>,
    contents: &StoreContents,
) -> Result<(), ImportError> {
    let store = |e| ImportError::Store(store_error(e));
    if sqlx::query_scalar::<_, bool>(ANY_ROW)
        .fetch_one(&mut **tx)
        .await
        .map_err(store)?
    {
        return Err(ImportError::NotEmpty);
    }
    // Both ends of a rotation name each other: the keys are checked at commit, when every
    // row is there (SQLite resets this at the end of the transaction).
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut **tx)
        .await
        .map_err(store)?;
    for space in contents.spaces() {
        sqlx::query(INSERT_SPACE)
            .bind(space.id.as_uuid())
            .bind(space.name.as_str())
            .bind(Micros::of(space.created_at))
            .bind(space.deleted_at.map(Micros::of))
            .execute(&mut **tx)
            .await
            .map_err(|e| {
                ImportError::Store(write_error(
                    e,
                    || format!("space {} is in the dump twice", space.id),
                    || unreachable_foreign_key("spaces"),
                ))
            })?;
    }
    for token in contents.tokens() {
        bind_token(sqlx::query(INSERT_TOKEN), token)
            .execute(&mut **tx)
            .await
            .map_err(|e| {
                ImportError::Store(write_error(
                    e,
                    || format!("token {} is in the dump twice", token.id()),
                    || format!("token {}: a token or space it names is missing", token.id()),
                ))
            })?;
    }
    for event in contents.events() {
        audit::record(&mut **tx, event)
            .await
            .map_err(ImportError::Store)?;
    }
    Ok(())
}

#[async_trait]
impl StoreTransfer for SqliteStore {
    async fn export_spaces(
        &self,
        after: Option<SpaceId>,
        limit: usize,
    ) -> Result<Vec<Space>, StoreError> {
        let query = match after {
            None => sqlx::query_as::<_, SpaceRow>(EXPORT_SPACES_FIRST).bind(sql_limit(limit)),
            Some(after) => sqlx::query_as::<_, SpaceRow>(EXPORT_SPACES_AFTER)
                .bind(after.as_uuid())
                .bind(sql_limit(limit)),
        };
        convert(query.fetch_all(self.readers()).await.map_err(store_error)?)
    }

    #[tracing::instrument(
        name = "sqlite.export_tokens",
        level = "debug",
        skip_all,
        fields(limit)
    )]
    async fn export_tokens(
        &self,
        after: Option<TokenId>,
        limit: usize,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let query = match after {
            None => sqlx::query_as::<_, TokenRow>(EXPORT_TOKENS_FIRST).bind(sql_limit(limit)),
            Some(after) => sqlx::query_as::<_, TokenRow>(EXPORT_TOKENS_AFTER)
                .bind(after.as_uuid())
                .bind(sql_limit(limit)),
        };
        convert(query.fetch_all(self.readers()).await.map_err(store_error)?)
    }

    #[tracing::instrument(
        name = "sqlite.export_events",
        level = "debug",
        skip_all,
        fields(limit)
    )]
    async fn export_events(
        &self,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let query = match after {
            None => sqlx::query_as::<_, EventRow>(EXPORT_EVENTS_FIRST).bind(sql_limit(limit)),
            Some(after) => sqlx::query_as::<_, EventRow>(EXPORT_EVENTS_AFTER)
                .bind(after.as_uuid())
                .bind(sql_limit(limit)),
        };
        convert(query.fetch_all(self.readers()).await.map_err(store_error)?)
    }

    #[tracing::instrument(
        name = "sqlite.import",
        level = "debug",
        skip_all,
        fields(tokens = contents.tokens().len())
    )]
    async fn import(&self, contents: &StoreContents) -> Result<(), ImportError> {
        let mut tx = self.begin_write().await.map_err(ImportError::Store)?;
        import_in(&mut tx, contents).await?;
        // A broken key (which StoreContents rules out) would fail here, and roll back.
        tx.commit()
            .await
            .map_err(|e| ImportError::Store(store_error(e)))
    }
}
