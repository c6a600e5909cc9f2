//! Values for tests: spaces and tokens with fixed, whole-second timestamps (so they survive a
//! round trip through stores with microsecond precision), and the writes that go with their
//! audit events, for the contract suite and every adapter's own tests.

use time::{Duration, OffsetDateTime};
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, CreatedBy, EventId, GracePeriod, NewApiToken, SecretHash,
    Space, SpaceId, SpaceName, TokenId, TokenLevel, TokenName, TokenRecord, TokenScope,
};
use uuid::Uuid;

use crate::error::StoreError;
use crate::ports::{Rotation, TokenRepository};

/// 2030-01-01T00:00:00Z.
#[must_use]
pub fn epoch() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_893_456_000)
}

/// A space id from a small number (ids sort by the number).
#[must_use]
pub fn space_id(n: u128) -> SpaceId {
    SpaceId::from_uuid(Uuid::from_u128(n))
}

/// A token id from a small number (ids sort by the number).
#[must_use]
pub fn token_id(n: u128) -> TokenId {
    TokenId::from_uuid(Uuid::from_u128(n))
}

/// A space with id `n`, named `space n`, created `n` seconds after [`epoch`].
#[must_use]
pub fn space(n: u128) -> Space {
    Space {
        id: space_id(n),
        name: SpaceName::parse(&format!("space {n}"))
            .unwrap_or_else(|_| unreachable!("a valid name")),
        created_at: epoch() + Duration::seconds(i64::try_from(n).unwrap_or(0)),
        deleted_at: None,
    }
}

/// What [`token`] is made of, to change a field before issuing it.
#[must_use]
pub fn new_token(n: u128, space: SpaceId, level: TokenLevel) -> NewApiToken {
    NewApiToken {
        id: token_id(n),
        scope: TokenScope::Space {
            space_id: space,
            level,
        },
        name: TokenName::parse(&format!("token {n}"))
            .unwrap_or_else(|_| unreachable!("a valid name")),
        created_at: epoch(),
        created_by: CreatedBy::System,
        expires_at: None,
        replaces: None,
        secret_hash: SecretHash::new(format!(
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$placeholder{n}"
        )),
    }
}

/// An active token with id `n` in `space` at `level`, issued at [`epoch`] by `system`, with a
/// placeholder hash.
#[must_use]
pub fn token(n: u128, space: SpaceId, level: TokenLevel) -> ApiToken {
    ApiToken::issue(new_token(n, space, level))
}

/// An active instance admin token with id `n`.
#[must_use]
pub fn instance_token(n: u128) -> ApiToken {
    ApiToken::issue(NewApiToken {
        scope: TokenScope::Instance,
        ..new_token(n, space_id(0), TokenLevel::Admin)
    })
}

/// Event `n` (its id is `n`, its time `n` seconds after [`epoch`]) of `action` on `token`.
#[must_use]
pub fn event(n: u128, action: AuditAction, token: &ApiToken) -> AuditEvent {
    let at = epoch() + Duration::seconds(i64::try_from(n).unwrap_or(0));
    AuditEvent::about(
        EventId::from_uuid(Uuid::from_u128(n)),
        at,
        action,
        CreatedBy::System,
        token,
    )
}

/// An event id for the `salt`-th event of token `id`, apart from every small number.
#[must_use]
pub fn event_number(id: TokenId, salt: u128) -> u128 {
    (1 << 64) + id.as_uuid().as_u128() * 16 + salt
}

/// The `token.created` event of `token`.
#[must_use]
pub fn created(token: &ApiToken) -> AuditEvent {
    event(
        event_number(token.id(), 0),
        AuditAction::TokenCreated,
        token,
    )
}

/// The `token.revoked` event of client token `id` of space `space`, at `at`.
#[must_use]
pub fn revoked(id: TokenId, space: SpaceId, at: OffsetDateTime) -> AuditEvent {
    let target = token(id.as_uuid().as_u128(), space, TokenLevel::Client);
    AuditEvent {
        at,
        ..event(event_number(id, 1), AuditAction::TokenRevoked, &target)
    }
}

/// Stores `token` with its creation event.
///
/// # Errors
/// What the store answers.
pub async fn insert(store: &dyn TokenRepository, token: &ApiToken) -> Result<bool, StoreError> {
    store.insert(token, &created(token)).await
}

/// Revokes token `id` of space `space` at `at`, with its event.
///
/// # Errors
/// What the store answers.
pub async fn revoke(
    store: &dyn TokenRepository,
    id: TokenId,
    space: SpaceId,
    at: OffsetDateTime,
) -> Result<Option<ApiToken>, StoreError> {
    store.revoke(id, at, &revoked(id, space, at)).await
}

/// The rotation, at `now`, of client token `old` of space 1 into a new client token `new`
/// issued at `now`, the old one working for `grace` more.
#[must_use]
pub fn rotation(old: u128, new: u128, now: OffsetDateTime, grace: Duration) -> Rotation {
    let old_token = token(old, space_id(1), TokenLevel::Client);
    let new_token = ApiToken::issue(NewApiToken {
        replaces: Some(token_id(old)),
        created_at: now,
        ..new_token(new, space_id(1), TokenLevel::Client)
    });
    let seconds = u64::try_from(grace.whole_seconds()).unwrap_or(0);
    Rotation {
        old_id: token_id(old),
        new_token,
        grace_period: GracePeriod::from_seconds(seconds)
            .unwrap_or_else(|_| unreachable!("tests rotate with grace periods of days at most")),
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

/// `token` with `edit` applied to its stored columns, read back through [`ApiToken::restore`]
/// as a store would.
#[must_use]
pub fn edited(token: &ApiToken, edit: impl FnOnce(&mut TokenRecord)) -> ApiToken {
    let mut columns = token.record();
    edit(&mut columns);
    ApiToken::restore(columns).unwrap_or_else(|e| panic!("a test built an impossible token: {e}"))
}
