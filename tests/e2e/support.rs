//! `spawn_app()`: starts the binary on 127.0.0.1:0 with a minted bootstrap token, learns its
//! address from its standard error, and offers small request helpers; `eventually()`: the one
//! way a test waits for something that happens in its own time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::mint_token_string;
use tollgate_domain::TokenKind;
use tollgate_pg::testing::TestDatabase;
use tollgate_sqlite::testing::TestFile;

/// How long a test waits for something that should happen soon (a flush, a revocation reaching
/// another node, an outage noticed, a shutdown) before it fails. Generous on purpose: it only
/// bounds a hang; how fast things happen is for the benchmarks to measure.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How long the server may take to start (and, on Postgres, migrate a fresh database).
const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

/// How often [`eventually`] asks again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Asks `probe` until it answers `Some`, and returns what it answered.
///
/// # Panics
/// If `deadline` passes first: "timed out after N s waiting for `what`".
pub async fn eventually<T>(
    what: &str,
    deadline: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let started = tokio::time::Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        if started.elapsed() >= deadline {
            timed_out(what, deadline);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn timed_out(what: &str, deadline: Duration) -> ! {
    panic!(
        "timed out after {} s waiting for {what}",
        deadline.as_secs()
    );
}

/// Which store a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `DATABASE_URL=memory:`.
    Memory,
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh Postgres database.
    Postgres,
}

impl Store {
    /// Whether what the server stores outlives it.
    pub const fn keeps_data(self) -> bool {
        !matches!(self, Self::Memory)
    }
}

/// Runs each `async fn(Store)` scenario once per listed store, as tests named after the stores
/// in a module named after the scenario:
/// `on_stores!([sqlite = Sqlite, postgres = Postgres] => a, b)`.
macro_rules! on_stores {
    ($stores:tt => $($scenario:ident),* $(,)?) => {
        $( $crate::support::on_stores!(@scenario $scenario $stores); )*
    };
    (@scenario $scenario:ident [$($test:ident = $store:ident),+]) => {
        mod $scenario {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$scenario($crate::support::Store::$store).await;
                }
            )+
        }
    };
}
pub(crate) use on_stores;

/// Runs each `async fn(Store)` scenario on every store.
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        $crate::support::on_stores!(
            [in_memory = Memory, sqlite = Sqlite, postgres = Postgres] => $($scenario),*
        );
    };
}
pub(crate) use on_every_store;

/// Runs each `async fn(Store)` scenario on the stores that keep what they are given.
macro_rules! on_lasting_stores {
    ($($scenario:ident),* $(,)?) => {
        $crate::support::on_stores!([sqlite = Sqlite, postgres = Postgres] => $($scenario),*);
    };
}
pub(crate) use on_lasting_stores;

/// A running server.
pub struct App {
    pub base: String,
    pub client: reqwest::Client,
    /// The instance admin token registered at start.
    pub admin: String,
    env: Vec<(String, String)>,
    /// The working directory the binary runs in; the test's own if `None`.
    dir: Option<std::path::PathBuf>,
    process: Process,
    _database: Option<TestDatabase>,
    sqlite: Option<TestFile>,
}

/// The running binary and what it wrote.
struct Process {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    /// Fires when the child's standard error closes (it exited), once every line is in `logs`.
    output_closed: Option<oneshot::Receiver<()>>,
}

pub async fn spawn_app(store: Store) -> App {
    spawn_app_with(store, &[]).await
}

pub async fn spawn_app_with(store: Store, extra_env: &[(&str, &str)]) -> App {
    spawn(store, extra_env, None).await
}

async fn spawn(store: Store, extra_env: &[(&str, &str)], dir: Option<&std::path::Path>) -> App {
    // The harness's own bootstrap token, unless the test brings one.
    let admin = extra_env
        .iter()
        .find(|(key, value)| *key == "TOLLGATE_BOOTSTRAP_TOKEN" && !value.is_empty())
        .map_or_else(
            || mint_token_string(&OsRandomSource, TokenKind::InstanceAdmin).into_exposed(),
            |(_, token)| (*token).to_owned(),
        );
    let mut env = vec![
        ("TOLLGATE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("TOLLGATE_BOOTSTRAP_TOKEN".to_owned(), admin.clone()),
        (
            "TOLLGATE_LOG".to_owned(),
            "info,tollgate=debug,tollgate_app=debug,tollgate_http=debug".to_owned(),
        ),
    ];
    let (mut database, mut sqlite) = (None, None);
    match store {
        Store::Memory => env.push(("DATABASE_URL".to_owned(), "memory:".to_owned())),
        Store::Sqlite => {
            // Created by the server, as `tollgate serve` creates ./tollgate.db.
            let file = TestFile::empty_dir();
            env.push(("DATABASE_URL".to_owned(), file.url()));
            sqlite = Some(file);
        }
        Store::Postgres => {
            let db = TestDatabase::create().await;
            env.push(("DATABASE_URL".to_owned(), db.url().to_owned()));
            database = Some(db);
        }
    }
    for (key, value) in extra_env {
        // An empty value removes the variable (e.g. no bootstrap token).
        env.retain(|(k, _)| k != key);
        if !value.is_empty() {
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
    }
    let (process, base) = start(&env, dir).await;
    App {
        base,
        client: reqwest::Client::new(),
        admin,
        env,
        dir: dir.map(std::path::Path::to_owned),
        process,
        _database: database,
        sqlite,
    }
}

/// Starts the binary and waits until it says where it listens.
async fn start(env: &[(String, String)], dir: Option<&std::path::Path>) -> (Process, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("TOLLGATE_BOOTSTRAP_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .expect("failed to start the tollgate binary");
    let stderr = child.stderr.take().expect("stderr is piped");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (address_tx, address_rx) = oneshot::channel();
    let (closed_tx, output_closed) = oneshot::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        let mut address_tx = Some(address_tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let address = line
                .strip_prefix("tollgate listening on ")
                .map(str::to_owned);
            // The line is logged before it is announced, so `logs()` always holds it.
            sink.lock().unwrap().push(line);
            if let Some(address) = address {
                if let Some(tx) = address_tx.take() {
                    let _ = tx.send(address);
                }
            }
        }
        let _ = closed_tx.send(());
    });
    let failure = match tokio::time::timeout(STARTUP_PATIENCE, address_rx).await {
        Ok(Ok(base)) => {
            let process = Process {
                child,
                logs,
                output_closed: Some(output_closed),
            };
            return (process, base);
        }
        Ok(Err(_)) => "tollgate exited before it listened".to_owned(),
        Err(_) => format!(
            "timed out after {} s waiting for tollgate to listen",
            STARTUP_PATIENCE.as_secs()
        ),
    };
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "{failure}; its output:\n{}",
        logs.lock().unwrap().join("\n")
    );
}

/// `tollgate serve` on the in-memory store with `env`, which must refuse to start: its
/// standard error.
pub fn serve_refused(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .args(["serve", "--store", "memory"])
        .env("TOLLGATE_LISTEN", "127.0.0.1:0")
        .env_remove("TOLLGATE_TRUSTED_PROXIES")
        .env_remove("TOLLGATE_TRUSTED_PROXY_HOPS")
        // As an operator sees it: anyhow adds a backtrace when these ask for one.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("failed to run tollgate");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "it started: {stderr}");
    stderr
}

impl App {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// A server with no `DATABASE_URL`, in the working directory `dir`: the default store.
    pub async fn start_in(dir: &std::path::Path) -> Self {
        spawn(Store::Memory, &[("DATABASE_URL", "")], Some(dir)).await
    }

    /// Sets `key` to `value` for the next start (an empty value removes it), as an operator
    /// changes the environment before a restart.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        if !value.is_empty() {
            self.env.push((key.to_owned(), value.to_owned()));
        }
    }

    /// The `DATABASE_URL` the server runs on, if any.
    pub fn database_url(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .map(|(_, v)| v.as_str())
    }

    /// The SQLite file the server runs on, if it does.
    pub fn sqlite(&self) -> Option<&TestFile> {
        self.sqlite.as_ref()
    }

    /// The binary with this server's configuration (so on its store), to run another
    /// subcommand, such as `export`, against the same store. Its output is not captured.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("TOLLGATE_BOOTSTRAP_TOKEN");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Everything the server wrote to standard error so far.
    pub fn logs(&self) -> String {
        self.process.logs.lock().unwrap().join("\n")
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and waits until it has exited and
    /// everything it wrote is in [`App::logs`].
    ///
    /// # Panics
    /// If it has not exited after [`PATIENCE`]: a graceful shutdown that hangs is a failure,
    /// not something to paper over with a kill (the tests that restart rely on its flush).
    pub async fn stop(&mut self) {
        let process = &mut self.process;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(process.child.id().to_string())
            .status();
        let child = &mut process.child;
        eventually("tollgate to exit after SIGTERM", PATIENCE, async || {
            child.try_wait().ok().flatten()
        })
        .await;
        if let Some(closed) = process.output_closed.take() {
            if tokio::time::timeout(PATIENCE, closed).await.is_err() {
                timed_out("the exited tollgate's standard error to close", PATIENCE);
            }
        }
    }

    /// Kills the server with SIGKILL: no shutdown, no flush, as a crash or an OOM kill would.
    pub async fn kill(&mut self) {
        let _ = self.process.child.kill();
        let child = &mut self.process.child;
        eventually("tollgate to die after SIGKILL", PATIENCE, async || {
            child.try_wait().ok().flatten()
        })
        .await;
    }

    /// Starts the server again after it stopped or was killed, with the same configuration
    /// and store.
    pub async fn start_again(&mut self) {
        let (process, base) = start(&self.env, self.dir.as_deref()).await;
        self.process = process;
        self.base = base;
    }

    /// Stops the server and starts it again with the same configuration and store.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Stops the server and starts it again on the same store, with `changed` set in its
    /// environment from now on (an upgrade that changes a setting).
    pub async fn restart_with(&mut self, changed: &[(&str, &str)]) {
        for (key, value) in changed {
            self.env.retain(|(k, _)| k != key);
            self.env.push(((*key).to_owned(), (*value).to_owned()));
        }
        self.restart().await;
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("x-undb-api-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("request failed")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a space as the instance admin and returns its id.
    pub async fn create_space(&self, name: &str) -> String {
        let reply = self
            .post(
                "/v1/spaces",
                &self.admin,
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.str("id")
    }

    /// Creates a token and returns (its id, its secret token string).
    pub async fn create_token(&self, as_token: &str, space: &str, level: &str) -> (String, String) {
        let body = serde_json::json!({ "name": format!("{level} token"), "level": level });
        let reply = self
            .post(&format!("/v1/spaces/{space}/tokens"), as_token, body)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        (reply.str("id"), reply.str("token"))
    }

    /// Uses `token` on `/v1/whoami` until it is refused, and returns the first refusal.
    ///
    /// `ends` is the end of the token's life as the server reported it (an `expires_at`). Every
    /// use answered before it must have worked: the server checked it earlier still, on the
    /// clock of this machine, which it shares. A use answered after `ends` proves nothing either
    /// way, so on a machine slow enough that even the first use ends late, "it worked before"
    /// goes unchecked (and says so) rather than failing.
    ///
    /// # Panics
    /// If a use answered before `ends` was refused, or none is refused within [`PATIENCE`]
    /// after `ends`.
    pub async fn use_until_refused(&self, token: &str, ends: OffsetDateTime) -> Reply {
        // Postgres keeps microseconds, so the instant the server checks may differ from the
        // one it reports by less than one; a millisecond covers that.
        let before_the_end = ends - time::Duration::milliseconds(1);
        let mut worked_before_the_end = 0_u32;
        let until_the_end =
            Duration::try_from(ends - OffsetDateTime::now_utc()).unwrap_or_default();
        let refused = eventually(
            &format!("the token to be refused after its end at {ends}"),
            until_the_end + PATIENCE,
            async || {
                let reply = self.get("/v1/whoami", token).await;
                let answered_at = OffsetDateTime::now_utc();
                if answered_at < before_the_end {
                    assert_eq!(
                        reply.status,
                        StatusCode::OK,
                        "a use answered at {answered_at}, before the token's end at {ends}, \
                         was refused: {reply:?}"
                    );
                    worked_before_the_end += 1;
                }
                (reply.status != StatusCode::OK).then_some(reply)
            },
        )
        .await;
        if worked_before_the_end == 0 {
            eprintln!(
                "note: no use was answered before {ends}, so this run could not check that the \
                 token worked before its end"
            );
        }
        refused
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {:?}", self.body))
            .to_owned()
    }

    /// An RFC 3339 timestamp field.
    pub fn time(&self, field: &str) -> OffsetDateTime {
        OffsetDateTime::parse(&self.str(field), &Rfc3339)
            .unwrap_or_else(|e| panic!("{field} is no RFC 3339 time ({e}) in {:?}", self.body))
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.header("content-type")
                .starts_with("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(self.body["status"], status.as_u16(), "{self:?}");
        assert!(
            self.body["title"].is_string() && self.body["detail"].is_string(),
            "{self:?}"
        );
    }

    pub fn ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    }
}
