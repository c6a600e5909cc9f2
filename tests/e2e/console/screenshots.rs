//! The pictures in docs/console/: every page the tour visits, with the data the tour makes, on
//! a server whose clock stands still (the `fixed-clock` build feature), and with what is random
//! (ids, token strings) replaced by stable stand-ins, so that a run changes a picture only
//! where a page changed, and no real token reaches docs/.
//!
//! Not part of the test suite (`#[ignore]`): `scripts/screenshots` runs it, built with
//! `--features fixed-clock`.

use std::path::PathBuf;

use super::browser::Browser;
use super::pages::tour;
use super::run_with_env;

/// The pages pictured, by their names in the tour; each is saved as `NAME.png`.
const PICTURED: [&str; 8] = [
    "sign-in",
    "spaces",
    "tokens",
    "new-token",
    "token-created",
    "revoke",
    "rotate",
    "events",
];

/// The instant the server's clock stands still at while the pictures are taken.
const PICTURED_AT: &str = "2025-06-02T09:41:00Z";

/// Replaces what is random in the page's text and field values, UUIDs (whole or their first 8
/// digits) and token strings, each distinct one by a stable stand-in of the same shape, in
/// the order they appear. Answers how many token strings it replaced in field values.
const STEADY: &str = r"
const pad = (n, w = 2) => String(n).padStart(w, '0');
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const standIns = new Map();
let next = 0;
const standIn = (original, make) => {
  if (!standIns.has(original)) standIns.set(original, make(++next));
  return standIns.get(original);
};
const letters = (length, seed) => {
  let x = seed * 7919 + 17, out = '';
  for (let i = 0; i < length; i++) { x = (x * 1103515245 + 12345) % 2147483648; out += ALPHABET[x % 62]; }
  return out;
};
const rules = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g,
    m => standIn(m, n => '0197f00d-' + pad(n, 4) + '-7000-8000-' + pad(n, 12))],
  // A short id (the start of a UUID, as 'Created by' shows an actor): 8 hex digits, one a digit.
  [/(?<![-\w])(?=[0-9a-f]{0,7}\d)[0-9a-f]{8}(?![-\w])/g, m => standIn(m, n => '0197f0' + pad(n))],
  [/\btg([cai])_([0-9A-Za-z]+)/g,
    (m, kind, rest) => standIn(m, n => 'tg' + kind + '_' + letters(rest.length, n))],
];
const steady = text => rules.reduce((t, [pattern, replace]) => t.replace(pattern, replace), text);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node; (node = walker.nextNode());) {
  const text = steady(node.nodeValue);
  if (text !== node.nodeValue) node.nodeValue = text;
}
let tokens = 0;
for (const field of document.querySelectorAll('input, textarea')) {
  const value = steady(field.value);
  if (value !== field.value) { if (/\btg[cai]_/.test(field.value)) tokens++; field.value = value; }
}
return tokens;
";

async fn steady(browser: &Browser, page: &str) {
    let secret = browser.has("input#secret").await;
    let replaced: u32 = browser.run(STEADY).await;
    assert!(
        !secret || replaced > 0,
        "the secret on {page} was not replaced: no real token goes into docs/"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/console/*.png; run by scripts/screenshots"]
async fn every_console_page_as_the_docs_show_it() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console");
    std::fs::create_dir_all(&dir).expect("create docs/console");
    run_with_env(&[("TOLLGATE_FIXED_CLOCK", PICTURED_AT)], async |console| {
        assert!(
            console.app.logs().contains("the clock stands still"),
            "the server's clock runs, so the pictures would change with every run: run \
             scripts/screenshots, which builds with --features fixed-clock"
        );
        let mut saved = Vec::new();
        tour(console, async |browser, page| {
            if !PICTURED.contains(&page) {
                return;
            }
            steady(browser, page).await;
            // Nothing focused, no caret: the same picture every time.
            browser
                .run::<serde_json::Value>(
                    "if (document.activeElement) document.activeElement.blur(); return null;",
                )
                .await;
            browser.screenshot(&dir.join(format!("{page}.png"))).await;
            saved.push(page);
        })
        .await;
        assert_eq!(saved, PICTURED, "a picture is missing");
        eprintln!("saved {} pictures in {}", saved.len(), dir.display());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steadying_a_page_replaces_its_ids_and_token_strings() {
    let html = r#"<!doctype html><html lang="en"><head><title>t</title></head><body>
<p id="text">by token:0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10, token 0190c6c4, hint tgc_01ab</p>
<input id="secret" value="tgc_0123456789abcdefghijABCDEFGHIJ0123456789"></body></html>"#;
    super::harness::on_page(html, async |browser| {
        steady(browser, "the harness page").await;
        let text: String = browser
            .run("return document.getElementById('text').innerText")
            .await;
        let (kept, hint) = text.split_at(text.len() - 4);
        assert_eq!(
            kept,
            "by token:0197f00d-0001-7000-8000-000000000001, token 0197f002, hint tgc_"
        );
        assert_ne!(hint, "01ab");
        let secret: String = browser
            .run("return document.getElementById('secret').value")
            .await;
        assert!(secret.starts_with("tgc_") && secret.len() == 44, "{secret}");
        assert!(!secret.contains("0123456789abcdef"), "{secret}");
    })
    .await;
}
