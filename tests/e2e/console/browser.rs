//! A real browser for the console's tests: Debian's `chromedriver`, started on a free port as a
//! child of the test (killed when the [`Browser`] is dropped), driving a headless `chromium`.
//! Everything here waits on a condition with [`PATIENCE`] as its deadline, never on a sleep.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use thirtyfour::extensions::query::ElementPollerWithTimeout;
use thirtyfour::prelude::*;

use crate::support::PATIENCE;

/// Debian's `chromium` package puts the browser here.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver` package puts the driver here.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What to do when the browser is missing, said by every failure that needs it.
const HOW_TO_GET_THE_BROWSER: &str = "run scripts/test, which installs it, or install it with \
     `apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver`";

/// How often a wait asks again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The window the tests see unless they ask for another.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// chromedriver and one headless chromium session.
pub struct Browser {
    /// `None` only once [`Browser::quit`] has taken it.
    driver: Option<WebDriver>,
    /// The next mark [`Browser::navigating`] puts on a document.
    marks: AtomicU64,
    /// Declared after the driver: a dropped `WebDriver` ends its session (which closes
    /// chromium) through chromedriver, so chromedriver must outlive it.
    _chromedriver: Chromedriver,
}

impl Browser {
    /// Starts chromedriver and a headless chromium with a 1280x900 window.
    ///
    /// # Panics
    /// If chromium or chromedriver is not installed (saying how to install them), or either
    /// does not start within [`PATIENCE`].
    pub async fn open() -> Self {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} (Debian package {package}) is missing, and the console's browser tests \
                 need it: {HOW_TO_GET_THE_BROWSER}"
            );
        }
        let chromedriver = Chromedriver::start().await;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).expect("binary capability");
        let window = format!("--window-size={},{}", DESKTOP.0, DESKTOP.1);
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            window.as_str(),
            // Nothing outside this machine is reachable: spare chromium's own requests.
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
        ] {
            caps.add_arg(arg).expect("chromium argument");
        }
        let driver = WebDriver::builder(chromedriver.url.as_str(), caps)
            .poller(Arc::new(ElementPollerWithTimeout::new(
                PATIENCE,
                POLL_INTERVAL,
            )))
            .connect()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver did not open a chromium session: {e}\nchromedriver said:\n{}",
                    chromedriver.output()
                )
            });
        driver
            .set_page_load_timeout(PATIENCE)
            .await
            .expect("page load timeout");
        driver
            .set_script_timeout(PATIENCE)
            .await
            .expect("script timeout");
        let browser = Self {
            driver: Some(driver),
            marks: AtomicU64::new(0),
            _chromedriver: chromedriver,
        };
        browser.resize(DESKTOP.0, DESKTOP.1).await;
        browser
    }

    pub fn driver(&self) -> &WebDriver {
        self.driver.as_ref().expect("the browser is open")
    }

    /// Ends the session (closing chromium) and stops chromedriver.
    pub async fn quit(mut self) {
        if let Some(driver) = self.driver.take() {
            driver
                .quit()
                .await
                .expect("failed to end the browser session");
        }
    }

    /// Sets the window's size, then waits until the page is laid out that wide. (chromium
    /// keeps a headless window's outer width at 500 px at least, but lays the page out at the
    /// width asked for, so the page's own width is what is waited on.)
    pub async fn resize(&self, width: u32, height: u32) {
        self.driver()
            .set_window_rect(0, 0, width, height)
            .await
            .expect("set the window size");
        let width = f64::from(width);
        self.wait_for_script(
            &format!("the page to be laid out {width} px wide"),
            "return window.innerWidth",
            |inner: f64| (inner - width).abs() < 1.0,
        )
        .await;
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.driver()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("failed to open {url}: {e}"));
    }

    /// Runs `action` (a click, a key press, a reload) that leaves the current document, and
    /// waits until another document has loaded completely.
    ///
    /// The current document is marked with a number used once: a document restored from the
    /// back/forward cache keeps the mark it had when it was left, so "no mark" would not do.
    pub async fn navigating(&self, what: &str, action: impl AsyncFnOnce()) {
        let mark = self.marks.fetch_add(1, Ordering::Relaxed);
        self.run_with::<Value>(
            "window.__tollgateDocument = arguments[0]; return null;",
            vec![json!(mark)],
        )
        .await;
        action().await;
        self.wait_for_script(
            &format!("a new page after {what}"),
            &format!(
                "return document.readyState === 'complete' && window.__tollgateDocument !== {mark}"
            ),
            |loaded: bool| loaded,
        )
        .await;
    }

    /// The path of the current page's address (`/admin/spaces`).
    pub async fn path(&self) -> String {
        self.driver()
            .current_url()
            .await
            .expect("current url")
            .path()
            .to_owned()
    }

    /// The current page's address.
    pub async fn url(&self) -> String {
        self.driver()
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    /// The current document as HTML, as the browser holds it now (form values typed or set
    /// by script appear in its inputs' `value` only when written to the attribute; see
    /// [`Browser::everything_on_the_page`]).
    pub async fn source(&self) -> String {
        self.driver().source().await.expect("page source")
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.run("return document.body ? document.body.innerText : ''")
            .await
    }

    /// The page's HTML, its visible text, and the current value of each of its form fields:
    /// what must not hold a secret that is no longer to be shown.
    pub async fn everything_on_the_page(&self) -> String {
        let values: Vec<String> = self
            .run(
                "return [...document.querySelectorAll('input, textarea, select')]
                    .map(field => field.value)",
            )
            .await;
        format!(
            "{}\n{}\n{}",
            self.source().await,
            self.text().await,
            values.join("\n")
        )
    }

    /// Runs `script` in the page and returns what it returned.
    pub async fn run<T: DeserializeOwned>(&self, script: &str) -> T {
        self.run_with(script, Vec::new()).await
    }

    /// Runs `script` with `arguments` and returns what it returned.
    pub async fn run_with<T: DeserializeOwned>(&self, script: &str, arguments: Vec<Value>) -> T {
        let answer = self
            .driver()
            .execute(script, arguments)
            .await
            .unwrap_or_else(|e| panic!("a script failed in the page: {e}"));
        answer
            .convert()
            .unwrap_or_else(|e| panic!("a script answered an unexpected value: {e}"))
    }

    /// Runs `script` until its answer satisfies `done`, and returns that answer.
    ///
    /// # Panics
    /// If [`PATIENCE`] passes first: "timed out after N s waiting for `what`".
    pub async fn wait_for_script<T: DeserializeOwned>(
        &self,
        what: &str,
        script: &str,
        done: impl Fn(T) -> bool,
    ) {
        crate::support::eventually(what, PATIENCE, async || {
            // A script may run while a navigation replaces the document; ask again then.
            let answer = self.driver().execute(script, Vec::new()).await.ok()?;
            let value: T = answer.convert().ok()?;
            done(value).then_some(())
        })
        .await;
    }

    /// Waits until an element matches `css`, and returns the first.
    pub async fn find(&self, css: &str) -> WebElement {
        self.driver()
            .query(By::Css(css))
            .desc(css)
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element matches {css}: {e}"))
    }

    /// Whether an element matches `css` now (no waiting: for what must be absent from a page
    /// that has loaded).
    pub async fn has(&self, css: &str) -> bool {
        !self
            .driver()
            .find_all(By::Css(css))
            .await
            .expect("find elements")
            .is_empty()
    }

    /// Waits until a button (or submit input) whose text is `label` is on the page.
    pub async fn button(&self, label: &str) -> WebElement {
        let xpath = format!(
            "//button[normalize-space(.)={label:?}] | //input[@type='submit' and @value={label:?}]"
        );
        self.driver()
            .query(By::XPath(xpath))
            .desc(&format!("the button {label:?}"))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no button {label:?} on the page: {e}"))
    }

    /// Waits until a link whose text is `label` is on the page.
    pub async fn link(&self, label: &str) -> WebElement {
        self.driver()
            .query(By::XPath(format!("//a[normalize-space(.)={label:?}]")))
            .desc(&format!("the link {label:?}"))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no link {label:?} on the page: {e}"))
    }

    /// Clicks the button `label` and waits for the page it leads to.
    pub async fn press_button(&self, label: &str) {
        let button = self.button(label).await;
        self.navigating(&format!("pressing {label:?}"), async || {
            button.click().await.expect("click");
        })
        .await;
    }

    /// Empties the field `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    /// Waits until the page's text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        self.wait_for_script(
            &format!("the page to say {needle:?}"),
            "return document.body ? document.body.innerText : ''",
            |text: String| text.contains(needle),
        )
        .await;
    }

    /// The table with id `id`, as its cells' text.
    pub async fn table(&self, id: &str) -> Table {
        self.find(&format!("table#{id}")).await;
        self.run_with(
            "const table = document.getElementById(arguments[0]);
             const text = cell => cell.innerText.trim();
             return {
               headers: [...table.querySelectorAll('thead th')].map(text),
               rows: [...table.querySelectorAll('tbody tr')].map(row => ({
                 token_id: row.dataset.tokenId ?? null,
                 cells: [...row.children].map(text),
               })),
             };",
            vec![json!(id)],
        )
        .await
    }

    /// Why the current page scrolls sideways (its width, the window's, and the elements that
    /// stick out furthest), or `None` if it does not.
    pub async fn sideways_scroll(&self) -> Option<String> {
        let (scroll_width, inner_width, sticking_out): (f64, f64, Vec<String>) = self
            .run(
                "const inner = window.innerWidth;
                 const out = [...document.body.querySelectorAll('*')]
                   .map(el => [el, el.getBoundingClientRect().right])
                   .filter(([, right]) => right > inner + 0.5)
                   .filter(([el]) => !el.parentElement
                     || el.parentElement.getBoundingClientRect().right <= inner + 0.5)
                   .slice(0, 5)
                   .map(([el, right]) => el.tagName.toLowerCase()
                     + (el.id ? '#' + el.id : '')
                     + (el.className && typeof el.className === 'string'
                         ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
                     + ' ends at ' + Math.round(right) + ' px');
                 return [document.documentElement.scrollWidth, inner, out];",
            )
            .await;
        (scroll_width > inner_width).then(|| {
            format!(
                "{scroll_width} px wide in a {inner_width} px window; sticking out: {}",
                if sticking_out.is_empty() {
                    "(nothing found)".to_owned()
                } else {
                    sticking_out.join(", ")
                }
            )
        })
    }

    /// The text of an open JavaScript dialog (`alert`, `confirm`), if one is open.
    pub async fn open_dialog(&self) -> Option<String> {
        self.driver().get_alert_text().await.ok()
    }

    /// Presses `key` as a keyboard would, on whatever has the focus.
    pub async fn press(&self, key: Key) {
        self.driver()
            .action_chain()
            .send_keys(key)
            .perform()
            .await
            .expect("press a key");
    }

    /// Types `text` as a keyboard would, into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        self.driver()
            .action_chain()
            .send_keys(text)
            .perform()
            .await
            .expect("type");
    }

    /// Presses Shift+Tab.
    pub async fn shift_tab(&self) {
        self.driver()
            .action_chain()
            .key_down(Key::Shift)
            .send_keys(Key::Tab)
            .key_up(Key::Shift)
            .perform()
            .await
            .expect("press shift+tab");
    }

    /// What has the focus now, and how it is drawn; `None` when nothing but the page has it.
    pub async fn focused(&self) -> Option<Focused> {
        self.run(
            "const el = document.activeElement;
             if (!el || el === document.body) return null;
             const style = getComputedStyle(el);
             const label = el.matches('input, select, textarea')
               ? (el.labels && el.labels[0] ? el.labels[0].innerText : '')
               : (el.getAttribute('aria-label') || el.innerText || el.value || '');
             return {
               description: el.tagName.toLowerCase()
                 + (el.id ? '#' + el.id : '')
                 + (el.name ? '[name=' + el.name + ']' : '')
                 + ' ' + JSON.stringify(label.trim().slice(0, 60)),
               focus_visible: el.matches(':focus-visible'),
               outline_style: style.outlineStyle,
               outline_width: parseFloat(style.outlineWidth) || 0,
             };",
        )
        .await
    }

    /// Presses Tab until the focused element matches `css`, checking on the way that every
    /// element the focus reaches shows it, and returns it.
    ///
    /// # Panics
    /// If the focus reaches an element that does not show it, or none that matches `css`
    /// after going around the page.
    pub async fn tab_to(&self, css: &str) -> WebElement {
        self.move_focus_to(css, None, false).await
    }

    /// As [`Browser::tab_to`], to the element matching `css` whose text (or value) is `label`.
    pub async fn tab_to_labelled(&self, css: &str, label: &str) -> WebElement {
        self.move_focus_to(css, Some(label), false).await
    }

    /// As [`Browser::tab_to`], pressing Shift+Tab.
    pub async fn shift_tab_to(&self, css: &str) -> WebElement {
        self.move_focus_to(css, None, true).await
    }

    async fn move_focus_to(&self, css: &str, label: Option<&str>, backwards: bool) -> WebElement {
        const MOST_STOPS: usize = 80;
        let mut path = Vec::new();
        for _ in 0..MOST_STOPS {
            if backwards {
                self.shift_tab().await;
            } else {
                self.press(Key::Tab).await;
            }
            let Some(focused) = self.focused().await else {
                path.push("(the page itself)".to_owned());
                continue;
            };
            assert!(
                focused.shows_focus(),
                "the focus reached {} but does not show it (:focus-visible {}, outline {} \
                 {} px)",
                super::redact(&focused.description),
                focused.focus_visible,
                focused.outline_style,
                focused.outline_width,
            );
            let matches: bool = self
                .run_with(
                    "const [css, label] = arguments;
                     const el = document.activeElement;
                     return el.matches(css)
                       && (label === null || (el.innerText || el.value || '').trim() === label);",
                    vec![json!(css), json!(label)],
                )
                .await;
            if matches {
                return self
                    .driver()
                    .active_element()
                    .await
                    .expect("the focused element");
            }
            path.push(focused.description);
        }
        panic!(
            "pressing {} {MOST_STOPS} times never focused {css}{}; the focus went to:\n  {}",
            if backwards { "Shift+Tab" } else { "Tab" },
            label
                .map(|l| format!(" labelled {l:?}"))
                .unwrap_or_default(),
            super::redact(&path.join("\n  "))
        );
    }

    /// Grants the page's origin the clipboard permissions, so that `navigator.clipboard`
    /// works in headless chromium as it does after a person allowed it.
    pub async fn allow_clipboard(&self, origin: &str) {
        self.driver()
            .cdp()
            .send_raw(
                "Browser.grantPermissions",
                json!({
                    "origin": origin,
                    "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
                }),
            )
            .await
            .expect("grant the clipboard permissions");
        // The clipboard answers only a focused document; a headless window never is.
        self.driver()
            .cdp()
            .send_raw(
                "Emulation.setFocusEmulationEnabled",
                json!({ "enabled": true }),
            )
            .await
            .expect("emulate focus");
    }

    /// What the clipboard holds, or why it cannot be read.
    pub async fn clipboard(&self) -> Result<String, String> {
        let answer: ClipboardRead = self
            .driver()
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(
                   text => done({ text }),
                   error => done({ error: String(error) }));",
                Vec::new(),
            )
            .await
            .map_err(|e| e.to_string())?
            .convert()
            .map_err(|e| e.to_string())?;
        match answer {
            ClipboardRead {
                text: Some(text), ..
            } => Ok(text),
            ClipboardRead { error, .. } => Err(error.unwrap_or_default()),
        }
    }

    /// Saves what the window shows as a PNG.
    pub async fn screenshot(&self, path: &Path) {
        self.driver()
            .screenshot(path)
            .await
            .unwrap_or_else(|e| panic!("failed to save a screenshot to {}: {e}", path.display()));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A session not quit (a test that panicked) is ended here, before chromedriver goes.
        drop(self.driver.take());
    }
}

#[derive(Debug, Deserialize)]
struct ClipboardRead {
    text: Option<String>,
    error: Option<String>,
}

/// The focused element, as [`Browser::focused`] describes it.
#[derive(Debug, Deserialize)]
pub struct Focused {
    /// Tag, id, name and label or text: enough to say which element it is, and never a
    /// field's value.
    pub description: String,
    pub focus_visible: bool,
    pub outline_style: String,
    pub outline_width: f64,
}

impl Focused {
    /// Whether a person sees where the focus is: the browser applies `:focus-visible` and
    /// the page draws an outline for it.
    pub fn shows_focus(&self) -> bool {
        self.focus_visible && self.outline_style != "none" && self.outline_width > 0.0
    }
}

/// A table's text: its header cells and, for each body row, its `data-token-id` and cells.
#[derive(Debug, Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
pub struct Row {
    pub token_id: Option<String>,
    pub cells: Vec<String>,
}

impl Table {
    /// The row whose first cell starts with the line `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|row| row.cells.first().and_then(|c| c.lines().next()) == Some(name))
    }

    /// The text of `row`'s cell under the header that starts with `header`.
    ///
    /// # Panics
    /// If the table has no such header.
    pub fn cell<'a>(&self, row: &'a Row, header: &str) -> &'a str {
        let index = self
            .headers
            .iter()
            .position(|h| h.to_lowercase().starts_with(&header.to_lowercase()))
            .unwrap_or_else(|| panic!("no column {header:?} in {:?}", self.headers));
        row.cells.get(index).map_or("", String::as_str)
    }
}

/// A chromedriver child process, killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Chromedriver {
    /// Starts chromedriver on a free port and waits until its `/status` says it is ready.
    async fn start() -> Self {
        // A port found free may be taken before chromedriver binds it; try another then.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::start_on(free_port()).await {
                Ok(driver) => return driver,
                Err(failure) => failures.push(failure),
            }
        }
        panic!(
            "chromedriver did not start: {HOW_TO_GET_THE_BROWSER} if it is missing; \
             its attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    async fn start_on(port: u16) -> Result<Self, String> {
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("failed to run {CHROMEDRIVER}: {e}"))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
        }
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            output,
        };
        let status = format!("{}/status", driver.url);
        let client = reqwest::Client::new();
        let started = tokio::time::Instant::now();
        loop {
            if let Ok(Some(exit)) = driver.child.try_wait() {
                return Err(format!(
                    "chromedriver exited ({exit}) before it was ready:\n{}",
                    driver.output()
                ));
            }
            let ready = match client.get(&status).send().await {
                Ok(answer) => answer
                    .json::<Value>()
                    .await
                    .is_ok_and(|body| body["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return Ok(driver);
            }
            if started.elapsed() >= PATIENCE {
                let _ = driver.child.kill();
                return Err(format!(
                    "timed out after {} s waiting for chromedriver's /status to say ready:\n{}",
                    PATIENCE.as_secs(),
                    driver.output()
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
