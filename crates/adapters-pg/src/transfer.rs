//! [`StoreTransfer`] on the three tables: keyset pages of every row for `tollgate export`, and
//! `tollgate import` as one transaction that locks the tables, checks they are empty and
//! inserts everything in batches.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use tollgate_app::ports::{ImportError, StoreTransfer};
use tollgate_app::{StoreContents, StoreError};
use tollgate_domain::{ApiToken, AuditEvent, EventId, Space, SpaceId, TokenId};
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{
    event_columns, space_columns, token_columns, EventRow, PgInet, SpaceRow, TokenRow,
};
use crate::spaces::sql_limit;
use crate::tokens::to_tokens;
use crate::PgStore;

/// Every space, deleted or not (a deleted one is exported as such, and stays deleted).
pub(crate) const EXPORT_SPACES_FIRST: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces ORDER BY id LIMIT $1"
);
pub(crate) const EXPORT_SPACES_AFTER: &str = concat!(
    "SELECT ",
    space_columns!(),
    " FROM spaces WHERE id > $1 ORDER BY id LIMIT $2"
);
pub(crate) const EXPORT_TOKENS_FIRST: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens ORDER BY id LIMIT $1"
);
pub(crate) const EXPORT_TOKENS_AFTER: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE id > $1 ORDER BY id LIMIT $2"
);
pub(crate) const EXPORT_EVENTS_FIRST: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events ORDER BY id LIMIT $1"
);
pub(crate) const EXPORT_EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2"
);

/// The first statement of an import: SHARE ROW EXCLUSIVE conflicts with itself and with every
/// write (ROW EXCLUSIVE), not with reads. A concurrent import waits here and then finds the
/// tables filled; a concurrent writer waits until the import is committed or rolled back, so
/// nothing lands between the emptiness check and the inserts. The tables are locked in one
/// statement, in one order, so two imports cannot deadlock.
pub(crate) const LOCK: &str =
    "LOCK TABLE spaces, api_tokens, audit_events IN SHARE ROW EXCLUSIVE MODE";
pub(crate) const ANY_ROW: &str = "SELECT EXISTS (SELECT 1 FROM spaces) \
     OR EXISTS (SELECT 1 FROM api_tokens) OR EXISTS (SELECT 1 FROM audit_events)";
/// A batch of spaces, one array per column.
pub(crate) const INSERT_SPACES: &str = "INSERT INTO spaces (id, name, created_at, deleted_at) \
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[])";
/// A batch of tokens without their rotation links (the foreign keys between tokens may point
/// into a later batch): [`LINK_TOKENS`] sets them once every token is in.
pub(crate) const INSERT_TOKENS: &str = "INSERT INTO api_tokens (id, space_id, level, name, \
     created_at, created_by, expires_at, last_used_at, revoked_at, secret_hash, suspended_at, \
     description, last_used_ip) \
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], \
     $6::text[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::text[], \
     $11::timestamptz[], $12::text[], $13::inet[])";
/// The rotation links of a batch of tokens: `replaced_by` and `rotated_at` together, as the
/// `api_tokens_rotation_complete` check wants. (Setting `replaced_by` fires the cache
/// invalidation trigger; no node caches a token that did not exist a moment ago.)
pub(crate) const LINK_TOKENS: &str = "UPDATE api_tokens t SET replaces = l.replaces, \
     replaced_by = l.replaced_by, rotated_at = l.rotated_at \
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) \
     AS l (id, replaces, replaced_by, rotated_at) WHERE t.id = l.id";
/// A batch of events, one array per column.
pub(crate) const INSERT_EVENTS: &str = concat!(
    "INSERT INTO audit_events (",
    event_columns!(),
    ") SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], \
     $5::uuid[], $6::uuid[], $7::uuid[], $8::text[])"
);

/// Rows per insert statement: large enough that 100 000 tokens take a few dozen round trips,
/// small enough that one statement's arrays stay a few megabytes.
const BATCH: usize = 5_000;

type Tx = Transaction<'static, Postgres>;

async fn insert_spaces(tx: &mut Tx, spaces: &[Space]) -> Result<(), StoreError> {
    for batch in spaces.chunks(BATCH) {
        let ids: Vec<Uuid> = batch.iter().map(|s| s.id.as_uuid()).collect();
        let names: Vec<&str> = batch.iter().map(|s| s.name.as_str()).collect();
        let created: Vec<OffsetDateTime> = batch.iter().map(|s| s.created_at).collect();
        let deleted: Vec<Option<OffsetDateTime>> = batch.iter().map(|s| s.deleted_at).collect();
        sqlx::query(INSERT_SPACES)
            .bind(ids)
            .bind(names)
            .bind(created)
            .bind(deleted)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

async fn insert_tokens(tx: &mut Tx, tokens: &[ApiToken]) -> Result<(), StoreError> {
    for batch in tokens.chunks(BATCH) {
        let column = |f: fn(&ApiToken) -> Option<OffsetDateTime>| -> Vec<Option<OffsetDateTime>> {
            batch.iter().map(f).collect()
        };
        sqlx::query(INSERT_TOKENS)
            .bind(batch.iter().map(|t| t.id().as_uuid()).collect::<Vec<_>>())
            .bind(
                batch
                    .iter()
                    .map(|t| t.space_id().map(|s| s.as_uuid()))
                    .collect::<Vec<_>>(),
            )
            .bind(batch.iter().map(|t| t.level().as_str()).collect::<Vec<_>>())
            .bind(batch.iter().map(|t| t.name().as_str()).collect::<Vec<_>>())
            .bind(batch.iter().map(ApiToken::created_at).collect::<Vec<_>>())
            .bind(
                batch
                    .iter()
                    .map(|t| t.created_by().to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(column(ApiToken::expires_at))
            .bind(column(ApiToken::last_used_at))
            .bind(column(ApiToken::revoked_at))
            .bind(
                batch
                    .iter()
                    .map(|t| t.secret_hash().as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(column(ApiToken::suspended_at))
            .bind(
                batch
                    .iter()
                    .map(|t| t.description().map(|d| d.as_str()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                batch
                    .iter()
                    .map(|t| t.last_used_ip().map(PgInet))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    let linked: Vec<&ApiToken> = tokens
        .iter()
        .filter(|t| t.replaces().is_some() || t.replaced_by().is_some())
        .collect();
    for batch in linked.chunks(BATCH) {
        let link = |f: fn(&ApiToken) -> Option<TokenId>| -> Vec<Option<Uuid>> {
            batch.iter().map(|t| f(t).map(|id| id.as_uuid())).collect()
        };
        sqlx::query(LINK_TOKENS)
            .bind(batch.iter().map(|t| t.id().as_uuid()).collect::<Vec<_>>())
            .bind(link(ApiToken::replaces))
            .bind(link(ApiToken::replaced_by))
            .bind(batch.iter().map(|t| t.rotated_at()).collect::<Vec<_>>())
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

async fn insert_events(tx: &mut Tx, events: &[AuditEvent]) -> Result<(), StoreError> {
    for batch in events.chunks(BATCH) {
        sqlx::query(INSERT_EVENTS)
            .bind(batch.iter().map(|e| e.id.as_uuid()).collect::<Vec<_>>())
            .bind(batch.iter().map(|e| e.at).collect::<Vec<_>>())
            .bind(batch.iter().map(|e| e.action.as_str()).collect::<Vec<_>>())
            .bind(
                batch
                    .iter()
                    .map(|e| e.actor.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                batch
                    .iter()
                    .map(|e| e.token_id.map(|t| t.as_uuid()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                batch
                    .iter()
                    .map(|e| e.space_id.map(|s| s.as_uuid()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                batch
                    .iter()
                    .map(|e| e.via_token_id.map(|t| t.as_uuid()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                batch
                    .iter()
                    .map(|e| (!e.changed.is_empty()).then(|| e.changed.to_text()))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// Locks, checks emptiness and inserts, in `tx`; the caller commits on `Ok` (on `Err`, dropping
/// `tx` rolls it back).
async fn import_in(tx: &mut Tx, contents: &StoreContents) -> Result<(), ImportError> {
    sqlx::query(LOCK)
        .execute(&mut **tx)
        .await
        .map_err(|e| ImportError::Store(store_error(e)))?;
    let holds_anything = sqlx::query_scalar::<_, bool>(ANY_ROW)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| ImportError::Store(store_error(e)))?;
    if holds_anything {
        return Err(ImportError::NotEmpty);
    }
    // Spaces first: tokens and events refer to them.
    insert_spaces(tx, contents.spaces())
        .await
        .map_err(ImportError::Store)?;
    insert_tokens(tx, contents.tokens())
        .await
        .map_err(ImportError::Store)?;
    insert_events(tx, contents.events())
        .await
        .map_err(ImportError::Store)
}

#[async_trait]
impl StoreTransfer for PgStore {
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
        query
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Space::try_from)
            .collect()
    }

    #[tracing::instrument(name = "pg.export_tokens", level = "debug", skip_all, fields(limit))]
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
        to_tokens(query.fetch_all(self.pool()).await.map_err(store_error)?)
    }

    #[tracing::instrument(name = "pg.export_events", level = "debug", skip_all, fields(limit))]
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
        query
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect()
    }

    #[tracing::instrument(
        name = "pg.import",
        skip_all,
        fields(
            spaces = contents.spaces().len(),
            tokens = contents.tokens().len(),
            events = contents.events().len(),
        )
    )]
    async fn import(&self, contents: &StoreContents) -> Result<(), ImportError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| ImportError::Store(store_error(e)))?;
        match import_in(&mut tx, contents).await {
            Ok(()) => tx
                .commit()
                .await
                .map_err(|e| ImportError::Store(store_error(e))),
            Err(refused) => {
                // Best effort: a connection that failed mid-import is closed, which rolls back
                // as well. The import's own error is the one to report.
                let _ = tx.rollback().await;
                Err(refused)
            }
        }
    }
}
