//! Fresh Postgres databases for tests (feature `testing`).
//!
//! [`TestDatabase::create`] makes a new, uniquely named, migrated database on the server named
//! by `TOLLGATE_TEST_DATABASE_URL` (default [`DEFAULT_ADMIN_URL`]), so tests never share data
//! and may run in parallel. The database is dropped when the last [`TestDatabase`] clone and
//! the last [`PgStore`] from [`TestDatabase::store`] are gone. A test process that is killed
//! leaves its databases behind; [`drop_stale_test_databases`] removes them.
//!
//! There is no silent skip: without a reachable server, `create` panics with the command that
//! starts one.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

use crate::PgStore;

/// The environment variable holding the URL of a database on the test server, as a user that
/// may create databases.
pub const ADMIN_URL_ENV: &str = "TOLLGATE_TEST_DATABASE_URL";

/// The admin URL used when [`ADMIN_URL_ENV`] is not set: the local Postgres of `scripts/test`.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Every test database's name starts with this, followed by a UUID v7 in simple form (whose
/// timestamp says when it was created).
pub const TEST_DATABASE_PREFIX: &str = "tollgate_test_";

/// How to get a server, said by every panic of this module.
const HOW_TO_START: &str = "The Postgres tests need a running server: start it with \
     `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or run `scripts/test`, which \
     starts it. Point TOLLGATE_TEST_DATABASE_URL at another server if needed.";

/// A fresh, migrated database, dropped when the last handle to it goes.
#[derive(Clone)]
pub struct TestDatabase {
    guard: Arc<DatabaseGuard>,
    url: String,
    options: PgConnectOptions,
    pool: PgPool,
}

impl fmt::Debug for TestDatabase {
    // The URL and options may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.guard.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// The admin URL: [`ADMIN_URL_ENV`] if set, else [`DEFAULT_ADMIN_URL`].
    #[must_use]
    pub fn admin_url() -> String {
        std::env::var(ADMIN_URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
    }

    /// Creates a fresh database on the server of [`TestDatabase::admin_url`] and runs the
    /// migrations on it.
    ///
    /// # Panics
    /// If the server cannot be reached (with a message saying how to start it), or creating or
    /// migrating the database fails.
    pub async fn create() -> Self {
        Self::create_on(&Self::admin_url()).await
    }

    /// [`TestDatabase::create`] on the server of `admin_url`.
    ///
    /// # Panics
    /// As [`TestDatabase::create`].
    pub async fn create_on(admin_url: &str) -> Self {
        let admin: PgConnectOptions = admin_url.parse().unwrap_or_else(|e| {
            panic!("{ADMIN_URL_ENV} is not a valid Postgres URL ({e}). {HOW_TO_START}")
        });
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach Postgres as {}@{}:{} ({e}). {HOW_TO_START}",
                    admin.get_username(),
                    admin.get_host(),
                    admin.get_port(),
                )
            });
        let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::now_v7().simple());
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        // From here on, a panic drops the database again.
        let guard = Arc::new(DatabaseGuard {
            name: name.clone(),
            admin: admin.clone(),
        });
        // Best effort: the connection is closed when dropped anyway.
        let _ = conn.close().await;

        let options = admin.database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test database {name}: {e}"));
        PgStore::from_pool(pool.clone())
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("cannot migrate test database {name}: {e:?}"));
        Self {
            guard,
            url: options.to_url_lossy().to_string(),
            options,
            pool,
        }
    }

    /// The database's name (`tollgate_test_<uuid>`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.guard.name
    }

    /// A URL of the database, for a server under test (`DATABASE_URL`).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connect options of the database, to derive other connections (another host or
    /// port, say).
    #[must_use]
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A pool on the database (at most 5 connections), for raw SQL in tests. The database
    /// is dropped when the last [`TestDatabase`] handle goes, whatever pool clones remain.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The store on the database, on [`TestDatabase::pool`]. It keeps the database alive on its
    /// own, so `TestDatabase::create().await.store()` is a complete, empty store.
    #[must_use]
    pub fn store(&self) -> PgStore {
        PgStore::from_pool(self.pool.clone()).keeping_alive(Arc::clone(&self.guard))
    }
}

/// Drops its database when dropped.
pub(crate) struct DatabaseGuard {
    name: String,
    admin: PgConnectOptions,
}

impl fmt::Debug for DatabaseGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseGuard")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        // `Drop` cannot await, and the test's runtime may be shutting down: drop the database
        // from a thread with a runtime of its own, and wait for it so the test process does not
        // exit first.
        let admin = self.admin.clone();
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&admin, &name))
                .map_err(|e| format!("cannot drop test database {name}: {e}"))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(message)) => eprintln!("tollgate-pg: {message}"),
            Err(_) => eprintln!("tollgate-pg: the thread dropping a test database panicked"),
        }
    }
}

async fn drop_database(admin: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(admin).await?;
    // FORCE (Postgres 13+) ends the sessions still connected, such as pools of a server under
    // test.
    conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
        .await?;
    conn.close().await
}

/// Drops the test databases on the server of `admin_url` created more than `older_than` ago,
/// left behind by test processes that were killed. Returns their names. Databases of tests
/// running now are younger than any sensible `older_than` (say, an hour); `Duration::ZERO`
/// drops them all, which only a script that runs before any test may do.
///
/// # Errors
/// The first error of connecting, listing or dropping.
pub async fn drop_stale_test_databases(
    admin_url: &str,
    older_than: Duration,
) -> Result<Vec<String>, sqlx::Error> {
    let admin: PgConnectOptions = admin_url.parse()?;
    let cutoff = SystemTime::now()
        .checked_sub(older_than)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .unwrap_or_default();
    let mut conn = PgConnection::connect_with(&admin).await?;
    let names: Vec<String> = sqlx::query_scalar(
        r"SELECT datname FROM pg_database WHERE datname LIKE 'tollgate\_test\_%' ORDER BY datname",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    let mut dropped = Vec::new();
    for name in names {
        if created_at(&name).is_some_and(|at| at <= cutoff) {
            drop_database(&admin, &name).await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// When a test database was created, from the UUID v7 in its name (time since the Unix epoch).
fn created_at(name: &str) -> Option<Duration> {
    let uuid = Uuid::try_parse(name.strip_prefix(TEST_DATABASE_PREFIX)?).ok()?;
    let (seconds, nanos) = uuid.get_timestamp()?.to_unix();
    Some(Duration::new(seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_database_name_tells_when_it_was_created() {
        let uuid = Uuid::now_v7();
        let name = format!("{TEST_DATABASE_PREFIX}{}", uuid.simple());
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let at = created_at(&name).unwrap_or_default();
        assert!(now.saturating_sub(at) < Duration::from_secs(60), "{at:?}");
        assert_eq!(created_at("tollgate_test_not-a-uuid"), None);
        assert_eq!(
            created_at("tollgate_other_0190f3b2c1d27c3e8a5b6c7d8e9f0a1b"),
            None
        );
        let v4 = format!("{TEST_DATABASE_PREFIX}{}", Uuid::from_u128(1).simple());
        assert_eq!(created_at(&v4), None);
    }
}

/// What a [`TcpProxy`] does with the connections it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forwards bytes both ways.
    Forward,
    /// Accepts, then closes at once, as a server that is shutting down does.
    HangUp,
}

/// A TCP proxy on 127.0.0.1 in front of the test server, to stage outages: stopping it cuts
/// every connection and refuses new ones; starting it again on the same port ends the outage.
#[derive(Debug)]
pub struct TcpProxy {
    port: u16,
    target: std::net::SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TcpProxy {
    /// A forwarding proxy to `target` on a free port.
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1.
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind the proxy: {e}"));
        let port = listener.local_addr().map_or(0, |a| a.port());
        Self {
            port,
            target,
            task: Some(proxy(listener, target, ProxyMode::Forward)),
        }
    }

    /// The port it listens on.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Closes the listener (new connections are refused) and every proxied connection.
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port, in `mode`.
    ///
    /// # Panics
    /// If the port was taken meanwhile.
    pub async fn restart(&mut self, mode: ProxyMode) {
        self.stop().await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap_or_else(|e| panic!("cannot bind the proxy again: {e}"));
        self.task = Some(proxy(listener, self.target, mode));
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn proxy(
    listener: tokio::net::TcpListener,
    target: std::net::SocketAddr,
    mode: ProxyMode,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Dropped with this task when it is aborted, which aborts every connection's task.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            while connections.try_join_next().is_some() {}
            match mode {
                ProxyMode::HangUp => drop(inbound),
                ProxyMode::Forward => {
                    connections.spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
        }
    })
}

/// The test server's address, from the admin URL.
///
/// # Panics
/// If the admin URL does not name a TCP host.
pub async fn postgres_address() -> std::net::SocketAddr {
    let admin: PgConnectOptions = TestDatabase::admin_url()
        .parse()
        .unwrap_or_else(|e| panic!("{ADMIN_URL_ENV} is not a Postgres URL: {e}"));
    let mut addresses = tokio::net::lookup_host((admin.get_host(), admin.get_port()))
        .await
        .unwrap_or_else(|e| panic!("cannot resolve the test server: {e}"));
    addresses
        .next()
        .unwrap_or_else(|| panic!("the test server must be reached over TCP"))
}
