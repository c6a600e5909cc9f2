//! Rows as SQLite returns them, their columns, and how domain values are bound as parameters.
//! Rows become domain values through the app's [`tollgate_app::stored`] rows, which apply the
//! domain's constructors for every store.

use sqlx::query::{Query, QueryAs};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Encode, Sqlite, Type};
use time::OffsetDateTime;
use tollgate_app::stored::{StoredEvent, StoredInstant, StoredSpace, StoredToken};
use tollgate_app::StoreError;
use tollgate_domain::{ApiToken, AuditEvent, Space};
use uuid::Uuid;

/// The columns of `spaces`, in [`SpaceRow`]'s order, in a form `concat!` accepts.
macro_rules! space_columns {
    () => {
        "id, name, created_at, deleted_at"
    };
}
pub(crate) use space_columns;

/// The columns of `api_tokens`, in [`bind_token`]'s order, in a form `concat!` accepts.
macro_rules! token_columns {
    () => {
        "id, space_id, level, name, created_at, created_by, expires_at, last_used_at, \
         revoked_at, replaces, replaced_by, rotated_at, secret_hash, suspended_at, description, \
         last_used_ip"
    };
}
pub(crate) use token_columns;

/// The columns of `audit_events`, in [`bind_event`]'s order, in a form `concat!` accepts.
macro_rules! event_columns {
    () => {
        "id, at, action, actor, token_id, space_id, via_token_id, changed_fields"
    };
}
pub(crate) use event_columns;

/// An instant as this store keeps it: microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct Micros(pub(crate) i64);

impl Micros {
    /// `at` in microseconds. Every instant the domain makes is in whole microseconds (the
    /// `Clock` contract) and within the years the `time` crate knows, which fit an `i64`.
    pub(crate) fn of(at: OffsetDateTime) -> Self {
        let micros = at.unix_timestamp_nanos() / 1_000;
        Self(i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX }))
    }
}

impl StoredInstant for Micros {
    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000).ok()
    }
}

/// A row of `spaces`.
#[derive(sqlx::FromRow)]
pub(crate) struct SpaceRow {
    id: Uuid,
    name: String,
    created_at: Micros,
    deleted_at: Option<Micros>,
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
    id: Uuid,
    space_id: Option<Uuid>,
    level: String,
    name: String,
    created_at: Micros,
    created_by: String,
    expires_at: Option<Micros>,
    last_used_at: Option<Micros>,
    revoked_at: Option<Micros>,
    replaces: Option<Uuid>,
    replaced_by: Option<Uuid>,
    rotated_at: Option<Micros>,
    secret_hash: String,
    suspended_at: Option<Micros>,
    description: Option<String>,
    last_used_ip: Option<String>,
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
            last_used_ip: row.last_used_ip,
        }
        .into_token()
    }
}

/// A row of `audit_events`.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: Uuid,
    at: Micros,
    action: String,
    actor: String,
    token_id: Option<Uuid>,
    space_id: Option<Uuid>,
    via_token_id: Option<Uuid>,
    changed_fields: Option<String>,
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

/// Reads rows into domain values, failing on the first that breaks a rule.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// A statement that takes parameters: sqlx's [`Query`] and [`QueryAs`], which have the same
/// `bind` without a common trait.
pub(crate) trait Bind<'q>: Sized {
    /// Binds the next parameter.
    fn bind_value<T: 'q + Encode<'q, Sqlite> + Type<Sqlite>>(self, value: T) -> Self;
}

impl<'q> Bind<'q> for Query<'q, Sqlite, SqliteArguments<'q>> {
    fn bind_value<T: 'q + Encode<'q, Sqlite> + Type<Sqlite>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q, O> Bind<'q> for QueryAs<'q, Sqlite, O, SqliteArguments<'q>> {
    fn bind_value<T: 'q + Encode<'q, Sqlite> + Type<Sqlite>>(self, value: T) -> Self {
        self.bind(value)
    }
}

/// Binds the 16 columns of `token`, in `token_columns!()` order.
pub(crate) fn bind_token<'q, Q: Bind<'q>>(query: Q, token: &'q ApiToken) -> Q {
    query
        .bind_value(token.id().as_uuid())
        .bind_value(token.space_id().map(|id| id.as_uuid()))
        .bind_value(token.level().as_str())
        .bind_value(token.name().as_str())
        .bind_value(Micros::of(token.created_at()))
        .bind_value(token.created_by().to_string())
        .bind_value(token.expires_at().map(Micros::of))
        .bind_value(token.last_used_at().map(Micros::of))
        .bind_value(token.revoked_at().map(Micros::of))
        .bind_value(token.replaces().map(|id| id.as_uuid()))
        .bind_value(token.replaced_by().map(|id| id.as_uuid()))
        .bind_value(token.rotated_at().map(Micros::of))
        .bind_value(token.secret_hash().as_str())
        .bind_value(token.suspended_at().map(Micros::of))
        .bind_value(token.description().map(|d| d.as_str()))
        .bind_value(token.last_used_ip().map(|ip| ip.to_string()))
}

/// Binds what a token's transitions change, in the order of [`STATE_UPDATE`]: `expires_at`,
/// `revoked_at`, `replaced_by`, `rotated_at`, `suspended_at`, then the id.
///
/// [`STATE_UPDATE`]: crate::tokens::STATE_UPDATE
pub(crate) fn bind_state<'q, Q: Bind<'q>>(query: Q, token: &ApiToken) -> Q {
    query
        .bind_value(token.expires_at().map(Micros::of))
        .bind_value(token.revoked_at().map(Micros::of))
        .bind_value(token.replaced_by().map(|id| id.as_uuid()))
        .bind_value(token.rotated_at().map(Micros::of))
        .bind_value(token.suspended_at().map(Micros::of))
        .bind_value(token.id().as_uuid())
}

/// Binds the 8 columns of `event`, in `event_columns!()` order.
pub(crate) fn bind_event<'q, Q: Bind<'q>>(query: Q, event: &AuditEvent) -> Q {
    query
        .bind_value(event.id.as_uuid())
        .bind_value(Micros::of(event.at))
        .bind_value(event.action.as_str())
        .bind_value(event.actor.to_string())
        .bind_value(event.token_id.map(|id| id.as_uuid()))
        .bind_value(event.space_id.map(|id| id.as_uuid()))
        .bind_value(event.via_token_id.map(|id| id.as_uuid()))
        .bind_value((!event.changed.is_empty()).then(|| event.changed.to_text()))
}

/// A page size as SQLite's `LIMIT` takes it.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_microseconds() {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::microseconds(1_764_000_000_123_456);
        assert_eq!(Micros::of(at).to_datetime(), Some(at));
        let before = OffsetDateTime::UNIX_EPOCH - time::Duration::microseconds(5);
        assert_eq!(Micros::of(before).to_datetime(), Some(before));
    }

    #[test]
    fn huge_stored_instants_are_out_of_range_not_a_panic() {
        assert_eq!(Micros(i64::MAX).to_datetime(), None);
        assert_eq!(Micros(i64::MIN).to_datetime(), None);
    }
}
