//! The instance admin tokens (the tokens of no space): reading them all, and the revocation
//! that never ends the last active one. [`TokenRepository`](tollgate_app::ports::TokenRepository)
//! calls these.

use sqlx::PgPool;
use time::OffsetDateTime;
use tollgate_app::ports::InstanceRevocation;
use tollgate_app::StoreError;
use tollgate_domain::{leaves_an_active_instance_admin, ApiToken, AuditEvent, TokenId};

use crate::error::store_error;
use crate::rows::{token_columns, TokenRow};
use crate::tokens::{revoke_locked, to_tokens};

/// Every instance admin token, in id order.
pub(crate) const INSTANCE_ADMINS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE space_id IS NULL ORDER BY id"
);
/// The same, locked for the rest of the transaction, in id order (so that two revocations
/// lock in the same order and wait for each other instead of deadlocking). Every revocation
/// that checks the rule holds all of these locks, so the check and the revocation are one step.
pub(crate) const LOCK_INSTANCE_ADMINS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE space_id IS NULL ORDER BY id FOR NO KEY UPDATE"
);

pub(crate) async fn instance_admins(pool: &PgPool) -> Result<Vec<ApiToken>, StoreError> {
    let rows = sqlx::query_as::<_, TokenRow>(INSTANCE_ADMINS)
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    to_tokens(rows)
}

pub(crate) async fn revoke_instance_admin(
    pool: &PgPool,
    id: TokenId,
    at: OffsetDateTime,
    event: &AuditEvent,
) -> Result<InstanceRevocation, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let rows = sqlx::query_as::<_, TokenRow>(LOCK_INSTANCE_ADMINS)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
    let instance = to_tokens(rows)?;
    let Some(token) = instance.iter().find(|t| t.id() == id).cloned() else {
        tx.rollback().await.map_err(store_error)?;
        return Ok(InstanceRevocation::NotFound);
    };
    if !leaves_an_active_instance_admin(&token, &instance, at) {
        tx.rollback().await.map_err(store_error)?;
        return Ok(InstanceRevocation::LastActive);
    }
    let stored = revoke_locked(&mut tx, token, at, event).await?;
    tx.commit().await.map_err(store_error)?;
    Ok(InstanceRevocation::Revoked(Box::new(stored)))
}
