//! Fresh SQLite files for tests (feature `testing`): [`TestFile::create`] makes a new,
//! migrated database file in a temporary directory of its own, removed with the last handle.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{SqliteOptions, SqliteStore};

/// A migrated SQLite file in a temporary directory, removed when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct TestFile {
    dir: Arc<tempfile::TempDir>,
    path: PathBuf,
}

impl TestFile {
    /// A new, empty, migrated store file.
    ///
    /// # Panics
    /// If the temporary directory or the store cannot be made.
    #[allow(clippy::expect_used)]
    pub async fn create() -> Self {
        let file = Self::empty_dir();
        let store = file.open().await;
        store
            .migrate()
            .await
            .expect("failed to migrate a test store");
        store.close().await;
        file
    }

    /// A temporary directory, and the path of a store file in it that does not exist yet.
    ///
    /// # Panics
    /// If the temporary directory cannot be made.
    #[allow(clippy::expect_used)]
    #[must_use]
    pub fn empty_dir() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tollgate-test-")
            .tempdir()
            .expect("failed to make a temporary directory");
        let path = dir.path().join("tollgate.db");
        Self {
            dir: Arc::new(dir),
            path,
        }
    }

    /// The store file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `sqlite://` and the file, as `DATABASE_URL` takes it.
    #[must_use]
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// A store on the file (which is created if it does not exist), keeping the directory
    /// until it is dropped too.
    ///
    /// # Panics
    /// If it cannot be opened.
    #[allow(clippy::expect_used)]
    pub async fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.path, SqliteOptions::default())
            .await
            .expect("failed to open a test store")
            .keeping_alive(Arc::clone(&self.dir))
    }
}
