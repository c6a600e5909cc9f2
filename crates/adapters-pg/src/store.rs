//! [`PgStore`]: the connection pool, how it is opened, the migrations, and the health check.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tollgate_app::ports::StoreHealth;
use tollgate_app::StoreError;

use crate::error::{migrate_error, store_error, ConnectError, MigrateError};

/// The migrations in `crates/adapters-pg/migrations`, embedded at build time. Exposed for
/// tools such as `#[sqlx::test(migrator = "tollgate_pg::MIGRATOR")]`; a service calls
/// [`PgStore::migrate`].
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How the pool behaves. Build it as `PgOptions { max_connections: 20, ..PgOptions::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgOptions {
    /// The most connections the pool opens. Default 10.
    pub max_connections: u32,
    /// How long a query waits for a connection (a free one, or a new one while Postgres is
    /// unreachable) before failing with [`StoreError::Unavailable`]. Default 3 seconds: a
    /// request fails fast with 503 instead of piling up while the database is down.
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The Postgres store: one pool behind [`SpaceRepository`](tollgate_app::ports::SpaceRepository),
/// [`TokenRepository`](tollgate_app::ports::TokenRepository),
/// [`AuditRepository`](tollgate_app::ports::AuditRepository),
/// [`SessionRepository`](tollgate_app::ports::SessionRepository), [`StoreHealth`] and
/// [`StoreTransfer`](tollgate_app::ports::StoreTransfer).
///
/// Cheap to clone (the pool is shared). Every write is one statement, atomic on its own (a
/// token and its audit event are written by the same statement), except a rotation, which
/// locks the old token and then writes in one transaction begun and committed inside
/// `rotate`, and an import, one transaction of its own. The pool reconnects by itself: after
/// an outage the same store answers again once Postgres is back.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Keeps a test database alive while a store from [`crate::testing::TestDatabase`] exists.
    #[cfg(feature = "testing")]
    test_database: Option<std::sync::Arc<crate::testing::DatabaseGuard>>,
}

impl PgStore {
    /// Opens a pool on `url` (`postgres://user:password@host:port/database?sslmode=...`) and
    /// checks that Postgres answers by opening one connection.
    ///
    /// Connecting eagerly is the right default for `tollgate serve`, which runs the migrations
    /// next anyway: a wrong URL or password stops the start with a clear error instead of
    /// a service that answers 503 forever. Use [`PgStore::connect_lazy`] to start while the
    /// database may still be down.
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`] for a URL that is not a Postgres URL;
    /// [`ConnectError::Connect`] if no connection could be opened within
    /// `options.acquire_timeout`.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self, ConnectError> {
        let connect_options = connect_options(url)?;
        match pool_options(options)
            .connect_with(connect_options.clone())
            .await
        {
            Ok(pool) => Ok(Self::from_pool(pool)),
            // The pool says only that it waited in vain ("pool timed out"): one connection
            // of our own says why ("Connection refused", a DNS failure, a bad password).
            Err(sqlx::Error::PoolTimedOut) => {
                let cause = tokio::time::timeout(
                    options.acquire_timeout,
                    PgConnection::connect_with(&connect_options),
                )
                .await;
                Err(ConnectError::Connect(store_error(match cause {
                    Ok(Err(error)) => error,
                    Ok(Ok(_)) | Err(_) => sqlx::Error::PoolTimedOut,
                })))
            }
            Err(error) => Err(ConnectError::Connect(store_error(error))),
        }
    }

    /// Like [`PgStore::connect`] but opens no connection now: the first query does. Until
    /// Postgres answers, every method (and so the readiness probe) fails with
    /// [`StoreError::Unavailable`].
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`] for a URL that is not a Postgres URL.
    pub fn connect_lazy(url: &str, options: PgOptions) -> Result<Self, ConnectError> {
        let connect_options = connect_options(url)?;
        Ok(Self::from_pool(
            pool_options(options).connect_lazy_with(connect_options),
        ))
    }

    /// Wraps a pool built elsewhere.
    #[must_use]
    pub const fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            #[cfg(feature = "testing")]
            test_database: None,
        }
    }

    /// The pool, for callers that need raw access (tests, maintenance tools).
    #[must_use]
    pub const fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Ties a test database's life to this store (see [`crate::testing::TestDatabase::store`]).
    #[cfg(feature = "testing")]
    pub(crate) fn keeping_alive(
        mut self,
        guard: std::sync::Arc<crate::testing::DatabaseGuard>,
    ) -> Self {
        self.test_database = Some(guard);
        self
    }

    /// Applies the migrations that this database lacks, in order, each in its own transaction.
    /// Safe to run from several instances at once (sqlx holds an advisory lock meanwhile) and
    /// on every start (applied migrations are skipped).
    ///
    /// # Errors
    /// [`MigrateError`] if Postgres is unreachable, a migration fails, or the database's
    /// migration history does not match this build's.
    ///
    /// Returns the migrations applied now, oldest first, as `VERSION description` (`0009 token
    /// suspension`): empty when the database was up to date.
    #[tracing::instrument(name = "pg.migrate", skip_all)]
    pub async fn migrate(&self) -> Result<Vec<String>, MigrateError> {
        // A new database has no history table yet: nothing was applied. (Another node
        // migrating at the same time may make this list name one it applied: harmless.)
        let before: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .unwrap_or_default();
        MIGRATOR.run(&self.pool).await.map_err(migrate_error)?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| format!("{:04} {}", m.version, m.description))
            .collect())
    }

    /// Closes the pool, waiting for queries in flight to finish. Later calls fail with
    /// [`StoreError::Unavailable`]. For a graceful shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn connect_options(url: &str) -> Result<PgConnectOptions, ConnectError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| ConnectError::InvalidUrl(Box::new(e)))?;
    // Names the service in pg_stat_activity, unless the URL already chose a name.
    Ok(if options.get_application_name().is_none() {
        options.application_name("tollgate")
    } else {
        options
    })
}

fn pool_options(options: PgOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
}

#[async_trait]
impl StoreHealth for PgStore {
    #[tracing::instrument(name = "pg.health_check", level = "debug", skip_all)]
    async fn check(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }
}
