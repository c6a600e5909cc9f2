//! Domain values as statement parameters: the columns of a token or an event, bound in the
//! order of [`token_columns!`](crate::rows::token_columns) and
//! [`event_columns!`](crate::rows::event_columns), so that an `INSERT` naming those columns
//! takes them as `$n` to `$n + 15` (token) or `$n + 7` (event).

use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::{Encode, Postgres, Type};
use tollgate_domain::{ApiToken, AuditEvent};

use crate::rows::PgInet;

/// A statement that takes parameters: sqlx's [`Query`] and [`QueryAs`], which have the same
/// `bind` without a common trait.
pub(crate) trait Bind<'q>: Sized {
    /// Binds the next parameter.
    fn bind_value<T: 'q + Encode<'q, Postgres> + Type<Postgres>>(self, value: T) -> Self;
}

impl<'q> Bind<'q> for Query<'q, Postgres, PgArguments> {
    fn bind_value<T: 'q + Encode<'q, Postgres> + Type<Postgres>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q, O> Bind<'q> for QueryAs<'q, Postgres, O, PgArguments> {
    fn bind_value<T: 'q + Encode<'q, Postgres> + Type<Postgres>>(self, value: T) -> Self {
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
        .bind_value(token.created_at())
        .bind_value(token.created_by().to_string())
        .bind_value(token.expires_at())
        .bind_value(token.last_used_at())
        .bind_value(token.revoked_at())
        .bind_value(token.replaces().map(|id| id.as_uuid()))
        .bind_value(token.replaced_by().map(|id| id.as_uuid()))
        .bind_value(token.rotated_at())
        .bind_value(token.secret_hash().as_str())
        .bind_value(token.suspended_at())
        .bind_value(token.description().map(|d| d.as_str()))
        .bind_value(token.last_used_ip().map(PgInet))
}

/// Binds what a token's transitions change, in the order of
/// [`state_assignments!`](crate::rows::state_assignments): its id, then `expires_at`, `revoked_at`, `replaced_by`,
/// `rotated_at` and `suspended_at`, as `$n` to `$n + 5`.
pub(crate) fn bind_state<'q, Q: Bind<'q>>(query: Q, token: &ApiToken) -> Q {
    query
        .bind_value(token.id().as_uuid())
        .bind_value(token.expires_at())
        .bind_value(token.revoked_at())
        .bind_value(token.replaced_by().map(|id| id.as_uuid()))
        .bind_value(token.rotated_at())
        .bind_value(token.suspended_at())
}

/// Binds the 8 columns of `event`, in `event_columns!()` order.
pub(crate) fn bind_event<'q, Q: Bind<'q>>(query: Q, event: &AuditEvent) -> Q {
    query
        .bind_value(event.id.as_uuid())
        .bind_value(event.at)
        .bind_value(event.action.as_str())
        .bind_value(event.actor.to_string())
        .bind_value(event.token_id.map(|id| id.as_uuid()))
        .bind_value(event.space_id.map(|id| id.as_uuid()))
        .bind_value(event.via_token_id.map(|id| id.as_uuid()))
        .bind_value((!event.changed.is_empty()).then(|| event.changed.to_text()))
}
