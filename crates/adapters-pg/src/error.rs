//! From sqlx errors to the app's [`StoreError`] and this crate's [`ConnectError`] and
//! [`MigrateError`].
//!
//! A Postgres error, as sqlx keeps it, carries the server's `DETAIL` line, and for a constraint
//! violation that line is the failing row, secret hash included: printing the error with `{:?}`
//! would log the hash. So a database error is never kept: [`DbError`] copies its SQLSTATE,
//! primary message and constraint name (none of which holds row data) and the original is
//! dropped. Other sqlx errors hold no row data and are kept as they are.

use std::fmt;

use tollgate_app::{BoxError, StoreError};

/// Names of the constraints the adapter maps to specific errors (`migrations/`).
pub(crate) mod constraint {
    /// A space with this id exists already.
    pub(crate) const SPACES_PKEY: &str = "spaces_pkey";
    /// A token with this id exists already (where the write is not `ON CONFLICT DO NOTHING`).
    pub(crate) const TOKENS_PKEY: &str = "api_tokens_pkey";
    /// A token names a space that does not exist.
    pub(crate) const TOKENS_SPACE_FKEY: &str = "api_tokens_space_id_fkey";
    /// An audit event with this id exists already.
    pub(crate) const EVENTS_PKEY: &str = "audit_events_pkey";
    /// An audit event names a space that does not exist.
    pub(crate) const EVENTS_SPACE_FKEY: &str = "audit_events_space_id_fkey";
    /// A console session names a token that does not exist.
    pub(crate) const SESSIONS_TOKEN_FKEY: &str = "console_sessions_token_id_fkey";
    /// A nonce names a console session that does not exist (deleted meanwhile).
    pub(crate) const NONCES_SESSION_FKEY: &str = "console_nonces_session_digest_fkey";
}

/// A Postgres error without its detail, hint or context lines (see the module documentation).
#[derive(Debug)]
pub(crate) struct DbError {
    code: String,
    message: String,
    constraint: Option<String>,
}

impl DbError {
    fn new(err: &dyn sqlx::error::DatabaseError) -> Self {
        Self {
            code: err
                .code()
                .map_or_else(|| "?????".to_owned(), std::borrow::Cow::into_owned),
            message: err.message().to_owned(),
            constraint: err.constraint().map(str::to_owned),
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLSTATE {})", self.message, self.code)?;
        if let Some(constraint) = &self.constraint {
            write!(f, " on constraint {constraint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DbError {}

/// Whether a SQLSTATE means the server cannot serve this connection now (it is unreachable,
/// shutting down, starting up or out of connection slots), as opposed to a statement that failed.
pub(crate) fn is_unavailable_sqlstate(code: &str) -> bool {
    // Class 08: connection exception.
    code.starts_with("08")
        || matches!(
            code,
            // admin_shutdown, crash_shutdown, cannot_connect_now, idle_session_timeout
            "57P01" | "57P02" | "57P03" | "57P05"
            // too_many_connections
            | "53300"
        )
}

/// The constraint a statement violated, if that is why it failed.
pub(crate) fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// Classifies a sqlx error: the connection or pool failing is [`StoreError::Unavailable`], a
/// value that cannot be decoded is [`StoreError::Corrupt`], anything else [`StoreError::Failed`].
/// Every database failure passes here, so here it is counted (`tollgate_store_errors_total`).
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    classify(err).counted()
}

fn classify(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => {
            let db = DbError::new(db.as_ref());
            if is_unavailable_sqlstate(&db.code) {
                StoreError::Unavailable(Box::new(db))
            } else {
                StoreError::Failed(Box::new(db))
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(err)),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(format!("a stored value could not be decoded: {err}"))
        }
        other => StoreError::Failed(Box::new(other)),
    }
}

/// [`PgStore::connect`](crate::PgStore::connect) failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a Postgres connection URL. The URL itself is not repeated: it may hold
    /// a password.
    #[error("the database URL is not a valid Postgres connection URL")]
    InvalidUrl(#[source] BoxError),
    /// Postgres could not be reached in time ([`StoreError::Unavailable`]) or refused the
    /// connection (bad credentials, unknown database: [`StoreError::Failed`]).
    #[error("could not connect to Postgres")]
    Connect(#[source] StoreError),
}

impl ConnectError {
    /// Whether Postgres was merely unreachable, so that retrying later may succeed.
    #[must_use]
    pub const fn is_unavailable(&self) -> bool {
        matches!(self, Self::Connect(err) if err.is_unavailable())
    }
}

/// [`PgStore::migrate`](crate::PgStore::migrate) failed; nothing of the failing migration is
/// applied (each migration runs in its own transaction).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Postgres could not be reached.
    #[error("could not reach Postgres to run the database migrations")]
    Unavailable(#[source] BoxError),
    /// A migration failed, or the database's migration history does not match this build's
    /// (an applied migration was edited, or a newer build migrated the database).
    #[error("the database migrations failed")]
    Failed(#[source] BoxError),
}

/// One migration's statements failed.
#[derive(Debug, thiserror::Error)]
#[error("migration {version} failed")]
struct MigrationFailed {
    version: i64,
    #[source]
    source: StoreError,
}

pub(crate) fn migrate_error(err: sqlx::migrate::MigrateError) -> MigrateError {
    use sqlx::migrate::MigrateError as E;
    let (err, version) = match err {
        E::Execute(err) => (err, None),
        E::ExecuteMigration(err, version) => (err, Some(version)),
        other => return MigrateError::Failed(Box::new(other)),
    };
    match (store_error(err), version) {
        (StoreError::Unavailable(source), _) => MigrateError::Unavailable(source),
        (source, Some(version)) => {
            MigrateError::Failed(Box::new(MigrationFailed { version, source }))
        }
        (source, None) => MigrateError::Failed(Box::new(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_sqlstates_are_unavailable_and_statement_ones_are_not() {
        for code in [
            "08000", "08006", "08001", "57P01", "57P02", "57P03", "57P05", "53300",
        ] {
            assert!(is_unavailable_sqlstate(code), "{code}");
        }
        for code in [
            "23505", "23503", "23514", "42P01", "57014", "40001", "XX000",
        ] {
            assert!(!is_unavailable_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn pool_and_io_failures_are_unavailable_and_decode_failures_corrupt() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(store_error(sqlx::Error::Io(refused)).is_unavailable());
        assert!(store_error(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(store_error(sqlx::Error::PoolClosed).is_unavailable());
        assert!(matches!(
            store_error(sqlx::Error::Decode("bad bytes".into())),
            StoreError::Corrupt(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::ColumnNotFound("level".into())),
            StoreError::Failed(_)
        ));
    }
}
