//! The instance admin tokens (the tokens of no space): reading them all, and the revocation
//! that never ends the last active one. [`TokenRepository`](tollgate_app::ports::TokenRepository)
//! calls these.

use time::OffsetDateTime;
use tollgate_app::ports::InstanceRevocation;
use tollgate_app::StoreError;
use tollgate_domain::{leaves_an_active_instance_admin, ApiToken, AuditEvent, TokenId};

use crate::audit;
use crate::error::store_error;
use crate::rows::{convert, token_columns, TokenRow};
use crate::tokens::{commit, write_state};
use crate::SqliteStore;

/// Every instance admin token, in id order.
const INSTANCE_ADMINS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE space_id IS NULL ORDER BY id"
);

pub(crate) async fn instance_admins(store: &SqliteStore) -> Result<Vec<ApiToken>, StoreError> {
    let rows = sqlx::query_as::<_, TokenRow>(INSTANCE_ADMINS)
        .fetch_all(store.readers())
        .await
        .map_err(store_error)?;
    convert(rows)
}

/// The check and the revocation in one `BEGIN IMMEDIATE` transaction: it holds SQLite's write
/// lock from its first read, so no other writer changes an instance token in between.
pub(crate) async fn revoke_instance_admin(
    store: &SqliteStore,
    id: TokenId,
    at: OffsetDateTime,
    event: &AuditEvent,
) -> Result<InstanceRevocation, StoreError> {
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query_as::<_, TokenRow>(INSTANCE_ADMINS)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
    let instance: Vec<ApiToken> = convert(rows)?;
    let Some(mut token) = instance.iter().find(|t| t.id() == id).cloned() else {
        return Ok(InstanceRevocation::NotFound);
    };
    if !leaves_an_active_instance_admin(&token, &instance, at) {
        return Ok(InstanceRevocation::LastActive);
    }
    // Revoked already: nothing changes, nothing is logged, the first time is kept.
    if !token.revoke(at) {
        return Ok(InstanceRevocation::Revoked(Box::new(token)));
    }
    let stored = write_state(&mut tx, &token).await?;
    audit::record(&mut *tx, event).await?;
    commit(tx).await?;
    Ok(InstanceRevocation::Revoked(Box::new(stored)))
}
