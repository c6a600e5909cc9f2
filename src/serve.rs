//! Wiring: builds the store, the services and the router from the configuration, bootstraps
//! the instance admin token, and serves until SIGINT or SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tollgate_app::adapters::{OsRandomSource, SystemClock};
use tollgate_app::auth_limits::{AuthFailureLimit, AuthLimits};
use tollgate_app::ports::Clock;
use tollgate_app::telemetry::HttpRequestMetrics;
use tollgate_app::{
    CursorKey, LeakReportConfig, ReportLimit, SessionService, SpaceService, TokenService, Verifier,
};
use tollgate_console::{ConsoleConfig, ConsoleState, PublicUrl};
use tollgate_domain::SessionTimeouts;

use crate::config::{BackupArgs, ConnectionArgs, ConsoleArgs, DatabaseArgs, ServeArgs};
use crate::store::{self, StoreChoice};

/// `tollgate serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    args.limits.refuse_retired()?;
    runtime()?.block_on(serve(args))
}

/// `tollgate migrate`.
pub fn migrate(args: &DatabaseArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match args.choice()? {
            StoreChoice::Sqlite(path) => {
                let sqlite = store::open_sqlite_exclusive(&path).await?;
                tracing::info!(path = %sqlite.path().display(), "SQLite store");
            }
            StoreChoice::Postgres(url) => {
                let pg = store::connect_postgres(&url, args).await?;
                let applied = pg.migrate().await.context("failed to run the migrations")?;
                store::report_migrations("Postgres", &applied);
            }
            StoreChoice::Memory => {
                anyhow::bail!("the in-memory store has nothing to migrate: tollgate migrate needs a SQLite or Postgres store");
            }
        }
        Ok(())
    })
}

/// `tollgate backup PATH`.
pub fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let StoreChoice::Sqlite(path) = args.database.choice()? else {
            anyhow::bail!(
                "tollgate backup copies a SQLite store; back up Postgres with pg_dump, and the in-memory store holds nothing to copy"
            );
        };
        let sqlite = store::open_sqlite_shared(&path).await?;
        sqlite.backup(&args.path).await?;
        tracing::info!(from = %sqlite.path().display(), to = %args.path.display(), "backup written");
        Ok(())
    })
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the tokio runtime")
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // First: the services register their metric handles as they are built.
    let metrics = match args.metrics_listen {
        Some(listen) => Some(crate::metrics::install(listen).await?),
        None => None,
    };
    let hasher = Arc::new(args.hashing.hasher()?);
    let lifetimes = args.lifecycle.lifetimes.policy()?;
    let store = store::open_for_serving(&args.database).await?;
    let (clock, random) = (services_clock()?, Arc::new(OsRandomSource));
    // One key for every node on the store: a cursor one node hands out, the next one opens.
    let cursor_key = store
        .keys
        .cursor_key(&CursorKey::random())
        .await
        .context("failed to read the cursor key from the store")?;
    let sessions = (store.sessions, store.tokens.clone(), clock.clone());
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens,
        store.events,
        hasher,
        clock.clone(),
        random.clone(),
    )
    .with_verify_cache(args.cache.config())
    .with_lifetime_policy(lifetimes)
    .with_cursor_key(cursor_key.clone());
    let spaces = SpaceService::new(store.spaces, Arc::clone(tokens.verifier()), clock, random)
        .with_cursor_key(cursor_key);
    // The address before the first token: a server that cannot listen must not create (and
    // print) an instance admin token that belongs to a server that never ran.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {} (TOLLGATE_LISTEN)", args.listen))?;
    bootstrap(
        &tokens,
        args.bootstrap_token.as_deref(),
        args.bootstrap_revoke_others,
        args.first_token_path.as_deref(),
    )
    .await?;
    if let Some(feed) = store.revocations {
        let follower = Arc::clone(tokens.verifier());
        tokio::spawn(async move { follower.follow_revocations(feed).await });
    }
    let flusher = tokio::spawn(flush_last_used_every(
        Arc::clone(tokens.verifier()),
        Duration::from_secs(args.lifecycle.last_used_flush_seconds),
    ));

    let limits = &args.limits;
    let request_timeout = Duration::from_secs(args.request_timeout_seconds);
    // One set of brute-force limits for the node: the API and the console's sign-in count
    // against the same ones.
    let auth_limits = AuthLimits::new(
        AuthFailureLimit::new(
            limits.auth_failures_per_address,
            limits.auth_failures_per_address,
        ),
        AuthFailureLimit::new(
            limits.auth_failures_per_token,
            limits.auth_failures_per_token,
        ),
    );
    let (session_store, token_store, session_clock) = sessions;
    let sessions = SessionService::new(
        session_store,
        token_store,
        Arc::clone(tokens.verifier()),
        session_clock,
    )
    .with_timeouts(session_timeouts(&args.console)?)
    .with_auth_limits(auth_limits.clone());
    let console = ConsoleState::new(
        spaces.clone(),
        tokens.clone(),
        sessions,
        ConsoleConfig {
            public_url: args
                .console
                .public_url
                .as_deref()
                .map(PublicUrl::parse)
                .transpose()?,
            trusted_proxies: limits.trusted_proxies.clone(),
            request_timeout,
        },
    );
    let state = tollgate_http::AppState {
        spaces,
        tokens: tokens.clone(),
        health: store.health,
    };
    // One set of request metrics for the API and the console, only when metrics are served.
    let request_metrics = metrics.is_some().then(HttpRequestMetrics::new);
    let config = tollgate_http::HttpConfig {
        request_timeout,
        trusted_proxies: limits.trusted_proxies.clone(),
        request_metrics,
        leak_reports: LeakReportConfig {
            per_address: ReportLimit::new(
                limits.leak_reports_per_address,
                limits.leak_reports_per_address,
            ),
            ..LeakReportConfig::default()
        },
        ..tollgate_http::HttpConfig::default()
    };
    let mut console = tollgate_console::router(console);
    if let Some(request_metrics) = request_metrics {
        console = tollgate_http::with_request_metrics(console, request_metrics);
    }
    let router = tollgate_http::router_sharing_limits(state, config, auth_limits).merge(console);
    let connections = connection_config(&args.connections);
    let metrics = match metrics {
        Some(metrics) => Some(metrics.serve(Arc::clone(tokens.verifier()), connections)?),
        None => None,
    };
    let address = listener
        .local_addr()
        .context("failed to read the bound address")?;
    tracing::info!(%address, "listening");
    // A stable line for people and for the end-to-end tests, whatever the log filter.
    eprintln!("tollgate listening on http://{address}");
    let served = tollgate_http::serve(listener, router, connections, shutdown_signal()).await;
    // Requests are done: write the last uses before the process ends.
    flusher.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    match tokens.verifier().flush_last_used().await {
        Ok(written) => tracing::info!(written, "last uses flushed"),
        Err(error) => tracing::warn!(
            error = &error as &dyn std::error::Error,
            "could not flush the last uses"
        ),
    }
    served.context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The clock the services read: the system's. A build with the `fixed-clock` feature (for
/// `scripts/screenshots`, never a release) reads `TOLLGATE_FIXED_CLOCK` instead, an RFC 3339
/// instant the clock then stands still at, so that pictures of pages do not change between runs.
pub(crate) fn services_clock() -> anyhow::Result<Arc<dyn Clock>> {
    #[cfg(feature = "fixed-clock")]
    if let Ok(at) = std::env::var("TOLLGATE_FIXED_CLOCK") {
        let at = time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
            .context("TOLLGATE_FIXED_CLOCK must be an RFC 3339 instant")?;
        tracing::warn!(%at, "the clock stands still (TOLLGATE_FIXED_CLOCK): for screenshots only");
        return Ok(Arc::new(tollgate_app::adapters::ManualClock::new(at)));
    }
    Ok(Arc::new(SystemClock))
}

/// The connection bounds, with the file-descriptor limit raised first (if asked) and the
/// connection limit lowered to fit in it: past it, `accept` fails and nobody is served.
fn connection_config(args: &ConnectionArgs) -> tollgate_http::ConnectionConfig {
    // Descriptors the process needs besides client connections: the store's pool and files,
    // the listeners, the metrics listener's connections (crate::metrics::MAX_CONNECTIONS),
    // standard streams, and some room.
    const RESERVED_FDS: u64 = 256;
    let soft_limit = if args.raise_fd_limit {
        rlimit::increase_nofile_limit(u64::MAX)
    } else {
        rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft)
    };
    let mut max_connections = args.max_connections;
    match soft_limit {
        Ok(soft) => {
            tracing::info!(limit = soft, "file descriptors");
            let fits = soft.saturating_sub(RESERVED_FDS).max(1);
            if max_connections > fits {
                tracing::warn!(
                    configured = max_connections,
                    fits,
                    fd_limit = soft,
                    "TOLLGATE_MAX_CONNECTIONS lowered to fit the file-descriptor limit (ulimit -n)"
                );
                max_connections = fits;
            }
        }
        Err(error) => tracing::warn!(%error, "could not read or raise the file-descriptor limit"),
    }
    tollgate_http::ConnectionConfig {
        header_read_timeout: Duration::from_secs(args.header_read_timeout_seconds),
        idle_timeout: Duration::from_secs(args.idle_timeout_seconds),
        max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
    }
}

/// How long console sessions last.
fn session_timeouts(args: &ConsoleArgs) -> anyhow::Result<SessionTimeouts> {
    SessionTimeouts::new(
        time::Duration::minutes(i64::from(args.console_idle_timeout_minutes)),
        time::Duration::hours(i64::from(args.console_absolute_timeout_hours)),
    )
    .context("TOLLGATE_CONSOLE_IDLE_TIMEOUT_MINUTES must not exceed TOLLGATE_CONSOLE_ABSOLUTE_TIMEOUT_HOURS")
}

/// Writes `last_used_at` every `interval`: at most one write per token per interval.
async fn flush_last_used_every(verifier: Arc<Verifier>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = verifier.flush_last_used().await {
            tracing::warn!(
                error = &error as &dyn std::error::Error,
                "could not write last uses; keeping them for the next flush"
            );
        }
    }
}

async fn bootstrap(
    tokens: &TokenService,
    bootstrap_token: Option<&str>,
    revoke_others: bool,
    first_token_path: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(token) = bootstrap_token {
        return crate::bootstrap::register(tokens, token, revoke_others).await;
    }
    if revoke_others {
        anyhow::bail!(
            "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS=true needs TOLLGATE_BOOTSTRAP_TOKEN: it revokes every \
             instance admin token but that one"
        );
    }
    let Some(issued) = tokens
        .ensure_instance_admin()
        .await
        .context("failed to create the first instance admin token")?
    else {
        return Ok(());
    };
    if let Some(path) = first_token_path {
        match write_first_token(path, issued.secret().expose()) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "no instance admin token existed: created one and wrote it to TOLLGATE_FIRST_TOKEN_PATH (mode 0600)");
                return Ok(());
            }
            // The token exists now and nobody else will ever see it: show it rather than
            // lose it.
            Err(error) => tracing::warn!(
                path = %path.display(),
                error = %format!("{error:#}"),
                "could not write the first instance admin token to TOLLGATE_FIRST_TOKEN_PATH; showing it on standard error instead"
            ),
        }
    }
    // Shown once, on standard error, never through the log pipeline.
    eprintln!(
        "\n  No instance admin token existed, so tollgate created one. It is shown this once:\n\n    {}\n\n  Keep it secret. It went to this process's standard error, so wherever that is kept\n  (journald, `docker logs`, a log file) now holds a copy: revoke it once you have made\n  your own (docs/operations.md). To have it written to a file of its own instead, start\n  with TOLLGATE_FIRST_TOKEN_PATH=PATH; to choose it yourself, TOLLGATE_BOOTSTRAP_TOKEN\n  (see `tollgate token mint --instance-admin`).\n",
        issued.secret().expose()
    );
    Ok(())
}

/// Writes the first instance admin token to a new file at `path` that only its owner can read
/// (0600), created exclusively (`O_EXCL`): an existing file is never overwritten or followed,
/// as Jenkins does with its initial admin password.
fn write_first_token(path: &Path, token: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "failed to create {} (it must not exist yet)",
            path.display()
        )
    })?;
    writeln!(file, "{token}")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write {}", path.display()))
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
