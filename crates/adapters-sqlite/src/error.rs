//! From sqlx errors to the app's [`StoreError`] and this crate's [`OpenError`],
//! [`MigrateError`] and [`BackupError`].
//!
//! SQLite's messages hold no row data (a constraint violation names the constraint or the
//! columns, never the values), but a database error is still copied into [`DbError`], its
//! extended result code and message, so that nothing sqlx may add later can carry a hash into a
//! log. Violations are told apart by their extended result code, never by message text: SQLite
//! names a CHECK constraint in its message but not a key, so the code is the one stable signal.

use std::fmt;
use std::path::PathBuf;

use tollgate_app::{BoxError, StoreError};

/// The extended result codes the adapter tells apart (<https://sqlite.org/rescode.html>).
pub(crate) mod code {
    /// `SQLITE_BUSY` and its extended codes: the file is locked by another writer.
    pub(crate) const BUSY: i32 = 5;
    /// `SQLITE_LOCKED`: a table is locked within this process.
    pub(crate) const LOCKED: i32 = 6;
    /// `SQLITE_READONLY`: the file or its directory cannot be written.
    pub(crate) const READONLY: i32 = 8;
    /// `SQLITE_CANTOPEN`: the file cannot be opened or created.
    pub(crate) const CANTOPEN: i32 = 14;
    /// `SQLITE_CORRUPT`: the file is damaged.
    pub(crate) const CORRUPT: i32 = 11;
    /// `SQLITE_NOTADB`: the file is not a SQLite database.
    pub(crate) const NOTADB: i32 = 26;
    /// `SQLITE_CONSTRAINT_FOREIGNKEY`: a row names a space (or token) that does not exist.
    pub(crate) const FOREIGN_KEY: i32 = 787;
    /// `SQLITE_CONSTRAINT_PRIMARYKEY`: a row with this id exists already.
    pub(crate) const PRIMARY_KEY: i32 = 1555;
}

/// A SQLite error, as its extended result code and message (see the module documentation).
#[derive(Debug)]
pub(crate) struct DbError {
    code: i32,
    message: String,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLite code {})", self.message, self.code)
    }
}

impl std::error::Error for DbError {}

/// The extended result code of a database error.
pub(crate) fn extended_code(err: &sqlx::Error) -> Option<i32> {
    match err {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse().ok()),
        _ => None,
    }
}

/// A sqlx error as a [`StoreError`]: a busy or locked file (after the busy timeout) or a closed
/// pool is [`StoreError::Unavailable`] (the request answers 503 and may be retried), a value
/// that cannot be decoded [`StoreError::Corrupt`], anything else [`StoreError::Failed`].
/// Every database failure passes here, so here it is counted (`tollgate_store_errors_total`).
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    classify(err).counted()
}

fn classify(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => {
            let copied = DbError {
                code: db.code().and_then(|c| c.parse().ok()).unwrap_or(-1),
                message: db.message().to_owned(),
            };
            match copied.code & 0xff {
                code::BUSY | code::LOCKED => StoreError::Unavailable(Box::new(copied)),
                _ => StoreError::Failed(Box::new(copied)),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(err))
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(format!("a stored value cannot be read: {err}"))
        }
        other => StoreError::Failed(Box::new(other)),
    }
}

/// The error for a failed write, given what the violated key means in the caller's words.
pub(crate) fn write_error(
    err: sqlx::Error,
    on_primary_key: impl FnOnce() -> String,
    on_foreign_key: impl FnOnce() -> String,
) -> StoreError {
    match extended_code(&err) {
        Some(code::PRIMARY_KEY) => StoreError::Failed(on_primary_key().into()),
        Some(code::FOREIGN_KEY) => StoreError::Failed(on_foreign_key().into()),
        _ => store_error(err),
    }
}

/// Why a SQLite store could not be opened. Every message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory that should hold the file does not exist.
    #[error("cannot open the SQLite store {}: its directory does not exist (create it, or pick another file with DATABASE_URL=sqlite://PATH)", .0.display())]
    MissingDirectory(PathBuf),
    /// The file or its directory cannot be written (SQLite also writes `-wal` and `-shm` files
    /// beside it).
    #[error("cannot open the SQLite store {}: the file or its directory is not writable (tollgate writes the file and its -wal and -shm companions there)", .path.display())]
    NotWritable {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: BoxError,
    },
    /// The file is not a SQLite database, or is damaged.
    #[error("cannot open the SQLite store {}: the file is not a SQLite database or is damaged (restore it from a backup made with `tollgate backup`)", .path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: BoxError,
    },
    /// Another tollgate server holds the file.
    #[error("another tollgate server is already serving the SQLite store {}. A SQLite store serves one server: a revocation made by one would not reach the other's cache. Stop the other server, or run several nodes on Postgres (DATABASE_URL=postgres://...; see docs/operations.md)", .0.display())]
    HeldByAnotherServer(PathBuf),
    /// Any other failure.
    #[error("cannot open the SQLite store {}", .path.display())]
    Failed {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: BoxError,
    },
}

impl OpenError {
    /// Classifies an error met while opening or first reading `path`.
    pub(crate) fn classify(path: PathBuf, err: sqlx::Error) -> Self {
        let source: BoxError = match &err {
            sqlx::Error::Database(db) => Box::new(DbError {
                code: db.code().and_then(|c| c.parse().ok()).unwrap_or(-1),
                message: db.message().to_owned(),
            }),
            _ => Box::new(err),
        };
        match source.downcast_ref::<DbError>().map(|db| db.code & 0xff) {
            Some(code::NOTADB | code::CORRUPT) => Self::NotADatabase { path, source },
            Some(code::READONLY | code::CANTOPEN) => Self::NotWritable { path, source },
            _ => Self::Failed { path, source },
        }
    }
}

/// Applying the migrations failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to migrate the SQLite store")]
pub struct MigrateError(#[source] pub(crate) BoxError);

/// A backup could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists already; a backup never overwrites a file.
    #[error("{} exists already: a backup never overwrites a file; pick a new path", .0.display())]
    TargetExists(PathBuf),
    /// SQLite could not write the copy.
    #[error("failed to write the backup to {}", .path.display())]
    Failed {
        /// The target.
        path: PathBuf,
        /// What failed.
        #[source]
        source: StoreError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_unavailable_and_decode_failures_corrupt() {
        assert!(store_error(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(matches!(
            store_error(sqlx::Error::Decode("bad".into())),
            StoreError::Corrupt(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::RowNotFound),
            StoreError::Failed(_)
        ));
    }
}
