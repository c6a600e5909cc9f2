//! [`SqliteStore`]: how the file is opened (WAL, foreign keys, a busy timeout, full sync), its
//! two pools, the migrations, the health check and online backups.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Sqlite;
use tollgate_app::ports::StoreHealth;
use tollgate_app::StoreError;

use crate::error::{store_error, BackupError, MigrateError, OpenError};
use crate::lock::ServerLock;

/// The migrations in `crates/adapters-sqlite/migrations`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How the store behaves. Build it as `SqliteOptions { readers: 8, ..SqliteOptions::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Connections that read (SQLite's WAL lets readers run beside the one writer). Default 4.
    pub readers: u32,
    /// How long a statement waits for another process's write lock (SQLite's busy timeout),
    /// and a request for a free connection, before failing with [`StoreError::Unavailable`].
    /// Default 5 seconds.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The SQLite store: one file behind [`SpaceRepository`](tollgate_app::ports::SpaceRepository),
/// [`TokenRepository`](tollgate_app::ports::TokenRepository),
/// [`AuditRepository`](tollgate_app::ports::AuditRepository),
/// [`SessionRepository`](tollgate_app::ports::SessionRepository), [`StoreHealth`] and
/// [`StoreTransfer`](tollgate_app::ports::StoreTransfer).
///
/// SQLite lets one connection write at a time, so the store keeps one writing connection, which
/// writes queue for in order (no two of this process's writes ever contend for SQLite's lock,
/// so none fails busy), and a pool of readers. Every write is one transaction, begun
/// `IMMEDIATE` so that a write by another process waits for the busy timeout instead of failing
/// midway. Commits are synced to disk (`synchronous = FULL`): a write that was answered
/// survives a crash of the process or of the machine.
///
/// Cheap to clone (the pools are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    path: PathBuf,
    /// Held while this store serves (see [`SqliteStore::lock_for_serving`]).
    lock: Option<std::sync::Arc<ServerLock>>,
    /// Keeps a test file's directory while a store from [`crate::testing::TestFile`] exists.
    #[cfg(feature = "testing")]
    test_dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

impl SqliteStore {
    /// Opens the SQLite file at `path`, creating it if it does not exist, and checks that it
    /// is a database this process can write.
    ///
    /// # Errors
    /// [`OpenError::MissingDirectory`] if its directory does not exist,
    /// [`OpenError::NotWritable`] if the file or directory cannot be written,
    /// [`OpenError::NotADatabase`] for a file that is not a SQLite database or is damaged,
    /// [`OpenError::Failed`] otherwise.
    pub async fn open(path: &Path, options: SqliteOptions) -> Result<Self, OpenError> {
        let path = absolute(path);
        match path.parent() {
            Some(dir) if dir.is_dir() => {}
            _ => return Err(OpenError::MissingDirectory(path)),
        }
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(|e| OpenError::classify(path.clone(), e))?;
        // Reads the header and schema, so that a file that is no database fails here rather
        // than at the first request; inside a write transaction, which SQLite refuses for a
        // file it could only open read-only.
        probe(&writer)
            .await
            .map_err(|e| OpenError::classify(path.clone(), e))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .acquire_timeout(options.busy_timeout)
            .connect_lazy_with(connect);
        Ok(Self {
            writer,
            readers,
            path,
            lock: None,
            #[cfg(feature = "testing")]
            test_dir: None,
        })
    }

    /// Takes the single-server lock on this file: an OS lock (`flock` on a `-lock` file beside
    /// it) that the operating system releases when the process ends, however it ends, even by
    /// `kill -9`. Held until the last clone of this store is dropped.
    ///
    /// A second server on the same file would not learn of the first one's revocations in time
    /// to keep its cache honest, so `tollgate serve` takes this lock, and so do commands that
    /// change the schema or bulk-load (`migrate`, `import`). Reading commands (`export`,
    /// `backup`) do not need it.
    ///
    /// # Errors
    /// [`OpenError::HeldByAnotherServer`] if another process holds it;
    /// [`OpenError::Failed`] if the lock file cannot be created.
    pub fn lock_for_serving(mut self) -> Result<Self, OpenError> {
        let lock = ServerLock::acquire(&self.path)?;
        self.lock = Some(std::sync::Arc::new(lock));
        Ok(self)
    }

    /// Ties a test directory's life to this store (see [`crate::testing::TestFile::open`]).
    #[cfg(feature = "testing")]
    pub(crate) fn keeping_alive(mut self, dir: std::sync::Arc<tempfile::TempDir>) -> Self {
        self.test_dir = Some(dir);
        self
    }

    /// The file, as an absolute path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection that writes.
    pub(crate) const fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The connections that read.
    pub(crate) const fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    /// Begins a write transaction that holds SQLite's write lock from its first statement.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)
    }

    /// Applies the migrations that this file lacks, in order; applied ones are skipped.
    /// Returns the ones applied now, oldest first, as `VERSION description` (`0007 token
    /// suspension`): empty when the file was up to date.
    ///
    /// # Errors
    /// [`MigrateError`] if a migration fails or the file's migration history does not match
    /// this build's (a file written by a newer tollgate, say).
    #[tracing::instrument(name = "sqlite.migrate", skip_all)]
    pub async fn migrate(&self) -> Result<Vec<String>, MigrateError> {
        // A new file has no history table yet: nothing was applied.
        let before: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.writer)
                .await
                .unwrap_or_default();
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| MigrateError(Box::new(e)))?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| format!("{:04} {}", m.version, m.description))
            .collect())
    }

    /// Writes a consistent copy of the whole store to the new file `to` (`VACUUM INTO`), while
    /// the store keeps serving: the copy is a snapshot of one moment, taken by a reader, so
    /// writes go on meanwhile. The copy is a plain SQLite file that [`SqliteStore::open`]
    /// opens as it is.
    ///
    /// # Errors
    /// [`BackupError::TargetExists`] if `to` exists; [`BackupError::Failed`] if SQLite could
    /// not write it (a missing directory, a full disk, ...).
    #[tracing::instrument(name = "sqlite.backup", skip_all)]
    pub async fn backup(&self, to: &Path) -> Result<(), BackupError> {
        let target = absolute(to);
        if target.exists() {
            return Err(BackupError::TargetExists(target));
        }
        let Some(name) = target.to_str() else {
            return Err(BackupError::Failed {
                path: target,
                source: StoreError::Failed("the backup path is not valid UTF-8".into()),
            });
        };
        sqlx::query("VACUUM INTO ?")
            .bind(name.to_owned())
            .execute(&self.readers)
            .await
            .map(drop)
            .map_err(|e| BackupError::Failed {
                path: target.clone(),
                source: store_error(e),
            })
    }

    /// Closes both pools, waiting for statements in flight, and checkpoints the WAL into the
    /// file. Later calls fail with [`StoreError::Unavailable`]. For a graceful shutdown.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

/// Begins and rolls back a write transaction that reads the schema.
async fn probe(writer: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("SELECT count(*) FROM sqlite_schema")
        .execute(&mut *tx)
        .await?;
    tx.rollback().await
}

/// `path` made absolute against the working directory, so that logs and errors say exactly
/// which file is meant. A working directory that cannot be read leaves it as it is.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[async_trait]
impl StoreHealth for SqliteStore {
    #[tracing::instrument(name = "sqlite.health_check", level = "debug", skip_all)]
    async fn check(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.readers)
            .await
            .map(drop)
            .map_err(store_error)
    }
}
