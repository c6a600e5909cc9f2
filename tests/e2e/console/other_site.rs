//! Another origin on this machine, as an attacker's site would be: a tiny HTTP server on
//! 127.0.0.1 with a port of its own that answers every request with one HTML page.
//!
//! Reached as `http://127.0.0.1:PORT` it is another origin but the same site as the console
//! (ports do not make sites), so the browser still sends a `SameSite=Strict` cookie with its
//! forms: only the console's CSRF token and Origin check stand in the way. Reached as
//! `http://localhost:PORT` it is another site too.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct OtherSite {
    port: u16,
    page: Arc<Mutex<String>>,
    server: JoinHandle<()>,
}

impl OtherSite {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the other site");
        let port = listener.local_addr().expect("its address").port();
        let page = Arc::new(Mutex::new(String::new()));
        let serving = page.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let serving = serving.clone();
                tokio::spawn(async move {
                    // Read the request head; what it asks for does not matter.
                    let mut head = Vec::new();
                    let mut buffer = [0_u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    // The page as it is when the request comes: chromium opens connections
                    // ahead of its requests, so one accepted earlier may carry a later one.
                    let html = serving.lock().unwrap().clone();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         content-length: {}\r\ncache-control: no-store\r\n\
                         connection: close\r\n\r\n{html}",
                        html.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { port, page, server }
    }

    /// Serves `html` from now on.
    pub fn serve(&self, html: String) {
        *self.page.lock().unwrap() = html;
    }

    /// The page's address on `host` (`127.0.0.1`: same site as the console, another origin;
    /// `localhost`: another site).
    pub fn url(&self, host: &str) -> String {
        format!("http://{host}:{}/", self.port)
    }
}

impl Drop for OtherSite {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A page that, once loaded, submits a form of `fields` by POST to `action`, as a forged
/// cross-site request does.
pub fn auto_submitting_form(action: &str, fields: &[(&str, &str)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    format!(
        r#"<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
<form id="forged" method="post" action="{}">{inputs}</form>
<script>document.getElementById("forged").submit();</script>
</body></html>"#,
        escape(action)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
