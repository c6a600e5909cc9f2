//! Rows as Postgres returns them, and their conversion into domain values through the app's
//! [`tollgate_app::stored`] rows, which apply the domain's constructors for every store. A row
//! that breaks a domain rule becomes [`StoreError::Corrupt`] naming the row and the rule, never a
//! panic, and never quoting the secret hash.

use std::net::IpAddr;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};
use time::OffsetDateTime;
use tollgate_app::stored::{StoredEvent, StoredInstant, StoredSpace, StoredToken};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, AuditEvent, Space};
use uuid::Uuid;

/// The columns of `spaces` that [`SpaceRow`] reads, in a form `concat!` accepts.
macro_rules! space_columns {
    () => {
        "id, name, created_at, deleted_at"
    };
}
pub(crate) use space_columns;

/// The columns of `api_tokens` that [`TokenRow`] reads, in a form `concat!` accepts.
macro_rules! token_columns {
    () => {
        "id, space_id, level, name, created_at, created_by, expires_at, last_used_at, \
         revoked_at, replaces, replaced_by, rotated_at, secret_hash, suspended_at, description, \
         last_used_ip"
    };
}
pub(crate) use token_columns;

/// What [`ApiToken`]'s transitions change, written back after the domain applied one: an
/// `UPDATE` of the row whose id is the first parameter, taking [`bind_state`]'s six values
/// from `$1`. In a form `concat!` accepts.
///
/// [`bind_state`]: crate::values::bind_state
macro_rules! state_assignments {
    () => {
        "UPDATE api_tokens SET expires_at = $2, revoked_at = $3, replaced_by = $4, \
         rotated_at = $5, suspended_at = $6 WHERE id = $1"
    };
}
pub(crate) use state_assignments;

/// The columns of `audit_events` that [`EventRow`] reads, in a form `concat!` accepts.
macro_rules! event_columns {
    () => {
        "id, at, action, actor, token_id, space_id, via_token_id, changed_fields"
    };
}
pub(crate) use event_columns;

/// A `timestamptz` as Postgres stores it: microseconds since 2000-01-01 UTC.
///
/// sqlx's own `OffsetDateTime` decoder panics on a value outside the `time` crate's range
/// (`'infinity'`, or the year 200000, both valid in Postgres), and a stored value must never
/// panic the service. This type decodes the raw microseconds; [`PgTimestamp::to_datetime`]
/// checks the range.
#[derive(Clone, Copy)]
pub(crate) struct PgTimestamp(i64);

impl PgTimestamp {
    /// 2000-01-01T00:00:00Z, Postgres's epoch, in Unix microseconds.
    const PG_EPOCH_UNIX_MICROS: i128 = 946_684_800_000_000;
}

impl StoredInstant for PgTimestamp {
    fn to_datetime(self) -> Option<OffsetDateTime> {
        let unix_nanos = (i128::from(self.0) + Self::PG_EPOCH_UNIX_MICROS) * 1_000;
        OffsetDateTime::from_unix_timestamp_nanos(unix_nanos).ok()
    }
}

impl Type<Postgres> for PgTimestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for PgTimestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value.as_bytes()?.try_into()?;
                Ok(Self(i64::from_be_bytes(bytes)))
            }
            // The adapter only runs prepared statements, whose results sqlx asks in binary.
            PgValueFormat::Text => Err("timestamptz in text format is not supported".into()),
        }
    }
}

/// An `inet` value: one address, in Postgres's binary format (family, netmask bits, `is_cidr`,
/// address length, the address). Written as a host address (full netmask); read as text
/// (`192.0.2.1`, or `10.0.0.0/8` for a network that someone wrote by hand, which the domain
/// then refuses as a corrupt row), so that reading never fails before the domain's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PgInet(pub(crate) IpAddr);

impl PgInet {
    /// `inet`'s type oid (`pg_type.oid`), and its array's.
    const OID: Oid = Oid(869);
    const ARRAY_OID: Oid = Oid(1041);
    /// `PGSQL_AF_INET` and `PGSQL_AF_INET6`, as the binary format names the families.
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 3;
}

impl Type<Postgres> for PgInet {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Self::OID)
    }
}

impl PgHasArrayType for PgInet {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Self::ARRAY_OID)
    }
}

impl Encode<'_, Postgres> for PgInet {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self.0 {
            IpAddr::V4(ip) => {
                buf.extend_from_slice(&[Self::AF_INET, 32, 0, 4]);
                buf.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                buf.extend_from_slice(&[Self::AF_INET6, 128, 0, 16]);
                buf.extend_from_slice(&ip.octets());
            }
        }
        Ok(IsNull::No)
    }
}

/// An `inet` as text, for [`StoredToken`]'s `last_used_ip`.
pub(crate) struct PgInetText(pub(crate) String);

impl Type<Postgres> for PgInetText {
    fn type_info() -> PgTypeInfo {
        PgInet::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for PgInetText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes = value.as_bytes()?;
                let (head, address) = bytes.split_at_checked(4).ok_or("inet: short value")?;
                let (family, bits, len) = (head[0], head[1], usize::from(head[3]));
                let ip = match (family, address.len()) {
                    (PgInet::AF_INET, 4) if len == 4 => IpAddr::from(<[u8; 4]>::try_from(address)?),
                    (PgInet::AF_INET6, 16) if len == 16 => {
                        IpAddr::from(<[u8; 16]>::try_from(address)?)
                    }
                    _ => return Err("inet: unknown family or length".into()),
                };
                let full = if ip.is_ipv4() { 32 } else { 128 };
                Ok(Self(if bits == full {
                    ip.to_string()
                } else {
                    format!("{ip}/{bits}")
                }))
            }
            PgValueFormat::Text => Ok(Self(value.as_str()?.to_owned())),
        }
    }
}

/// A row of `spaces`.
#[derive(sqlx::FromRow)]
pub(crate) struct SpaceRow {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) created_at: PgTimestamp,
    pub(crate) deleted_at: Option<PgTimestamp>,
}

impl TryFrom<SpaceRow> for Space {
    type Error = StoreError;

    fn try_from(row: SpaceRow) -> Result<Self, StoreError> {
        StoredSpace {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            deleted_at: row.deleted_at,
        }
        .into_space()
    }
}

/// A row of `api_tokens`. No `Debug`: it holds the secret hash.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub(crate) id: Uuid,
    pub(crate) space_id: Option<Uuid>,
    pub(crate) level: String,
    pub(crate) name: String,
    pub(crate) created_at: PgTimestamp,
    pub(crate) created_by: String,
    pub(crate) expires_at: Option<PgTimestamp>,
    pub(crate) last_used_at: Option<PgTimestamp>,
    pub(crate) revoked_at: Option<PgTimestamp>,
    pub(crate) replaces: Option<Uuid>,
    pub(crate) replaced_by: Option<Uuid>,
    pub(crate) rotated_at: Option<PgTimestamp>,
    pub(crate) secret_hash: String,
    pub(crate) suspended_at: Option<PgTimestamp>,
    pub(crate) description: Option<String>,
    pub(crate) last_used_ip: Option<PgInetText>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        StoredToken {
            id: row.id,
            space_id: row.space_id,
            level: row.level,
            name: row.name,
            created_at: row.created_at,
            created_by: row.created_by,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            replaces: row.replaces,
            replaced_by: row.replaced_by,
            rotated_at: row.rotated_at,
            secret_hash: row.secret_hash,
            suspended_at: row.suspended_at,
            description: row.description,
            last_used_ip: row.last_used_ip.map(|ip| ip.0),
        }
        .into_token()
    }
}

/// A row of `audit_events`.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub(crate) id: Uuid,
    pub(crate) at: PgTimestamp,
    pub(crate) action: String,
    pub(crate) actor: String,
    pub(crate) token_id: Option<Uuid>,
    pub(crate) space_id: Option<Uuid>,
    pub(crate) via_token_id: Option<Uuid>,
    pub(crate) changed_fields: Option<String>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        StoredEvent {
            id: row.id,
            at: row.at,
            action: row.action,
            actor: row.actor,
            token_id: row.token_id,
            space_id: row.space_id,
            via_token_id: row.via_token_id,
            changed_fields: row.changed_fields,
        }
        .into_event()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use time::Duration;

    use super::*;
    use tollgate_domain::{AuditAction, SpaceId, TokenId, TokenLevel};

    /// 2000-01-01T00:00:00Z plus `seconds`.
    fn pg_epoch_plus(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(946_684_800 + seconds)
    }

    const HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$do-not-print-me";

    fn micros(at: OffsetDateTime) -> PgTimestamp {
        let unix_micros = at.unix_timestamp_nanos() / 1_000;
        PgTimestamp(i64::try_from(unix_micros - PgTimestamp::PG_EPOCH_UNIX_MICROS).unwrap())
    }

    fn row() -> TokenRow {
        TokenRow {
            id: Uuid::from_u128(7),
            space_id: Some(Uuid::from_u128(1)),
            level: "client".into(),
            name: "ci".into(),
            created_at: micros(pg_epoch_plus(946_684_800)),
            created_by: "system".into(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            rotated_at: None,
            secret_hash: HASH.into(),
            suspended_at: None,
            description: None,
            last_used_ip: None,
        }
    }

    fn corrupt_message(row: TokenRow) -> String {
        match ApiToken::try_from(row) {
            Err(StoreError::Corrupt(message)) => message,
            Err(other) => panic!("expected Corrupt, got {other:?}"),
            Ok(token) => panic!("expected Corrupt, got {token:?}"),
        }
    }

    #[test]
    fn timestamps_convert_from_postgres_microseconds() {
        assert_eq!(PgTimestamp(0).to_datetime(), Some(pg_epoch_plus(0)));
        let at = pg_epoch_plus(1_000_000_000) + Duration::microseconds(789_012);
        assert_eq!(micros(at).to_datetime(), Some(at));
        assert_eq!(
            PgTimestamp(-1).to_datetime(),
            Some(pg_epoch_plus(0) - Duration::microseconds(1))
        );
    }

    #[test]
    fn infinite_and_huge_timestamps_are_out_of_range_not_a_panic() {
        assert_eq!(PgTimestamp(i64::MAX).to_datetime(), None);
        assert_eq!(PgTimestamp(i64::MIN).to_datetime(), None);
    }

    #[test]
    fn a_valid_row_becomes_a_token() {
        let token = ApiToken::try_from(row()).unwrap();
        assert_eq!(token.level(), TokenLevel::Client);
        assert_eq!(token.name().as_str(), "ci");
        assert_eq!(token.secret_hash().as_str(), HASH);
    }

    #[test]
    fn a_rotated_row_keeps_its_links_and_rotation_time() {
        let rotated = TokenRow {
            replaces: Some(Uuid::from_u128(6)),
            replaced_by: Some(Uuid::from_u128(8)),
            rotated_at: Some(micros(pg_epoch_plus(60))),
            ..row()
        };
        let token = ApiToken::try_from(rotated).unwrap();
        assert_eq!(
            token.replaces(),
            Some(TokenId::from_uuid(Uuid::from_u128(6)))
        );
        assert_eq!(
            token.replaced_by(),
            Some(TokenId::from_uuid(Uuid::from_u128(8)))
        );
        assert_eq!(token.rotated_at(), Some(pg_epoch_plus(60)));
    }

    fn event_row() -> EventRow {
        EventRow {
            id: Uuid::from_u128(9),
            at: PgTimestamp(0),
            action: "token.rotated".into(),
            actor: "user:u-42".into(),
            token_id: Some(Uuid::from_u128(7)),
            space_id: Some(Uuid::from_u128(1)),
            via_token_id: Some(Uuid::from_u128(3)),
            changed_fields: None,
        }
    }

    #[test]
    fn a_valid_event_row_becomes_an_event() {
        let event = AuditEvent::try_from(event_row()).unwrap();
        assert_eq!(event.action, AuditAction::TokenRotated);
        assert_eq!(event.actor.to_string(), "user:u-42");
        assert_eq!(event.at, pg_epoch_plus(0));
        assert_eq!(event.token_id, Some(TokenId::from_uuid(Uuid::from_u128(7))));
        assert_eq!(event.space_id, Some(SpaceId::from_uuid(Uuid::from_u128(1))));
        assert_eq!(
            event.via_token_id,
            Some(TokenId::from_uuid(Uuid::from_u128(3)))
        );
    }

    #[test]
    fn event_rows_that_break_a_domain_rule_are_corrupt_naming_the_row_and_the_rule() {
        for (bad, rule) in [
            (
                EventRow {
                    action: "token.deleted".into(),
                    ..event_row()
                },
                "action: unknown audit action",
            ),
            (
                EventRow {
                    actor: "robot".into(),
                    ..event_row()
                },
                "actor: created_by must be",
            ),
            (
                EventRow {
                    at: PgTimestamp(i64::MIN),
                    ..event_row()
                },
                "at is out of",
            ),
        ] {
            match AuditEvent::try_from(bad) {
                Err(StoreError::Corrupt(message)) => {
                    assert!(
                        message.contains("audit_events row 00000000-0000-0000-0000-000000000009"),
                        "{message}"
                    );
                    assert!(message.contains(rule), "{message} should name {rule:?}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn rows_that_break_a_domain_rule_are_corrupt_naming_the_row_and_the_rule() {
        let cases: Vec<(TokenRow, &str)> = vec![
            (
                TokenRow {
                    level: "root".into(),
                    ..row()
                },
                "token level",
            ),
            (
                TokenRow {
                    space_id: None,
                    ..row()
                },
                "instance token must be admin-level",
            ),
            (
                TokenRow {
                    name: "bad\u{7}name".into(),
                    ..row()
                },
                "control characters",
            ),
            (
                TokenRow {
                    name: String::new(),
                    ..row()
                },
                "must not be empty",
            ),
            (
                TokenRow {
                    name: "x".repeat(101),
                    ..row()
                },
                "at most 100",
            ),
            (
                TokenRow {
                    name: " padded".into(),
                    ..row()
                },
                "stored trimmed",
            ),
            (
                TokenRow {
                    created_by: "robot".into(),
                    ..row()
                },
                "created_by",
            ),
            (
                TokenRow {
                    created_by: "token:xyz".into(),
                    ..row()
                },
                "created_by",
            ),
            (
                TokenRow {
                    created_at: PgTimestamp(i64::MAX),
                    ..row()
                },
                "created_at is out of",
            ),
            (
                TokenRow {
                    expires_at: Some(PgTimestamp(i64::MIN)),
                    ..row()
                },
                "expires_at is out of",
            ),
            (
                TokenRow {
                    last_used_at: Some(PgTimestamp(i64::MAX)),
                    ..row()
                },
                "last_used_at is out of",
            ),
            (
                TokenRow {
                    last_used_ip: Some(PgInetText("10.0.0.0/8".into())),
                    ..row()
                },
                "last_used_ip must be one address",
            ),
            (
                TokenRow {
                    revoked_at: Some(PgTimestamp(i64::MAX)),
                    ..row()
                },
                "revoked_at is out of",
            ),
            (
                TokenRow {
                    replaced_by: Some(Uuid::from_u128(8)),
                    rotated_at: Some(PgTimestamp(i64::MAX)),
                    ..row()
                },
                "rotated_at is out of",
            ),
            (
                TokenRow {
                    replaced_by: Some(Uuid::from_u128(8)),
                    ..row()
                },
                "replaced_by and rotated_at must be set together",
            ),
            (
                TokenRow {
                    rotated_at: Some(PgTimestamp(0)),
                    ..row()
                },
                "replaced_by and rotated_at must be set together",
            ),
        ];
        for (bad, rule) in cases {
            let message = corrupt_message(bad);
            assert!(
                message.contains("api_tokens row 00000000-0000-0000-0000-000000000007"),
                "{message}"
            );
            assert!(message.contains(rule), "{message} should name {rule:?}");
            assert!(!message.contains("do-not-print-me"), "{message}");
        }
    }

    #[test]
    fn space_rows_that_break_a_domain_rule_are_corrupt() {
        let good = || SpaceRow {
            id: Uuid::from_u128(3),
            name: "acme".into(),
            created_at: PgTimestamp(0),
            deleted_at: None,
        };
        assert!(Space::try_from(good()).is_ok());
        for (bad, rule) in [
            (
                SpaceRow {
                    name: "a\nb".into(),
                    ..good()
                },
                "control characters",
            ),
            (
                SpaceRow {
                    name: "acme ".into(),
                    ..good()
                },
                "stored trimmed",
            ),
            (
                SpaceRow {
                    created_at: PgTimestamp(i64::MAX),
                    ..good()
                },
                "created_at is out of",
            ),
        ] {
            match Space::try_from(bad) {
                Err(StoreError::Corrupt(message)) => {
                    assert!(message.contains("spaces row 00000000-0000-0000-0000-000000000003"));
                    assert!(message.contains(rule), "{message} should name {rule:?}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
    }
}
