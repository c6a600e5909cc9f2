//! The admin console (SPEC, "Admin console") in a real browser: Debian's chromium, driven by
//! chromedriver through WebDriver, against the real binary on the SQLite store.
//!
//! - [`browser`]: chromedriver and headless chromium, waits, keyboard, tables;
//! - [`axe`]: axe-core's WCAG 2.1 AA rules run in the page;
//! - [`pages`]: what a person does on each console page (sign in, create a token, ...), and a
//!   tour of every page that the accessibility, narrow-screen and screenshot checks share;
//! - [`other_site`]: a page served from another origin, for forged cross-site requests;
//! - [`harness`]: the harness's checks of itself, on pages made to fail them;
//! - the scenarios, one test each, named as sentences;
//! - [`screenshots`]: not a test, the pictures in docs/console/ (`scripts/screenshots`).
//!
//! Every scenario runs inside [`run`], which gives it a fresh server and browser, lets only
//! one browser run at a time (nextest's `browser` test group says so too, see
//! `.config/nextest.toml`; the lock here keeps plain `cargo test` as careful), and on failure
//! prints where the browser was and what the page said, with every token string redacted.
//! No test prints a token string.

pub mod axe;
pub mod browser;
pub mod other_site;
pub mod pages;

mod accessibility;
mod forgery;
mod harness;
mod keyboard;
mod narrow;
mod screenshots;
mod sessions;
mod sign_in;
mod tokens;
mod xss;

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use tokio::sync::Mutex;

use crate::support::{spawn_app_with, App, Store};
use browser::Browser;

/// One browser at a time, whatever runs the tests.
static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A server and a browser, fresh for one scenario.
pub struct Console {
    pub app: App,
    pub browser: Browser,
}

impl Console {
    /// The console's address for `path` (`/admin/...`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base)
    }

    /// The console's origin (`http://127.0.0.1:PORT`), as the browser sends it.
    pub fn origin(&self) -> &str {
        &self.app.base
    }
}

/// Runs `scenario` with a fresh [`Console`] (the binary on a fresh SQLite file, and a fresh
/// browser); on failure, prints the page the browser was on, with token strings redacted.
pub async fn run(scenario: impl AsyncFnOnce(&Console)) {
    run_with_env(&[], scenario).await;
}

/// As [`run`], with more environment for the server.
pub async fn run_with_env(env: &[(&str, &str)], scenario: impl AsyncFnOnce(&Console)) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    // Uses written down within a second, so that "Last used" can be seen filled in.
    let mut env = env.to_vec();
    env.push(("TOLLGATE_LAST_USED_FLUSH_SECONDS", "1"));
    let app = spawn_app_with(Store::Sqlite, &env).await;
    let browser = Browser::open().await;
    let console = Console { app, browser };
    let outcome = AssertUnwindSafe(scenario(&console)).catch_unwind().await;
    match outcome {
        Ok(()) => console.browser.quit().await,
        Err(panic) => {
            eprintln!("{}", where_the_browser_was(&console.browser).await);
            std::panic::resume_unwind(panic);
        }
    }
}

/// The current page's address, title and text, for a failure's report.
async fn where_the_browser_was(browser: &Browser) -> String {
    let Some(url) = browser.driver().current_url().await.ok() else {
        return "the browser no longer answers".to_owned();
    };
    let title = browser.driver().title().await.unwrap_or_default();
    let text: String = browser
        .driver()
        .execute(
            "return document.body ? document.body.innerText : ''",
            Vec::new(),
        )
        .await
        .ok()
        .and_then(|answer| answer.convert().ok())
        .unwrap_or_default();
    redact(&format!(
        "the browser was on {url} ({title:?}); the page said:\n{text}"
    ))
}

/// `text` with every token string (`tgc_`, `tga_` or `tgi_` and what follows of their
/// alphabet) replaced by its prefix and `<redacted>`: what a failure may print.
pub fn redact(text: &str) -> String {
    const SHORTEST_SECRET_PART: usize = 16;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["tgc_", "tga_", "tgi_"]
        .iter()
        .filter_map(|prefix| rest.find(prefix))
        .min()
    {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let (prefix, after) = from.split_at(4);
        let run = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        out.push_str(prefix);
        if run >= SHORTEST_SECRET_PART {
            out.push_str("<redacted>");
        } else {
            out.push_str(&after[..run]);
        }
        rest = &after[run..];
    }
    out.push_str(rest);
    out
}
