//! [`TokenRepository`] on the `api_tokens` table, recording each change's audit event in
//! `audit_events` atomically with it.
use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;
use tollgate_app::ports::{
    InstanceRevocation, ListOrder, RotateOutcome, Rotation, StatusFilter, SuspendOutcome,
    Suspension, TokenQuery, TokenRepository, TokenUse, Update, UpdateOutcome,
};
use tollgate_app::stored::{latest_uses, like_pattern, StatusCondition};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, AuditEvent, Ended, NotActive, TokenId};
use uuid::Uuid;

use crate::audit::event_write_error;
use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::{event_columns, state_assignments, token_columns, PgInet, TokenRow};
use crate::spaces::{sql_limit, LOCK_LIVING_SPACE};
use crate::values::{bind_event, bind_state, bind_token};
use crate::PgStore;

/// A token and its `token.created` event in one statement, so both or neither are stored. When
/// the id exists already, or the token's space (`$2`, none for an instance token) was deleted,
/// `inserted` is empty and so is the event insert: 0 rows affected. The space is locked `FOR
/// SHARE` until the statement's transaction ends, so a deletion in progress is waited for and
/// its outcome seen, and a deletion begun later waits for this token and revokes it (see
/// `spaces::LOCK`).
pub(crate) const INSERT: &str = concat!(
    "WITH home AS (SELECT id FROM spaces WHERE id = $2 AND deleted_at IS NULL FOR SHARE), \
     inserted AS (INSERT INTO api_tokens (",
    token_columns!(),
    ") SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::timestamptz, $6::text, \
     $7::timestamptz, $8::timestamptz, $9::timestamptz, $10::uuid, $11::uuid, \
     $12::timestamptz, $13::text, $14::timestamptz, $15::text, $16::inet \
     WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM home) \
     ON CONFLICT (id) DO NOTHING RETURNING id) \
     INSERT INTO audit_events (",
    event_columns!(),
    ") SELECT $17::uuid, $18::timestamptz, $19::text, $20::text, $21::uuid, $22::uuid, \
     $23::uuid, $24::text FROM inserted"
);
pub(crate) const GET: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE id = $1"
);
/// The first statement of a revocation's or rotation's transaction: locks the token for the
/// rest of it, so that a concurrent revocation or rotation waits and then sees this one's
/// outcome, and the domain's transition is applied to the row as it is. `FOR NO KEY UPDATE` is
/// the lock the transaction's own `UPDATE` takes anyway (it changes no key): it excludes
/// concurrent writers as well as `FOR UPDATE` would, without also blocking other transactions'
/// foreign-key checks against this row.
pub(crate) const LOCK: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE id = $1 FOR NO KEY UPDATE"
);
/// A revocation (or a suspension or resumption), once the domain applied it to the locked row:
/// the token's new state (`$1` to `$6`, see [`state_assignments!`]) and its event (`$7` to
/// `$14`), in one statement. Returns
/// the row as stored (at the store's precision).
pub(crate) const REVOKE: &str = concat!(
    "WITH revoked AS (",
    state_assignments!(),
    " RETURNING ",
    token_columns!(),
    "), logged AS (INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES ($7, $8, $9, $10, $11, $12, $13, $14)) SELECT ",
    token_columns!(),
    " FROM revoked"
);
/// An update, once the domain applied it to the locked row: its name, description and expiry
/// (`$2` to `$4`, the id `$1`) and its event (`$5` to `$12`), in one statement. Returns the row
/// as stored. (A changed `expires_at` fires the trigger that notifies every node.)
pub(crate) const UPDATE_DETAILS: &str = concat!(
    "WITH updated AS (UPDATE api_tokens SET name = $2, description = $3, expires_at = $4 \
     WHERE id = $1 RETURNING ",
    token_columns!(),
    "), logged AS (INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES ($5, $6, $7, $8, $9, $10, $11, $12)) SELECT ",
    token_columns!(),
    " FROM updated"
);
/// A rotation, once the domain applied it to the locked old token: the old one's new state
/// (`$1` to `$6`, see [`state_assignments!`]), the new token (`$7` to `$22`) and the event
/// (`$23` to `$30`). The foreign keys between the two rows are checked at the end of the
/// statement, when both exist. Returns the old token as stored.
pub(crate) const ROTATE: &str = concat!(
    "WITH created AS (INSERT INTO api_tokens (",
    token_columns!(),
    ") VALUES ($7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)), \
     rotated AS (",
    state_assignments!(),
    " RETURNING ",
    token_columns!(),
    "), logged AS (INSERT INTO audit_events (",
    event_columns!(),
    ") VALUES ($23, $24, $25, $26, $27, $28, $29, $30)) SELECT ",
    token_columns!(),
    " FROM rotated"
);
/// A whole batch of uses in one statement: `$1` the token ids (distinct, ascending), `$2` the
/// times, `$3` the addresses, `$4` and `$5` the hash each re-hash replaces and its replacement
/// (both NULL where there is none). The rows to change are locked in id order first, so two
/// nodes flushing overlapping batches at once wait for each other instead of deadlocking; a row
/// with nothing to change (its `last_used_at` already as late, and no re-hash of the hash it
/// holds) is neither locked nor written. Each assignment is decided on the row as locked, so a
/// re-hash replaces exactly the hash it was made against (another node's re-hash or an import
/// in between wins), and an address goes with the time it came with. Unknown ids match no row.
pub(crate) const RECORD_USES: &str = "\
    WITH uses AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::inet[], $4::text[], \
    $5::text[]) AS u (id, at, ip, old_hash, new_hash)), \
    locked AS (SELECT t.id, uses.at, uses.ip, uses.old_hash, uses.new_hash \
    FROM api_tokens t JOIN uses ON uses.id = t.id \
    WHERE t.last_used_at IS NULL OR t.last_used_at < uses.at OR t.secret_hash = uses.old_hash \
    ORDER BY t.id FOR NO KEY UPDATE OF t) \
    UPDATE api_tokens t SET \
    last_used_at = GREATEST(t.last_used_at, locked.at), \
    last_used_ip = CASE WHEN t.last_used_at IS NULL OR t.last_used_at < locked.at \
    THEN locked.ip ELSE t.last_used_ip END, \
    secret_hash = CASE WHEN t.secret_hash = locked.old_hash THEN locked.new_hash \
    ELSE t.secret_hash END \
    FROM locked WHERE t.id = locked.id";
pub(crate) const ANY_INSTANCE_ADMIN: &str =
    "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE space_id IS NULL)";

/// Appends to `sql` the condition that keeps exactly the tokens whose status is in
/// `statuses` (see [`StatusCondition::of`]), binding `now` only where expiry matters.
fn push_status_condition(
    sql: &mut QueryBuilder<'static, Postgres>,
    statuses: StatusFilter,
    now: OffsetDateTime,
) {
    match StatusCondition::of(statuses) {
        StatusCondition::Fixed(text) => {
            sql.push(text);
        }
        StatusCondition::WithNow { head, tail } => {
            sql.push(head).push_bind(now).push(tail);
        }
    }
}

/// The listing statement for `query`. Each optional filter is left out of the SQL rather than
/// written as `($n IS NULL OR ...)`, so that Postgres sees exactly the conditions that apply
/// and can match them against the partial indexes (a plan may only use a partial index when
/// its predicate is implied by conditions written literally). Each of the 31 non-empty status
/// sets has its own text (see [`push_status_condition`]), with or without a level, a name
/// search and a cursor, in either order. Newest first reads the same indexes backwards.
///
/// [`TokenRepository::list`] runs it unprepared, so that every run is planned with its
/// values (a custom plan): see the comment there.
pub(crate) fn list_statement(query: &TokenQuery) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::new(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE space_id = "
    ));
    sql.push_bind(query.space_id.as_uuid());
    push_status_condition(&mut sql, query.statuses, query.now);
    if let Some(level) = query.level {
        sql.push(" AND level = ").push_bind(level.as_str());
    }
    // ILIKE on the name: `api_tokens_name_trgm_idx` (pg_trgm) finds the matches of a rare
    // term; for a common one Postgres may as well read the space in id order and filter.
    if let Some(search) = &query.name {
        sql.push(" AND name ILIKE ").push_bind(like_pattern(search));
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

pub(crate) fn to_tokens(rows: Vec<TokenRow>) -> Result<Vec<ApiToken>, StoreError> {
    rows.into_iter().map(ApiToken::try_from).collect()
}

/// The error for a write that named a space that does not exist.
fn missing_space(token: &ApiToken) -> StoreError {
    let space = token
        .space_id()
        .map_or_else(|| "(none)".to_owned(), |id| id.to_string());
    StoreError::Failed(format!("token {}: space {space} does not exist", token.id()).into())
}

/// Revokes `token`, read and locked in `tx`, with [`ApiToken::revoke`], writing its state and
/// `event` in one statement; the token as stored. Revoked already: nothing changes, nothing is
/// logged, the first time is kept.
pub(crate) async fn revoke_locked(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    mut token: ApiToken,
    at: OffsetDateTime,
    event: &AuditEvent,
) -> Result<ApiToken, StoreError> {
    if !token.revoke(at) {
        return Ok(token);
    }
    let row = bind_event(
        bind_state(sqlx::query_as::<_, TokenRow>(REVOKE), &token),
        event,
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| event_write_error(e, event))?;
    ApiToken::try_from(row)
}

/// Reads and locks token `id` for the rest of `tx`.
async fn lock(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    id: TokenId,
) -> Result<Option<ApiToken>, StoreError> {
    sqlx::query_as::<_, TokenRow>(LOCK)
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)?
        .map(ApiToken::try_from)
        .transpose()
}

/// Classifies a failed write of `token` and `event`: the constraints a caller can meet become
/// errors in the adapter's own words (never Postgres's `DETAIL`, which holds the row).
fn write_error(err: sqlx::Error, token: &ApiToken, event: &AuditEvent) -> StoreError {
    match violated_constraint(&err) {
        Some(constraint::TOKENS_SPACE_FKEY) => missing_space(token),
        Some(constraint::TOKENS_PKEY) => {
            StoreError::Failed(format!("a token with id {} exists already", token.id()).into())
        }
        _ => event_write_error(err, event),
    }
}

/// `uses` as the five arrays [`RECORD_USES`] takes: one entry per token (see
/// [`latest_uses`]), in ascending id order (the order the statement locks rows in anyway;
/// sorted input keeps its plan simple).
fn use_arrays(uses: &[TokenUse]) -> UseArrays {
    let mut arrays = UseArrays::default();
    for (id, used) in latest_uses(uses) {
        arrays.ids.push(id);
        arrays.times.push(used.at);
        arrays.ips.push(used.ip.map(PgInet));
        let (old, new) = used
            .rehash
            .map(|r| (r.old.as_str().to_owned(), r.new.as_str().to_owned()))
            .unzip();
        arrays.old_hashes.push(old);
        arrays.new_hashes.push(new);
    }
    arrays
}

/// The columns of a batch of uses, one array each.
#[derive(Default)]
struct UseArrays {
    ids: Vec<Uuid>,
    times: Vec<OffsetDateTime>,
    ips: Vec<Option<PgInet>>,
    old_hashes: Vec<Option<String>>,
    new_hashes: Vec<Option<String>>,
}

#[async_trait]
impl TokenRepository for PgStore {
    #[tracing::instrument(
        name = "pg.insert_token",
        level = "debug",
        skip_all,
        fields(token_id = %token.id(), space_id = token.space_id().map(tracing::field::display))
    )]
    async fn insert(&self, token: &ApiToken, event: &AuditEvent) -> Result<bool, StoreError> {
        let inserted = bind_event(bind_token(sqlx::query(INSERT), token), event)
            .execute(self.pool())
            .await;
        match inserted {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) => Err(write_error(e, token, event)),
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
        // Unprepared (`persistent(false)`: sqlx parses it as the unnamed statement and never
        // caches it), so that Postgres plans every listing with its actual values. A statement
        // prepared and cached on a connection switches to a generic plan after five runs when
        // that plan looks cheaper, and for a set of rare statuses with a level the generic plan
        // reads the whole space in id order: 190-260 ms on 1 000 000 tokens, where the custom
        // plan ORs the classes' partial indexes in 1.4 ms (docs/performance.md). Planning a
        // listing costs well under a millisecond. So the custom plan is the one that runs, and
        // the one `query_plan_tests` must hold to its indexes; `tests/postgres/
        // unprepared_listing.rs` checks that no listing is left prepared on a connection.
        let rows = list_statement(query)
            .build_query_as::<TokenRow>()
            .persistent(false)
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
        event: &AuditEvent,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let Some(token) = lock(&mut tx, id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(None);
        };
        let stored = revoke_locked(&mut tx, token, at, event).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(Some(stored))
    }

    #[tracing::instrument(name = "pg.set_suspended", level = "debug", skip_all, fields(token_id = %id))]
    async fn set_suspended(
        &self,
        id: TokenId,
        suspension: Suspension,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<SuspendOutcome, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let Some(mut token) = lock(&mut tx, id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(SuspendOutcome::NotFound);
        };
        // The domain's transition, on the row as locked: nobody can change it until commit.
        let outcome = match suspension.apply(&mut token, at) {
            Err(Ended(status)) => SuspendOutcome::Ended(status),
            Ok(false) => SuspendOutcome::Done {
                token: Box::new(token),
                changed: false,
            },
            Ok(true) => {
                // The state and the event in one statement, as a revocation (the trigger sends
                // the NOTIFY that makes every node forget the token).
                let row = bind_event(
                    bind_state(sqlx::query_as::<_, TokenRow>(REVOKE), &token),
                    event,
                )
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| event_write_error(e, event))?;
                SuspendOutcome::Done {
                    token: Box::new(ApiToken::try_from(row)?),
                    changed: true,
                }
            }
        };
        tx.commit().await.map_err(store_error)?;
        Ok(outcome)
    }

    #[tracing::instrument(name = "pg.update_token", level = "debug", skip_all, fields(token_id = %update.id))]
    async fn update(&self, update: &Update) -> Result<UpdateOutcome, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let Some(mut token) = lock(&mut tx, update.id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(UpdateOutcome::NotFound);
        };
        // The domain's transition, on the row as locked: nobody can change it until commit.
        let outcome = match update.apply(&mut token) {
            Err(refused) => UpdateOutcome::Refused(refused),
            Ok(changed) if changed.is_empty() => UpdateOutcome::Done {
                token: Box::new(token),
                changed,
            },
            Ok(changed) => {
                let event = update.event_for(changed);
                let query = sqlx::query_as::<_, TokenRow>(UPDATE_DETAILS)
                    .bind(token.id().as_uuid())
                    .bind(token.name().as_str())
                    .bind(token.description().map(|d| d.as_str()))
                    .bind(token.expires_at());
                let row = bind_event(query, &event)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| event_write_error(e, &event))?;
                UpdateOutcome::Done {
                    token: Box::new(ApiToken::try_from(row)?),
                    changed,
                }
            }
        };
        tx.commit().await.map_err(store_error)?;
        Ok(outcome)
    }

    #[tracing::instrument(
        name = "pg.rotate_token",
        level = "debug",
        skip_all,
        fields(token_id = %rotation.old_id, new_token_id = %rotation.new_token.id())
    )]
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        // The space first, then the token: a deletion locks them in the same order.
        if let Some(space_id) = rotation.new_token.space_id() {
            let living = sqlx::query(LOCK_LIVING_SPACE)
                .bind(space_id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            if living.is_none() {
                tx.rollback().await.map_err(store_error)?;
                return Ok(RotateOutcome::NotFound);
            }
        }
        let Some(mut old) = lock(&mut tx, rotation.old_id).await? else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(RotateOutcome::NotFound);
        };
        let new_token = &rotation.new_token;
        // The domain's transition, on the row as locked: nobody can change it until commit.
        if let Err(NotActive(status)) =
            old.rotate(new_token.id(), rotation.now, rotation.grace_period)
        {
            tx.rollback().await.map_err(store_error)?;
            return Ok(RotateOutcome::NotActive(status));
        }
        let row = bind_event(
            bind_token(
                bind_state(sqlx::query_as::<_, TokenRow>(ROTATE), &old),
                new_token,
            ),
            &rotation.event,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| write_error(e, new_token, &rotation.event))?;
        let rotated = ApiToken::try_from(row)?;
        tx.commit().await.map_err(store_error)?;
        Ok(RotateOutcome::Rotated(Box::new(rotated)))
    }

    #[tracing::instrument(
        name = "pg.record_uses",
        level = "debug",
        skip_all,
        fields(tokens = uses.len())
    )]
    async fn record_uses(&self, uses: &[TokenUse]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let arrays = use_arrays(uses);
        sqlx::query(RECORD_USES)
            .bind(arrays.ids)
            .bind(arrays.times)
            .bind(arrays.ips)
            .bind(arrays.old_hashes)
            .bind(arrays.new_hashes)
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "pg.any_instance_admin", level = "debug", skip_all)]
    async fn any_instance_admin(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar::<_, bool>(ANY_INSTANCE_ADMIN)
            .fetch_one(self.pool())
            .await
            .map_err(store_error)
    }

    #[tracing::instrument(name = "pg.instance_admins", level = "debug", skip_all)]
    async fn instance_admins(&self) -> Result<Vec<ApiToken>, StoreError> {
        crate::instance_tokens::instance_admins(self.pool()).await
    }

    #[tracing::instrument(name = "pg.revoke_instance_admin", level = "debug", skip_all, fields(token_id = %id))]
    async fn revoke_instance_admin(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<InstanceRevocation, StoreError> {
        crate::instance_tokens::revoke_instance_admin(self.pool(), id, at, event).await
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use tollgate_app::ports::Rehash;
    use tollgate_domain::SecretHash;

    use super::*;

    fn id(n: u128) -> TokenId {
        TokenId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn use_batches_keep_one_latest_use_per_token_in_id_order() {
        let t = |s: i64| OffsetDateTime::UNIX_EPOCH + Duration::seconds(s);
        let ip = |last: u8| Some(std::net::IpAddr::from([192, 0, 2, last]));
        let rehash = Rehash {
            old: SecretHash::new("$old".into()),
            new: SecretHash::new("$new".into()),
        };
        let arrays = use_arrays(&[
            TokenUse::new(id(3), t(5), ip(5)),
            TokenUse::new(id(1), t(9), ip(9)),
            TokenUse {
                rehash: Some(rehash),
                ..TokenUse::new(id(3), t(7), ip(7))
            },
            TokenUse::new(id(3), t(6), ip(6)),
            TokenUse::new(id(2), t(1), None),
        ]);
        assert_eq!(arrays.ids, [1, 2, 3].map(Uuid::from_u128));
        assert_eq!(arrays.times, [t(9), t(1), t(7)]);
        assert_eq!(arrays.ips, [ip(9), None, ip(7)].map(|ip| ip.map(PgInet)));
        assert_eq!(arrays.old_hashes, [None, None, Some("$old".to_owned())]);
        assert_eq!(arrays.new_hashes, [None, None, Some("$new".to_owned())]);
    }
}
