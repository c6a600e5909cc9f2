//! Values for tests: spaces and tokens with fixed, whole-second timestamps (so they survive a
//! round trip through stores with microsecond precision).

use time::{Duration, OffsetDateTime};
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, CreatedBy, EventId, SecretHash, Space, SpaceId, SpaceName,
    TokenId, TokenLevel, TokenName, TokenScope,
};
use uuid::Uuid;

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
    }
}

/// An active token with id `n` in `space` at `level`, with a placeholder hash.
#[must_use]
pub fn token(n: u128, space: SpaceId, level: TokenLevel) -> ApiToken {
    ApiToken {
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
        last_used_at: None,
        revoked_at: None,
        replaces: None,
        replaced_by: None,
        rotated_at: None,
        secret_hash: SecretHash::new(format!(
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$placeholder{n}"
        )),
    }
}

/// An active instance admin token with id `n`.
#[must_use]
pub fn instance_token(n: u128) -> ApiToken {
    ApiToken {
        scope: TokenScope::Instance,
        ..token(n, space_id(0), TokenLevel::Admin)
    }
}

/// Event `n` (its id is `n`, its time `n` seconds after [`epoch`]) of `action` on `token`.
#[must_use]
pub fn event(n: u128, action: AuditAction, token: &ApiToken) -> AuditEvent {
    AuditEvent {
        id: EventId::from_uuid(Uuid::from_u128(n)),
        at: epoch() + Duration::seconds(i64::try_from(n).unwrap_or(0)),
        action,
        actor: CreatedBy::System,
        token_id: token.id,
        space_id: token.space_id(),
    }
}
