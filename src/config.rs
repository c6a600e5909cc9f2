//! Command line and environment: every setting of `tollgate`, with its environment variable.

use std::net::SocketAddr;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tollgate_app::adapters::{Argon2Bounds, Argon2Hasher, Argon2Params};
use tollgate_app::TrustedProxies;

use crate::logs::LogFormat;
pub use crate::operator::args::{SpaceCommand, TokenCommand};
use crate::store::StoreChoice;

// No `Debug` on the argument structs: they hold TOLLGATE_BOOTSTRAP_TOKEN and DATABASE_URL
// (with its password), which must never be printed, not even by a future `{:?}`.

/// Space-scoped API tokens: issue, list, verify and revoke.
#[derive(Parser)]
#[command(
    name = "tollgate",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TOLLGATE_GIT_COMMIT"), ")"),
    about
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines look on standard error: `text` (coloured only at a terminal, and never
    /// with NO_COLOR set) or `json`, one object per line for journald, Docker and log shippers.
    #[arg(long, env = "TOLLGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the REST API.
    Serve(Box<ServeArgs>),
    /// Apply the store's pending migrations, say which, and exit; nothing is served
    /// (`serve` applies them too, at start).
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://tollgate@db/tollgate tollgate migrate"
    )]
    Migrate(DatabaseArgs),
    /// Write a consistent copy of a SQLite store to a new file, while a server may be serving
    /// from it. For Postgres, use pg_dump.
    Backup(BackupArgs),
    /// Write every space, token (its hash, never a secret) and audit event of the store to
    /// standard output, as JSON lines.
    Export(DatabaseArgs),
    /// Load a dump written by `tollgate export` from standard input into an empty store, all
    /// or nothing. Every token's hash is checked against the argon2 bounds first.
    Import(ImportArgs),
    /// Manage spaces on the store directly (break-glass and scripts).
    Space {
        #[command(subcommand)]
        command: SpaceCommand,
    },
    /// Manage tokens on the store directly (break-glass and scripts), or check and mint token
    /// strings offline.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print this version's OpenAPI document (what `GET /openapi.json` serves), with no
    /// server running: for generating clients in CI.
    #[command(after_help = "Example:\n  tollgate openapi > openapi.json")]
    Openapi,
    /// Ask a running server's `/readyz` and exit 0 if it is ready, 1 if not (for container
    /// health probes on images without curl). Plain http.
    #[command(after_help = "Example:\n  tollgate healthcheck http://127.0.0.1:8080")]
    Healthcheck(HealthcheckArgs),
    /// Print a completion script for SHELL to standard output.
    #[command(
        after_help = "Example:\n  tollgate completions bash > /etc/bash_completion.d/tollgate"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Clone, Args)]
pub struct HealthcheckArgs {
    /// The server to ask: its base URL (`/readyz` is added) or the full URL of its readiness
    /// route. Default: http:// and TOLLGATE_LISTEN (127.0.0.1 for an unspecified address).
    pub url: Option<String>,
    /// The address the server listens on, when no URL is given.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// How long to wait for the answer, in seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout_seconds: u64,
}

/// The kinds of store, for `--store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// A SQLite file (the default): one server.
    Sqlite,
    /// Postgres: several nodes on one database.
    Postgres,
    /// In memory: keeps nothing, for trying things out.
    Memory,
}

impl StoreKind {
    /// Its name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Memory => "memory",
        }
    }
}

#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// Where tokens are kept: sqlite://PATH (a SQLite file; the default is ./tollgate.db),
    /// postgres://USER@HOST/DATABASE (Postgres, for several nodes), or memory: (keeps nothing).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The kind of store, where DATABASE_URL does not say it: `--store memory` runs on the
    /// in-memory store.
    #[arg(long, value_enum)]
    pub store: Option<StoreKind>,
    /// Largest number of Postgres connections in the pool.
    #[arg(long, env = "TOLLGATE_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// How long a request waits for a Postgres connection before answering 503, in seconds.
    #[arg(long, env = "TOLLGATE_DB_ACQUIRE_TIMEOUT_SECONDS", default_value_t = 3)]
    pub db_acquire_timeout_seconds: u64,
}

impl DatabaseArgs {
    /// The store these arguments name.
    pub fn choice(&self) -> anyhow::Result<StoreChoice> {
        StoreChoice::of(self.database_url.as_deref(), self.store)
    }
}

#[derive(Clone, Args)]
pub struct BackupArgs {
    /// The new file to write the copy to; it must not exist.
    pub path: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address to serve Prometheus metrics on, at /metrics (a port of its own, never the API's);
    /// unset: no metrics are recorded or served.
    #[arg(long, env = "TOLLGATE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// An instance admin token to register at start (idempotent). Prefer the environment
    /// variable: command lines are visible to other users of the machine.
    #[arg(long, env = "TOLLGATE_BOOTSTRAP_TOKEN", hide_env_values = true)]
    pub bootstrap_token: Option<String>,
    /// With TOLLGATE_BOOTSTRAP_TOKEN: revoke every other instance admin token at start (the
    /// break-glass step once one has leaked, docs/operations.md). Unset it once done: it revokes
    /// at every start.
    #[arg(long, env = "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS", default_value_t = false, action = clap::ArgAction::Set)]
    pub bootstrap_revoke_others: bool,
    /// Where to write the first instance admin token, when the store has none and no
    /// TOLLGATE_BOOTSTRAP_TOKEN is set: a new file (mode 0600, never overwritten) instead of
    /// standard error.
    #[arg(long, env = "TOLLGATE_FIRST_TOKEN_PATH")]
    pub first_token_path: Option<PathBuf>,
    /// Log filter, in tracing's EnvFilter syntax (e.g. `info`, `tollgate=debug`).
    #[arg(long, env = "TOLLGATE_LOG", default_value = "info")]
    pub log: String,
    /// Longest time a request may take before it is answered 503, in seconds.
    #[arg(long, env = "TOLLGATE_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub lifecycle: LifecycleArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
}

/// Bounds on client connections (docs/operations.md, "Connections").
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Longest time a request's headers may take to arrive, in seconds: from the connection's
    /// opening for its first request, from the first byte for the next ones.
    #[arg(long, env = "TOLLGATE_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_seconds: u64,
    /// Longest time a keep-alive connection may stay silent between requests, in seconds.
    #[arg(long, env = "TOLLGATE_IDLE_TIMEOUT_SECONDS", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_seconds: u64,
    /// Most client connections open at once; at the limit a new one closes the longest-idle.
    /// Lowered to fit the file-descriptor limit if that is smaller.
    #[arg(long, env = "TOLLGATE_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Raise the process's file-descriptor soft limit to its hard limit at start.
    #[arg(long, env = "TOLLGATE_RAISE_FD_LIMIT", default_value_t = true, action = clap::ArgAction::Set)]
    pub raise_fd_limit: bool,
}

/// The admin console at `/admin` (docs/console.md).
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// The URL people reach tollgate at, such as https://tokens.example.com: console forms
    /// must come from its origin, and when it is https the session cookie is `Secure` with the
    /// `__Host-` prefix. Unset: forms must come from the origin the `Host` header names.
    #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A console session ends after this many minutes without a request (1 to 10080, a week).
    #[arg(long, env = "TOLLGATE_CONSOLE_IDLE_TIMEOUT_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub console_idle_timeout_minutes: u32,
    /// A console session ends this many hours after sign-in, however busy (1 to 720, 30 days).
    #[arg(long, env = "TOLLGATE_CONSOLE_ABSOLUTE_TIMEOUT_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub console_absolute_timeout_hours: u32,
}

/// Brute-force limits on failed authentications (docs/security.md).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Failed authentications allowed per client address per minute (also the burst); 0: no limit.
    #[arg(long, env = "TOLLGATE_AUTH_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub auth_failures_per_address: u32,
    /// Failed authentications allowed per token id per minute (also the burst); 0: no limit.
    #[arg(long, env = "TOLLGATE_AUTH_FAILURES_PER_TOKEN", default_value_t = 10)]
    pub auth_failures_per_token: u32,
    /// Credentials one client address may report as leaked per hour (also the burst); 0: no
    /// limit.
    #[arg(long, env = "TOLLGATE_LEAK_REPORTS_PER_ADDRESS", default_value_t = tollgate_app::DEFAULT_REPORTED_PER_ADDRESS.per_hour())]
    pub leak_reports_per_address: u32,
    /// The reverse proxies in front of tollgate, as comma-separated CIDRs (a bare address is
    /// that address alone): X-Forwarded-For is read only from them, walking from the right past
    /// trusted entries. Empty: the TCP peer is the client.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Retired: replaced by TOLLGATE_TRUSTED_PROXIES. Still read, so that a start with it set
    /// is refused rather than silently ignoring the operator's proxies.
    #[arg(
        long = "trusted-proxy-hops",
        env = "TOLLGATE_TRUSTED_PROXY_HOPS",
        hide = true
    )]
    pub retired_trusted_proxy_hops: Option<String>,
}

impl LimitArgs {
    /// Refuses the settings that no longer exist, naming what replaced them.
    pub fn refuse_retired(&self) -> anyhow::Result<()> {
        if self.retired_trusted_proxy_hops.is_some() {
            anyhow::bail!(
                "TOLLGATE_TRUSTED_PROXY_HOPS (--trusted-proxy-hops) is no longer supported: list \
                 your reverse proxies' addresses as CIDRs in TOLLGATE_TRUSTED_PROXIES instead \
                 (e.g. TOLLGATE_TRUSTED_PROXIES=10.0.0.0/8), and unset it"
            );
        }
        Ok(())
    }
}

/// Which argon2id parameters new token hashes start from (docs/security.md, "Hashing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Argon2Preset {
    /// 64 KiB, 1 iteration, 1 lane: sized for 256-bit random secrets (about 0.1 ms a hash).
    Tokens,
    /// OWASP's password parameters: 19 MiB, 2 iterations, 1 lane (tens of milliseconds).
    Owasp,
}

/// The argon2id parameters of new token hashes, and the bounds every stored or imported hash
/// must stay within (docs/security.md, "Hashing").
#[derive(Debug, Clone, Args)]
pub struct HashingArgs {
    /// The parameters new token hashes use: `tokens` (64 KiB, 1 iteration, 1 lane) or `owasp`
    /// (19456 KiB, 2 iterations, 1 lane). Hashes made with other parameters keep verifying and
    /// are re-hashed with these after their next successful verification.
    #[arg(long, env = "TOLLGATE_ARGON2_PRESET", value_enum, default_value_t = Argon2Preset::Tokens)]
    pub argon2_preset: Argon2Preset,
    /// argon2id memory cost for new token hashes, in KiB, instead of the preset's.
    #[arg(long, env = "TOLLGATE_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    /// argon2id iterations for new token hashes, instead of the preset's.
    #[arg(long, env = "TOLLGATE_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    /// argon2id lanes for new token hashes, instead of the preset's.
    #[arg(long, env = "TOLLGATE_ARGON2_PARALLELISM")]
    pub argon2_parallelism: Option<u32>,
    /// The most memory a stored or imported hash may ask for, in KiB: a hash beyond it is
    /// refused, never run (a verification would allocate what the hash says).
    #[arg(long, env = "TOLLGATE_ARGON2_MAX_MEMORY_KIB", default_value_t = Argon2Bounds::DEFAULT.max_memory_kib)]
    pub argon2_max_memory_kib: u32,
    /// The most iterations a stored or imported hash may ask for.
    #[arg(long, env = "TOLLGATE_ARGON2_MAX_ITERATIONS", default_value_t = Argon2Bounds::DEFAULT.max_iterations)]
    pub argon2_max_iterations: u32,
    /// The most lanes a stored or imported hash may ask for.
    #[arg(long, env = "TOLLGATE_ARGON2_MAX_PARALLELISM", default_value_t = Argon2Bounds::DEFAULT.max_parallelism)]
    pub argon2_max_parallelism: u32,
}

impl HashingArgs {
    /// The parameters of new hashes: the preset's, with any single value overridden.
    pub fn params(&self) -> Argon2Params {
        let preset = match self.argon2_preset {
            Argon2Preset::Tokens => Argon2Params::TOKENS,
            Argon2Preset::Owasp => Argon2Params::OWASP,
        };
        Argon2Params {
            memory_kib: self.argon2_memory_kib.unwrap_or(preset.memory_kib),
            iterations: self.argon2_iterations.unwrap_or(preset.iterations),
            parallelism: self.argon2_parallelism.unwrap_or(preset.parallelism),
        }
    }

    /// The bounds stored and imported hashes must stay within.
    pub const fn bounds(&self) -> Argon2Bounds {
        Argon2Bounds {
            max_memory_kib: self.argon2_max_memory_kib,
            max_iterations: self.argon2_max_iterations,
            max_parallelism: self.argon2_max_parallelism,
        }
    }

    /// The hasher of new tokens, with these parameters and bounds.
    pub fn hasher(&self) -> anyhow::Result<Argon2Hasher> {
        let (params, bounds) = (self.params(), self.bounds());
        Argon2Hasher::with_bounds(params, bounds).with_context(|| {
            format!(
                "invalid argon2 settings: new hashes with {} KiB, {} iterations, {} lanes must be \
                 valid argon2id parameters within TOLLGATE_ARGON2_MAX_MEMORY_KIB ({}), \
                 TOLLGATE_ARGON2_MAX_ITERATIONS ({}) and TOLLGATE_ARGON2_MAX_PARALLELISM ({})",
                params.memory_kib,
                params.iterations,
                params.parallelism,
                bounds.max_memory_kib,
                bounds.max_iterations,
                bounds.max_parallelism
            )
        })
    }
}

/// `tollgate import`: the store, and the hashing bounds every imported hash is checked against.
#[derive(Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
}

/// The lifetime policy of new tokens (docs/operations.md).
#[derive(Debug, Clone, Args)]
pub struct LifetimeArgs {
    /// Longest a token may live, in days; unset: no maximum. Tokens created without
    /// `expires_at` get the default lifetime, or this maximum where only it is set.
    #[arg(long, env = "TOLLGATE_MAX_TOKEN_LIFETIME_DAYS")]
    pub max_token_lifetime_days: Option<u32>,
    /// Lifetime of a token created without `expires_at`, in days; unset: none.
    #[arg(long, env = "TOLLGATE_DEFAULT_TOKEN_LIFETIME_DAYS")]
    pub default_token_lifetime_days: Option<u32>,
}

impl LifetimeArgs {
    /// The policy these settings describe.
    pub fn policy(&self) -> anyhow::Result<tollgate_domain::LifetimePolicy> {
        tollgate_domain::LifetimePolicy::from_days(
            self.max_token_lifetime_days,
            self.default_token_lifetime_days,
        )
        .context("TOLLGATE_MAX_TOKEN_LIFETIME_DAYS / TOLLGATE_DEFAULT_TOKEN_LIFETIME_DAYS")
    }
}

/// Token lifetimes and last-used bookkeeping (docs/operations.md).
#[derive(Debug, Clone, Args)]
pub struct LifecycleArgs {
    #[command(flatten)]
    pub lifetimes: LifetimeArgs,
    /// How often `last_used_at` is written, in seconds: at most one write per token per interval.
    #[arg(long, env = "TOLLGATE_LAST_USED_FLUSH_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub last_used_flush_seconds: u64,
}

/// Bounds of the verification cache (docs/performance.md).
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Most verified tokens cached; 0 turns the cache off (argon2 on every request).
    #[arg(
        long,
        env = "TOLLGATE_VERIFY_CACHE_CAPACITY",
        default_value_t = 100_000
    )]
    pub verify_cache_capacity: u64,
    /// Longest time a verified token is trusted without asking the store again, in seconds.
    #[arg(long, env = "TOLLGATE_VERIFY_CACHE_TTL_SECONDS", default_value_t = 300)]
    pub verify_cache_ttl_seconds: u64,
    /// Most unknown token ids remembered; 0 turns the negative cache off.
    #[arg(
        long,
        env = "TOLLGATE_NEGATIVE_CACHE_CAPACITY",
        default_value_t = 100_000
    )]
    pub negative_cache_capacity: u64,
    /// How long an unknown token id is remembered, in seconds.
    #[arg(
        long,
        env = "TOLLGATE_NEGATIVE_CACHE_TTL_SECONDS",
        default_value_t = 30
    )]
    pub negative_cache_ttl_seconds: u64,
    /// Most argon2 verifications at once (default: the number of cores).
    #[arg(long, env = "TOLLGATE_MAX_CONCURRENT_HASHES")]
    pub max_concurrent_hashes: Option<usize>,
}

impl CacheArgs {
    pub fn config(&self) -> tollgate_app::VerifyCacheConfig {
        let defaults = tollgate_app::VerifyCacheConfig::default();
        tollgate_app::VerifyCacheConfig {
            capacity: self.verify_cache_capacity,
            ttl: std::time::Duration::from_secs(self.verify_cache_ttl_seconds),
            negative_capacity: self.negative_cache_capacity,
            negative_ttl: std::time::Duration::from_secs(self.negative_cache_ttl_seconds),
            max_concurrent_hashes: self
                .max_concurrent_hashes
                .unwrap_or(defaults.max_concurrent_hashes),
        }
    }
}
