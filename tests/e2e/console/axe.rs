//! axe-core in the page: the WCAG 2.1 A and AA rules, run by the real browser on the page as
//! it is rendered (colours, labels, landmarks, names of controls).
//!
//! axe-core comes from `tests/browser/node_modules` (installed by `scripts/test` with
//! `npm ci` from the committed lock), and is injected by WebDriver, which is not subject to
//! the page's Content-Security-Policy: the console's own CSP stays as strict as in production.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Deserialize;

use super::browser::Browser;

/// The rule sets the console is held to: WCAG 2.0 and 2.1, levels A and AA.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

fn axe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js")
}

/// axe-core's source.
///
/// # Panics
/// If it is not installed, saying how to install it.
fn axe_source() -> String {
    let path = axe_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} cannot be read ({e}), and the console's accessibility tests need it: run \
             scripts/test, which installs it, or `cd tests/browser && npm ci`",
            path.display()
        )
    })
}

/// One rule the page breaks, with the elements that break it.
#[derive(Debug, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
pub struct Node {
    /// CSS selectors that find the element (one per frame level).
    pub target: Vec<serde_json::Value>,
    /// The element's HTML as axe saw it (cut short by axe).
    pub html: String,
}

/// Runs axe-core on the current page and returns what it found against WCAG 2.1 AA.
pub async fn violations(browser: &Browser) -> Vec<Violation> {
    let already_there: bool = browser.run("return typeof window.axe === 'object'").await;
    if !already_there {
        browser.run::<serde_json::Value>(&axe_source()).await;
    }
    let answer: AxeAnswer = browser
        .driver()
        .execute_async(
            "const [tags, done] = arguments;
             window.axe
               .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
               .then(result => done({ checked: result.passes.length, violations: result.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   nodes: v.nodes.map(n => ({ target: n.target, html: n.html })),
                 })) }))
               .catch(error => done({ error: String(error) }));",
            vec![serde_json::json!(TAGS)],
        )
        .await
        .unwrap_or_else(|e| panic!("axe-core did not run: {e}"))
        .convert()
        .unwrap_or_else(|e| panic!("axe-core answered something unexpected: {e}"));
    match answer {
        AxeAnswer {
            error: Some(error), ..
        } => panic!("axe-core failed: {error}"),
        AxeAnswer {
            checked: 0,
            violations: Some(violations),
            ..
        } if violations.is_empty() => {
            panic!("axe-core found no rule to check on the page: it checked nothing")
        }
        AxeAnswer { violations, .. } => violations.unwrap_or_default(),
    }
}

#[derive(Debug, Deserialize)]
struct AxeAnswer {
    /// How many rules the page passed: none means axe looked at nothing.
    #[serde(default)]
    checked: usize,
    violations: Option<Vec<Violation>>,
    error: Option<String>,
}

/// What `violations` found on the page `page`, written for a person to fix: each rule's
/// id, impact and help, and each offending element's selector and HTML. Empty if nothing.
pub fn report(page: &str, violations: &[Violation]) -> String {
    let mut out = String::new();
    for violation in violations {
        let _ = writeln!(
            out,
            "{page}: {} ({}): {} <{}>",
            violation.id,
            violation.impact.as_deref().unwrap_or("no impact given"),
            violation.help,
            violation.help_url
        );
        for node in &violation.nodes {
            let target: Vec<String> = node
                .target
                .iter()
                .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
                .collect();
            let _ = writeln!(out, "    at {}: {}", target.join(" >> "), node.html);
        }
    }
    super::redact(&out)
}

/// Fails, listing each violation, if axe-core finds the current page (called `page` in the
/// message) breaking a WCAG 2.1 A or AA rule.
pub async fn assert_accessible(browser: &Browser, page: &str) {
    let found = violations(browser).await;
    assert!(
        found.is_empty(),
        "axe-core found {} WCAG 2.1 AA violation(s) on {page}:\n{}",
        found.len(),
        report(page, &found)
    );
}
