//! What several test modules share: writes with the audit events that go with them.

use time::OffsetDateTime;
use tollgate_app::ports::{Rotation, TokenRepository};
use tollgate_app::testing::fixtures::{event, space_id, token, token_id};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, AuditAction, AuditEvent, SpaceId, TokenId, TokenLevel};
use tollgate_pg::PgStore;

/// An event id for the `salt`-th event of token `id`, apart from every small number.
fn event_number(id: TokenId, salt: u128) -> u128 {
    (1 << 64) + id.as_uuid().as_u128() * 16 + salt
}

/// The `token.created` event of `token`.
pub fn created(token: &ApiToken) -> AuditEvent {
    event(event_number(token.id, 0), AuditAction::TokenCreated, token)
}

/// The `token.revoked` event of token `id` of space `space` at `at`.
pub fn revoked(id: TokenId, space: SpaceId, at: OffsetDateTime) -> AuditEvent {
    let target = token(id.as_uuid().as_u128(), space, TokenLevel::Client);
    AuditEvent {
        at,
        ..event(event_number(id, 1), AuditAction::TokenRevoked, &target)
    }
}

/// Stores `token` with its creation event.
pub async fn insert(store: &PgStore, token: &ApiToken) -> Result<bool, StoreError> {
    TokenRepository::insert(store, token, &created(token)).await
}

/// Revokes token `id` of space `space` at `at`, with its event.
pub async fn revoke(
    store: &PgStore,
    id: TokenId,
    space: SpaceId,
    at: OffsetDateTime,
) -> Result<Option<ApiToken>, StoreError> {
    store.revoke(id, at, &revoked(id, space, at)).await
}

/// The rotation of client token `old` of space 1 into a new client token `new`, at `now`, the
/// old one working until `grace_end`.
pub fn rotation(old: u128, new: u128, now: OffsetDateTime, grace_end: OffsetDateTime) -> Rotation {
    let old_token = token(old, space_id(1), TokenLevel::Client);
    let mut new_token = token(new, space_id(1), TokenLevel::Client);
    new_token.replaces = Some(token_id(old));
    new_token.created_at = now;
    Rotation {
        old_id: token_id(old),
        new_token,
        old_expires_at: grace_end,
        now,
        event: AuditEvent {
            at: now,
            // Apart from the creation and revocation events' numbers.
            ..event(
                (2 << 64) + (old << 32) + new,
                AuditAction::TokenRotated,
                &old_token,
            )
        },
    }
}
