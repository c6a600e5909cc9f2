//! Which store `DATABASE_URL` (or `--store`) names, and opening it: SQLite by default, Postgres
//! for several nodes, the in-memory store for trying things out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tollgate_app::adapters::InMemoryStore;
use tollgate_app::ports::{
    AuditRepository, RevocationFeed, ServerKeyRepository, SessionRepository, SpaceRepository,
    StoreHealth, TokenRepository,
};
use tollgate_pg::{PgOptions, PgRevocationFeed, PgStore};
use tollgate_sqlite::{SqliteChangeFeed, SqliteOptions, SqliteStore};

use crate::config::{DatabaseArgs, StoreKind};

/// The file the SQLite store uses when nothing else is configured.
pub const DEFAULT_SQLITE_FILE: &str = "tollgate.db";

/// The store a configuration names.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A Postgres database, by its URL (which may hold a password: never print it).
    Postgres(String),
    /// The in-memory store, which keeps nothing.
    Memory,
}

impl std::fmt::Debug for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) => f.write_str("Postgres(..)"),
            Self::Memory => f.write_str("Memory"),
        }
    }
}

/// What `DATABASE_URL` may look like, said by every refusal.
const URL_FORMS: &str = "DATABASE_URL takes sqlite://PATH (SQLite, the default: ./tollgate.db), \
     postgres://USER@HOST/DATABASE (Postgres, for several nodes) or memory: (in memory, keeps \
     nothing)";

impl StoreChoice {
    /// The store that `url` (`DATABASE_URL`) and `kind` (`--store`) name: SQLite at
    /// [`DEFAULT_SQLITE_FILE`] when neither is given.
    ///
    /// # Errors
    /// An unknown scheme, a `sqlite://` URL without a path or with options, or a `--store`
    /// that contradicts the URL, each with a message listing the forms accepted. The message
    /// names the scheme at most, never the rest of the URL (it may hold a password).
    pub fn of(url: Option<&str>, kind: Option<StoreKind>) -> anyhow::Result<Self> {
        let from_url = url.map(Self::parse).transpose()?;
        match (from_url, kind) {
            (None, None | Some(StoreKind::Sqlite)) => {
                Ok(Self::Sqlite(PathBuf::from(DEFAULT_SQLITE_FILE)))
            }
            (None, Some(StoreKind::Memory)) => Ok(Self::Memory),
            (None, Some(StoreKind::Postgres)) => {
                anyhow::bail!("--store postgres needs DATABASE_URL=postgres://...")
            }
            (Some(choice), None) => Ok(choice),
            (Some(choice), Some(kind)) if choice.kind() == kind => Ok(choice),
            (Some(choice), Some(kind)) => anyhow::bail!(
                "--store {} contradicts DATABASE_URL, which names a {} store; set one of them",
                kind.name(),
                choice.kind().name()
            ),
        }
    }

    fn parse(url: &str) -> anyhow::Result<Self> {
        if url == "memory:" {
            return Ok(Self::Memory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                anyhow::bail!("DATABASE_URL=sqlite:// needs a file, as in sqlite://tollgate.db");
            }
            if path.contains('?') {
                anyhow::bail!(
                    "DATABASE_URL=sqlite://PATH takes no options (tollgate sets WAL, foreign \
                     keys and a busy timeout itself); remove what follows '?'"
                );
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let scheme: String = scheme
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+-.".contains(*c))
            .take(20)
            .collect();
        if scheme.is_empty() {
            anyhow::bail!("DATABASE_URL is not a URL. {URL_FORMS}");
        }
        anyhow::bail!("DATABASE_URL names an unknown store {scheme:?}. {URL_FORMS}")
    }

    const fn kind(&self) -> StoreKind {
        match self {
            Self::Sqlite(_) => StoreKind::Sqlite,
            Self::Postgres(_) => StoreKind::Postgres,
            Self::Memory => StoreKind::Memory,
        }
    }
}

/// An opened store, as the services take it.
pub struct Store {
    pub spaces: Arc<dyn SpaceRepository>,
    pub tokens: Arc<dyn TokenRepository>,
    pub events: Arc<dyn AuditRepository>,
    pub health: Arc<dyn StoreHealth>,
    /// Admin console sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// The server's keys, shared by every node on the store.
    pub keys: Arc<dyn ServerKeyRepository>,
    /// Changes made by other nodes or processes; none for the in-memory store, which nobody
    /// else shares.
    pub revocations: Option<Box<dyn RevocationFeed>>,
}

impl Store {
    fn over<S>(store: &Arc<S>, revocations: Option<Box<dyn RevocationFeed>>) -> Self
    where
        S: SpaceRepository
            + TokenRepository
            + AuditRepository
            + SessionRepository
            + ServerKeyRepository
            + StoreHealth
            + 'static,
    {
        Self {
            spaces: store.clone(),
            tokens: store.clone(),
            events: store.clone(),
            health: store.clone(),
            sessions: store.clone(),
            keys: store.clone(),
            revocations,
        }
    }
}

/// Opens the store to serve from, migrated: takes the SQLite file's single-server lock.
pub async fn open_for_serving(args: &DatabaseArgs) -> anyhow::Result<Store> {
    match args.choice()? {
        StoreChoice::Sqlite(path) => {
            let sqlite = open_sqlite_exclusive(&path).await?;
            tracing::info!(path = %sqlite.path().display(), "store: SQLite (one server; several nodes need Postgres)");
            let feed = SqliteChangeFeed::new(&sqlite)
                .await
                .context("failed to read the SQLite store's change log")?;
            Ok(Store::over(&Arc::new(sqlite), Some(Box::new(feed))))
        }
        StoreChoice::Postgres(url) => {
            let pg = connect_postgres(&url, args).await?;
            let applied = pg.migrate().await.context("failed to run the migrations")?;
            report_migrations("Postgres", &applied);
            tracing::info!("store: Postgres");
            let feed = PgRevocationFeed::new(pg.pool());
            Ok(Store::over(&Arc::new(pg), Some(Box::new(feed))))
        }
        StoreChoice::Memory => {
            tracing::warn!("store: IN MEMORY. Nothing is kept: every space and token is lost when tollgate stops. Unset DATABASE_URL to keep them in ./tollgate.db (SQLite), or set DATABASE_URL=postgres://... for Postgres.");
            let memory = InMemoryStore::new();
            Ok(Store {
                spaces: memory.spaces.clone(),
                tokens: memory.tokens.clone(),
                events: memory.events.clone(),
                sessions: memory.sessions.clone(),
                keys: memory.keys.clone(),
                health: Arc::new(memory),
                revocations: None,
            })
        }
    }
}

/// Opens the store for the operator commands, migrated, without the SQLite file's lock: they
/// work beside a running server, which learns of their changes to tokens from the file's change
/// log (Postgres: from the NOTIFY its triggers send). The in-memory store is refused: a
/// command's changes would vanish with it.
pub async fn open_for_operator(args: &DatabaseArgs) -> anyhow::Result<Store> {
    match args.choice()? {
        StoreChoice::Sqlite(path) => Ok(Store::over(
            &Arc::new(open_sqlite_shared(&path).await?),
            None,
        )),
        StoreChoice::Postgres(url) => {
            let pg = connect_postgres(&url, args).await?;
            let applied = pg.migrate().await.context("failed to run the migrations")?;
            report_migrations("Postgres", &applied);
            Ok(Store::over(&Arc::new(pg), None))
        }
        StoreChoice::Memory => anyhow::bail!(
            "the in-memory store keeps nothing, so a command's change would be lost at once: \
             the operator commands work on a SQLite file (unset DATABASE_URL for ./tollgate.db, \
             or sqlite://PATH) or on Postgres (postgres://...)"
        ),
    }
}

/// Opens the SQLite file at `path` (creating it), holding the single-server lock, migrated.
pub async fn open_sqlite_exclusive(path: &std::path::Path) -> anyhow::Result<SqliteStore> {
    let sqlite = SqliteStore::open(path, SqliteOptions::default())
        .await?
        .lock_for_serving()?;
    let applied = sqlite.migrate().await.with_context(|| {
        format!(
            "failed to migrate the SQLite store {}",
            sqlite.path().display()
        )
    })?;
    report_migrations("SQLite", &applied);
    Ok(sqlite)
}

/// Says which migrations were applied now, or that there were none to apply.
pub fn report_migrations(store: &str, applied: &[String]) {
    if applied.is_empty() {
        tracing::info!("{store}: migrations are up to date");
    } else {
        tracing::info!(
            count = applied.len(),
            migrations = %applied.join(", "),
            "{store}: applied migrations"
        );
    }
}

/// Opens the SQLite file at `path`, which must exist, without the lock: for commands that read
/// while a server may be running.
pub async fn open_sqlite_shared(path: &std::path::Path) -> anyhow::Result<SqliteStore> {
    anyhow::ensure!(
        path.exists(),
        "there is no SQLite store at {}: set DATABASE_URL=sqlite://PATH to the file `tollgate serve` uses",
        path.display()
    );
    let sqlite = SqliteStore::open(path, SqliteOptions::default()).await?;
    let applied = sqlite.migrate().await.with_context(|| {
        format!(
            "failed to migrate the SQLite store {}",
            sqlite.path().display()
        )
    })?;
    report_migrations("SQLite", &applied);
    Ok(sqlite)
}

/// Connects to Postgres at `url` with the pool settings of `args`.
pub async fn connect_postgres(url: &str, args: &DatabaseArgs) -> anyhow::Result<PgStore> {
    let options = PgOptions {
        max_connections: args.db_max_connections,
        acquire_timeout: Duration::from_secs(args.db_acquire_timeout_seconds),
    };
    PgStore::connect(url, options)
        .await
        .context("failed to connect to Postgres (DATABASE_URL)")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn choice(url: Option<&str>, kind: Option<StoreKind>) -> Result<StoreChoice, String> {
        StoreChoice::of(url, kind).map_err(|e| e.to_string())
    }

    #[test]
    fn no_configuration_is_sqlite_in_the_working_directory() {
        assert_eq!(
            choice(None, None),
            Ok(StoreChoice::Sqlite(PathBuf::from("tollgate.db")))
        );
        assert_eq!(
            choice(None, Some(StoreKind::Sqlite)),
            Ok(StoreChoice::Sqlite(PathBuf::from("tollgate.db")))
        );
    }

    #[test]
    fn each_url_form_names_its_store() {
        for (url, expected) in [
            (
                "sqlite://data/t.db",
                StoreChoice::Sqlite("data/t.db".into()),
            ),
            (
                "sqlite:///var/lib/t.db",
                StoreChoice::Sqlite("/var/lib/t.db".into()),
            ),
            ("sqlite:t.db", StoreChoice::Sqlite("t.db".into())),
            ("memory:", StoreChoice::Memory),
            (
                "postgres://u:pw@h/db",
                StoreChoice::Postgres("postgres://u:pw@h/db".into()),
            ),
            (
                "postgresql://h/db",
                StoreChoice::Postgres("postgresql://h/db".into()),
            ),
        ] {
            assert_eq!(choice(Some(url), None), Ok(expected), "{url}");
        }
        assert_eq!(
            choice(None, Some(StoreKind::Memory)),
            Ok(StoreChoice::Memory)
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_listing_the_three_without_the_rest_of_the_url() {
        for url in ["mysql://root:hunter2@db/t", "redis://x", "tollgate.db", ""] {
            let message = choice(Some(url), None).unwrap_err();
            for form in ["sqlite://PATH", "postgres://", "memory:"] {
                assert!(message.contains(form), "{url}: {message}");
            }
            assert!(!message.contains("hunter2"), "{message}");
        }
        assert!(choice(Some("mysql://x"), None)
            .unwrap_err()
            .contains("\"mysql\""));
    }

    #[test]
    fn contradictions_and_bad_sqlite_urls_are_refused() {
        for (url, kind, says) in [
            (Some("memory:"), Some(StoreKind::Sqlite), "contradicts"),
            (None, Some(StoreKind::Postgres), "needs DATABASE_URL"),
            (Some("sqlite://"), None, "needs a file"),
            (Some("sqlite://t.db?mode=ro"), None, "takes no options"),
        ] {
            let message = choice(url, kind).unwrap_err();
            assert!(message.contains(says), "{url:?} {kind:?}: {message}");
        }
    }
}
