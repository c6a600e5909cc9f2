//! [`TokenRepository`] on the `api_tokens` table, recording each change's audit event in
//! `audit_events` in the same transaction.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction on the store's one writing connection: it
//! holds SQLite's write lock from its first statement, so the row a revocation or rotation reads
//! is the row it changes (no other writer, in this process or another, can come between), and
//! the domain's transition is applied to it as it is.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, Transaction};
use time::OffsetDateTime;
use tollgate_app::ports::{
    InstanceRevocation, ListOrder, RotateOutcome, Rotation, SuspendOutcome, Suspension, TokenQuery,
    TokenRepository, TokenUse, Update, UpdateOutcome,
};
use tollgate_app::stored::{latest_uses, StatusCondition};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, AuditEvent, Ended, NotActive, TokenId};

use crate::error::{store_error, write_error};
use crate::rows::{bind_state, bind_token, convert, sql_limit, token_columns, Micros, TokenRow};
use crate::SqliteStore;
use crate::{audit, spaces};

/// A new token; an existing id changes nothing (0 rows affected).
const INSERT: &str = concat!(
    "INSERT INTO api_tokens (",
    token_columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
);
const GET: &str = concat!("SELECT ", token_columns!(), " FROM api_tokens WHERE id = ?");
/// What a token's transitions change, written back after the domain applied one (see
/// [`bind_state`]). Returns the row as stored.
pub(crate) const STATE_UPDATE: &str = concat!(
    "UPDATE api_tokens SET expires_at = ?, revoked_at = ?, replaced_by = ?, rotated_at = ?, \
     suspended_at = ? WHERE id = ? RETURNING ",
    token_columns!()
);
/// What an update changes, written back after the domain applied it. Returns the row as
/// stored. (A changed `expires_at` fires the `api_tokens_changed` trigger, as any change of it.)
const DETAILS_UPDATE: &str = concat!(
    "UPDATE api_tokens SET name = ?, description = ?, expires_at = ? WHERE id = ? RETURNING ",
    token_columns!()
);
/// One use: `last_used_at` becomes the later of its own and the given time, and
/// `last_used_ip` the address of that use (see `TokenUse::apply`).
const RECORD_USE: &str = "UPDATE api_tokens SET last_used_at = ?1, last_used_ip = ?2 \
     WHERE id = ?3 AND (last_used_at IS NULL OR last_used_at < ?1)";
/// One re-hash: the new hash, only where the stored one is still the hash it replaces.
const REHASH: &str = "UPDATE api_tokens SET secret_hash = ?1 WHERE id = ?2 AND secret_hash = ?3";
const ANY_INSTANCE_ADMIN: &str = "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE space_id IS NULL)";

/// The listing statement for `query`: each optional filter is left out of the text rather than
/// written as `(? IS NULL OR ...)`, so that the planner sees the partial index's predicate
/// literally (see [`StatusCondition::of`]).
fn list_statement(query: &TokenQuery) -> QueryBuilder<'static, Sqlite> {
    let mut sql = QueryBuilder::new(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE space_id = "
    ));
    sql.push_bind(query.space_id.as_uuid());
    match StatusCondition::of(query.statuses) {
        StatusCondition::Fixed(text) => {
            sql.push(text);
        }
        StatusCondition::WithNow { head, tail } => {
            sql.push(head).push_bind(Micros::of(query.now)).push(tail);
        }
    }
    if let Some(level) = query.level {
        sql.push(" AND level = ").push_bind(level.as_str());
    }
    let (past, order) = match query.order {
        ListOrder::OldestFirst => (" AND id > ", " ORDER BY id LIMIT "),
        ListOrder::NewestFirst => (" AND id < ", " ORDER BY id DESC LIMIT "),
    };
    if let Some(after) = query.after {
        sql.push(past).push_bind(after.as_uuid());
    }
    sql.push(order).push_bind(sql_limit(query.limit));
    sql
}

impl SqliteStore {
    /// One page of the listing `query` asks for, its name search left aside.
    async fn list_page(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError> {
        let rows = list_statement(query)
            .build_query_as::<TokenRow>()
            .fetch_all(self.readers())
            .await
            .map_err(store_error)?;
        convert(rows)
    }
}

/// The error for a failed write of `token`.
fn token_write_error(err: sqlx::Error, token: &ApiToken) -> StoreError {
    write_error(
        err,
        || format!("a token with id {} exists already", token.id()),
        || {
            let space = token
                .space_id()
                .map_or_else(|| "(none)".to_owned(), |id| id.to_string());
            format!("token {}: space {space} does not exist", token.id())
        },
    )
}

/// Reads token `id` inside `tx`, which holds the write lock.
async fn read(
    tx: &mut Transaction<'static, Sqlite>,
    id: TokenId,
) -> Result<Option<ApiToken>, StoreError> {
    sqlx::query_as::<_, TokenRow>(GET)
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)?
        .map(ApiToken::try_from)
        .transpose()
}

/// Writes back `token`'s state after a transition, and returns the row as stored.
pub(crate) async fn write_state(
    tx: &mut Transaction<'static, Sqlite>,
    token: &ApiToken,
) -> Result<ApiToken, StoreError> {
    let row = bind_state(sqlx::query_as::<_, TokenRow>(STATE_UPDATE), token)
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)?;
    ApiToken::try_from(row)
}

/// Inserts `token` inside `tx`; `false` if its id exists already.
async fn insert_token(
    tx: &mut Transaction<'static, Sqlite>,
    token: &ApiToken,
) -> Result<bool, StoreError> {
    let done = bind_token(sqlx::query(INSERT), token)
        .execute(&mut **tx)
        .await
        .map_err(|e| token_write_error(e, token))?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn commit(tx: Transaction<'static, Sqlite>) -> Result<(), StoreError> {
    tx.commit().await.map_err(store_error)
}

#[async_trait]
impl TokenRepository for SqliteStore {
    #[tracing::instrument(
        name = "sqlite.insert_token",
        level = "debug",
        skip_all,
        fields(token_id = %token.id(), space_id = token.space_id().map(tracing::field::display))
    )]
    async fn insert(&self, token: &ApiToken, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(space_id) = token.space_id() {
            if !spaces::is_living(&mut tx, space_id).await? {
                return Ok(false);
            }
        }
        if !insert_token(&mut tx, token).await? {
            return Ok(false);
        }
        audit::record(&mut *tx, event).await?;
        commit(tx).await?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.get_token", level = "debug", skip_all, fields(token_id = %id))]
    async fn get(&self, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
        sqlx::query_as::<_, TokenRow>(GET)
            .bind(id.as_uuid())
            .fetch_optional(self.readers())
            .await
            .map_err(store_error)?
            .map(ApiToken::try_from)
            .transpose()
    }

    #[tracing::instrument(
        name = "sqlite.list_tokens",
        level = "debug",
        skip_all,
        fields(
            space_id = %query.space_id,
            token_level = query.level.map(|l| l.as_str()),
            statuses = ?query.statuses,
            after = query.after.map(tracing::field::display),
            limit = query.limit,
            order = ?query.order,
        )
    )]
    async fn list(&self, query: &TokenQuery) -> Result<Vec<ApiToken>, StoreError> {
        if query.statuses.is_empty() {
            return Ok(Vec::new());
        }
        let Some(search) = &query.name else {
            return self.list_page(query).await;
        };
        // SQLite's LIKE and lower() fold ASCII only: the name search is the domain's own
        // (NameSearch::matches), over the listing read in batches, in order, until the page is
        // full or the space is read to its end.
        let mut found = Vec::with_capacity(query.limit);
        let mut batch = TokenQuery {
            name: None,
            limit: query.limit.saturating_mul(4).clamp(200, 2000),
            ..query.clone()
        };
        loop {
            let tokens = self.list_page(&batch).await?;
            let exhausted = tokens.len() < batch.limit;
            batch.after = tokens.last().map(ApiToken::id);
            found.extend(
                tokens
                    .into_iter()
                    .filter(|t| search.matches(t.name().as_str())),
            );
            if found.len() >= query.limit || exhausted {
                found.truncate(query.limit);
                return Ok(found);
            }
        }
    }

    #[tracing::instrument(name = "sqlite.revoke_token", level = "debug", skip_all, fields(token_id = %id))]
    async fn revoke(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut token) = read(&mut tx, id).await? else {
            return Ok(None);
        };
        // Revoked already: nothing changes, nothing is logged, the first time is kept.
        if !token.revoke(at) {
            return Ok(Some(token));
        }
        let stored = write_state(&mut tx, &token).await?;
        audit::record(&mut *tx, event).await?;
        commit(tx).await?;
        Ok(Some(stored))
    }

    #[tracing::instrument(name = "sqlite.set_suspended", level = "debug", skip_all, fields(token_id = %id))]
    async fn set_suspended(
        &self,
        id: TokenId,
        suspension: Suspension,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<SuspendOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut token) = read(&mut tx, id).await? else {
            return Ok(SuspendOutcome::NotFound);
        };
        // The domain's transition, on the row as read under the write lock.
        match suspension.apply(&mut token, at) {
            Err(Ended(status)) => Ok(SuspendOutcome::Ended(status)),
            Ok(false) => Ok(SuspendOutcome::Done {
                token: Box::new(token),
                changed: false,
            }),
            Ok(true) => {
                let stored = write_state(&mut tx, &token).await?;
                audit::record(&mut *tx, event).await?;
                commit(tx).await?;
                Ok(SuspendOutcome::Done {
                    token: Box::new(stored),
                    changed: true,
                })
            }
        }
    }

    #[tracing::instrument(name = "sqlite.update_token", level = "debug", skip_all, fields(token_id = %update.id))]
    async fn update(&self, update: &Update) -> Result<UpdateOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut token) = read(&mut tx, update.id).await? else {
            return Ok(UpdateOutcome::NotFound);
        };
        // The domain's transition, on the row as read under the write lock.
        let changed = match update.apply(&mut token) {
            Err(refused) => return Ok(UpdateOutcome::Refused(refused)),
            Ok(changed) if changed.is_empty() => {
                return Ok(UpdateOutcome::Done {
                    token: Box::new(token),
                    changed,
                })
            }
            Ok(changed) => changed,
        };
        let row = sqlx::query_as::<_, TokenRow>(DETAILS_UPDATE)
            .bind(token.name().as_str())
            .bind(token.description().map(|d| d.as_str()))
            .bind(token.expires_at().map(Micros::of))
            .bind(token.id().as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        let stored = ApiToken::try_from(row)?;
        audit::record(&mut *tx, &update.event_for(changed)).await?;
        commit(tx).await?;
        Ok(UpdateOutcome::Done {
            token: Box::new(stored),
            changed,
        })
    }

    #[tracing::instrument(
        name = "sqlite.rotate_token",
        level = "debug",
        skip_all,
        fields(token_id = %rotation.old_id, new_token_id = %rotation.new_token.id())
    )]
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(mut old) = read(&mut tx, rotation.old_id).await? else {
            return Ok(RotateOutcome::NotFound);
        };
        if let Some(space_id) = old.space_id() {
            if !spaces::is_living(&mut tx, space_id).await? {
                return Ok(RotateOutcome::NotFound);
            }
        }
        let new_token = &rotation.new_token;
        // The domain's transition, on the row as read under the write lock.
        if let Err(NotActive(status)) =
            old.rotate(new_token.id(), rotation.now, rotation.grace_period)
        {
            return Ok(RotateOutcome::NotActive(status));
        }
        // The new token first: the old one's `replaced_by` names it.
        if !insert_token(&mut tx, new_token).await? {
            return Err(StoreError::Failed(
                format!("a token with id {} exists already", new_token.id()).into(),
            ));
        }
        let rotated = write_state(&mut tx, &old).await?;
        audit::record(&mut *tx, &rotation.event).await?;
        commit(tx).await?;
        Ok(RotateOutcome::Rotated(Box::new(rotated)))
    }

    #[tracing::instrument(
        name = "sqlite.record_uses",
        level = "debug",
        skip_all,
        fields(tokens = uses.len())
    )]
    async fn record_uses(&self, uses: &[TokenUse]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        // One transaction for the batch: one commit, one sync, however many tokens. It holds
        // the write lock from its first statement, so each re-hash's comparison and write are
        // one step.
        let mut tx = self.begin_write().await?;
        for (id, used) in latest_uses(uses) {
            sqlx::query(RECORD_USE)
                .bind(Micros::of(used.at))
                .bind(used.ip.map(|ip| ip.to_string()))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            if let Some(rehash) = &used.rehash {
                sqlx::query(REHASH)
                    .bind(rehash.new.as_str())
                    .bind(id)
                    .bind(rehash.old.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
            }
        }
        commit(tx).await
    }

    #[tracing::instrument(name = "sqlite.any_instance_admin", level = "debug", skip_all)]
    async fn any_instance_admin(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar::<_, bool>(ANY_INSTANCE_ADMIN)
            .fetch_one(self.readers())
            .await
            .map_err(store_error)
    }

    #[tracing::instrument(name = "sqlite.instance_admins", level = "debug", skip_all)]
    async fn instance_admins(&self) -> Result<Vec<ApiToken>, StoreError> {
        crate::instance_tokens::instance_admins(self).await
    }

    #[tracing::instrument(name = "sqlite.revoke_instance_admin", level = "debug", skip_all, fields(token_id = %id))]
    async fn revoke_instance_admin(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<InstanceRevocation, StoreError> {
        crate::instance_tokens::revoke_instance_admin(self, id, at, event).await
    }
}
