//! `spawn_app()`: starts the binary on 127.0.0.1:0 with a minted bootstrap token, learns its
//! address from its standard error, and offers small request helpers.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::mint_token_string;
use tollgate_domain::TokenKind;
use tollgate_pg::testing::TestDatabase;

/// Which store a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Memory,
    Postgres,
}

/// Runs an `async fn(Store)` scenario once per store, as two tests in a module of its name.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn in_memory() {
                    super::$scenario($crate::support::Store::Memory).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$scenario($crate::support::Store::Postgres).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_stores;

/// A running server.
pub struct App {
    pub base: String,
    pub client: reqwest::Client,
    /// The instance admin token registered at start.
    pub admin: String,
    env: Vec<(String, String)>,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    _database: Option<TestDatabase>,
}

pub async fn spawn_app(store: Store) -> App {
    spawn_app_with(store, &[]).await
}

pub async fn spawn_app_with(store: Store, extra_env: &[(&str, &str)]) -> App {
    let admin = mint_token_string(&OsRandomSource, TokenKind::InstanceAdmin).into_exposed();
    let mut env = vec![
        ("TOLLGATE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("TOLLGATE_BOOTSTRAP_TOKEN".to_owned(), admin.clone()),
        (
            "TOLLGATE_LOG".to_owned(),
            "info,tollgate=debug,tollgate_app=debug,tollgate_http=debug".to_owned(),
        ),
    ];
    let database = match store {
        Store::Memory => None,
        Store::Postgres => {
            let db = TestDatabase::create().await;
            env.push(("DATABASE_URL".to_owned(), db.url().to_owned()));
            Some(db)
        }
    };
    for (key, value) in extra_env {
        // An empty value removes the variable (e.g. no bootstrap token).
        env.retain(|(k, _)| k != key);
        if !value.is_empty() {
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
    }
    let (child, base, logs) = start(&env);
    App {
        base,
        client: reqwest::Client::new(),
        admin,
        env,
        child,
        logs,
        _database: database,
    }
}

fn start(env: &[(String, String)]) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
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
    let (address_tx, address_rx) = mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("tollgate listening on ") {
                let _ = address_tx.send(address.to_owned());
            }
            sink.lock().unwrap().push(line);
        }
    });
    match address_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(base) => (child, base, logs),
        Err(_) => {
            let _ = child.kill();
            panic!(
                "tollgate did not start; its output:\n{}",
                logs.lock().unwrap().join("\n")
            );
        }
    }
}

impl App {
    /// The `DATABASE_URL` the server runs on, if any.
    pub fn database_url(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .map(|(_, v)| v.as_str())
    }

    /// Everything the server wrote to standard error so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server and starts it again with the same configuration and store.
    pub fn restart(&mut self) {
        self.stop();
        let (child, base, logs) = start(&self.env);
        self.child = child;
        self.base = base;
        self.logs = logs;
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
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
