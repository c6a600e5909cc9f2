//! The single-server lock: an exclusive `flock` on a `-lock` file beside the database.
//!
//! The lock is the operating system's, not a pid file: it belongs to the open file description,
//! and the kernel drops it when the process ends, however it ends, so a crashed server never
//! leaves a stale lock behind. It is taken on a file of its own rather than on the database,
//! because SQLite uses POSIX locks on the database, which the process would lose the moment any
//! other descriptor of the database file was closed.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::OpenError;

/// Held for as long as it lives.
#[derive(Debug)]
pub(crate) struct ServerLock {
    _file: File,
}

impl ServerLock {
    /// The lock file of the database at `database`: `database` with `-lock` appended.
    pub(crate) fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push("-lock");
        PathBuf::from(name)
    }

    /// Takes the lock of the database at `database`, without waiting.
    pub(crate) fn acquire(database: &Path) -> Result<Self, OpenError> {
        let failed = |source: std::io::Error| OpenError::Failed {
            path: database.to_owned(),
            source: Box::new(source),
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(Self::path_for(database))
            .map_err(failed)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => {
                Err(OpenError::HeldByAnotherServer(database.to_owned()))
            }
            Err(TryLockError::Error(e)) => Err(failed(e)),
        }
    }
}
