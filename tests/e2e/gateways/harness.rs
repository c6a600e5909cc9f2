//! What the gateway tests run: Debian's nginx and Caddy as child processes, each on a free port
//! of 127.0.0.1 with the configuration of `docs/gateways/` (the tested text itself, with the
//! test's addresses put in), in front of an upstream that echoes the headers it received and
//! counts its requests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use tokio::task::JoinHandle;

use crate::support::{eventually, PATIENCE};

/// The tested configurations, as docs/gateways.md shows them.
const NGINX_CONF: &str = include_str!("../../../docs/gateways/nginx.conf");
const CADDYFILE: &str = include_str!("../../../docs/gateways/Caddyfile");

/// The addresses the documented configurations are written with, which the tests replace.
const DOC_TOLLGATE: &str = "127.0.0.1:8080";
const DOC_UPSTREAM: &str = "127.0.0.1:3000";
const DOC_LISTEN: &str = "127.0.0.1:8000";
pub const DOC_SPACE: &str = "0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f00";

/// A gateway product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Caddy,
}

impl Kind {
    const fn binary(self) -> &'static str {
        match self {
            Self::Nginx => "nginx",
            Self::Caddy => "caddy",
        }
    }
}

/// The upstream API: answers every request with the headers it received, as JSON
/// (`{name: [values]}`, names as they came on the wire, lowercased), and counts requests.
pub struct Upstream {
    pub address: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new()
            .fallback(echo)
            .with_state(Arc::clone(&hits));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the upstream");
        let address = listener.local_addr().expect("upstream address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            hits,
            task,
        }
    }

    /// How many requests reached it.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(
    State(hits): State<Arc<AtomicUsize>>,
    headers: HeaderMap,
) -> Json<BTreeMap<String, Vec<String>>> {
    hits.fetch_add(1, Ordering::SeqCst);
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &headers {
        seen.entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    Json(seen)
}

/// A running gateway; killed when dropped.
pub struct Gateway {
    pub base: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts `kind` on a free port of 127.0.0.1, in front of `upstream`, asking tollgate at
    /// `tollgate` (`http://127.0.0.1:PORT`), with `space` as the one space of `/acme/`. Returns
    /// once it answers HTTP.
    ///
    /// # Panics
    /// If the gateway is not installed (saying how to install it), or it does not start.
    pub async fn start(kind: Kind, tollgate: &str, upstream: &Upstream, space: &str) -> Self {
        let binary = installed(kind);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let tollgate = tollgate
            .strip_prefix("http://")
            .expect("tollgate's base is http://HOST:PORT");
        let site = with_addresses(
            match kind {
                Kind::Nginx => NGINX_CONF,
                Kind::Caddy => CADDYFILE,
            },
            tollgate,
            &upstream.address.to_string(),
            &listen,
            space,
        );
        let log = std::fs::File::create(dir.path().join("stderr.log")).expect("a log file");
        let mut command = Command::new(&binary);
        match kind {
            Kind::Nginx => {
                let conf = dir.path().join("nginx.conf");
                std::fs::write(&conf, nginx_main(dir.path(), &site)).expect("write nginx.conf");
                command
                    .arg("-p")
                    .arg(dir.path())
                    .arg("-c")
                    .arg(&conf)
                    .arg("-e")
                    .arg("stderr");
            }
            Kind::Caddy => {
                let conf = dir.path().join("Caddyfile");
                std::fs::write(&conf, caddy_main(&site)).expect("write the Caddyfile");
                command
                    .args(["run", "--adapter", "caddyfile", "--config"])
                    .arg(&conf)
                    // Caddy keeps state under the home and XDG directories: the test's own.
                    .env("HOME", dir.path())
                    .env("XDG_CONFIG_HOME", dir.path().join("config"))
                    .env("XDG_DATA_HOME", dir.path().join("data"));
            }
        }
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut gateway = Self {
            base: format!("http://{listen}"),
            child,
            dir,
        };
        gateway.wait_until_it_answers(kind).await;
        gateway
    }

    async fn wait_until_it_answers(&mut self, kind: Kind) {
        let client = reqwest::Client::new();
        let url = format!("{}/", self.base);
        let (child, dir) = (&mut self.child, self.dir.path().to_owned());
        eventually(
            &format!("{kind:?} to answer on {url}"),
            PATIENCE,
            async || {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{kind:?} exited ({status}) before it answered; its output:\n{}",
                        std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
                    );
                }
                client.get(&url).send().await.ok().map(|_| ())
            },
        )
        .await;
    }

    /// What the gateway wrote to standard error.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: nginx's master stops its workers on TERM, while a killed master
        // leaves them running. Caddy is one process and stops on TERM too.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway's binary, or a failure saying how to install it.
fn installed(kind: Kind) -> PathBuf {
    let name = kind.binary();
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed; the gateway tests run Debian's {name}: \
                 `apt-get install -y --no-install-recommends {name}` (scripts/test does it when \
                 run as root)"
            )
        })
}

/// The documented configuration with the test's addresses. Every address must be in the text,
/// or the documentation and the test have drifted apart.
fn with_addresses(doc: &str, tollgate: &str, upstream: &str, listen: &str, space: &str) -> String {
    for placeholder in [DOC_TOLLGATE, DOC_UPSTREAM, DOC_LISTEN, DOC_SPACE] {
        assert!(
            doc.contains(placeholder),
            "the documented configuration no longer holds {placeholder}"
        );
    }
    doc.replace(DOC_TOLLGATE, tollgate)
        .replace(DOC_UPSTREAM, upstream)
        .replace(DOC_LISTEN, listen)
        .replace(DOC_SPACE, space)
}

/// nginx's main configuration around the documented `server`: in the foreground, every file in
/// `dir`, as the current user.
fn nginx_main(dir: &Path, site: &str) -> String {
    let dir = dir.display();
    // A master process started as root would switch its workers to `nobody`, who cannot use
    // the test's directory; run them as the user the test runs as.
    let user = if current_uid(Path::new(&dir.to_string())) == 0 {
        "user root;\n"
    } else {
        ""
    };
    format!(
        "{user}daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log stderr warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {dir}/client_body;\n\
         proxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\n\
         uwsgi_temp_path {dir}/uwsgi;\n\
         scgi_temp_path {dir}/scgi;\n\
         {site}\n}}\n"
    )
}

/// Caddy's global options before the documented site: no admin endpoint, no certificates, and
/// listening on the loopback only.
fn caddy_main(site: &str) -> String {
    format!("{{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}}\n\n{site}")
}

/// The uid the test runs as: the owner of a directory it just made.
fn current_uid(dir: &Path) -> u32 {
    std::fs::metadata(dir).map(|m| m.uid()).unwrap_or(u32::MAX)
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
