//! The pictures in docs/console/: every page the tour visits, with the data the tour makes
//! and what changes from run to run (dates, times, ids, token strings) replaced by stable
//! stand-ins, so that a run changes a picture only where a page changed.
//!
//! Not part of the test suite (`#[ignore]`): `scripts/screenshots` runs it.

use std::path::PathBuf;

use super::browser::Browser;
use super::pages::tour;
use super::run;

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

/// The day the pictures say it is: every date shown is moved by the same number of days, so
/// that "expires in 30 days" still reads as 30 days after "created".
const PICTURED_DAY: &str = "2025-06-02";

/// Replaces what differs between runs in the page's text and field values: dates (moved to
/// [`PICTURED_DAY`]), times, UUIDs (whole or their first 8 digits) and token strings (each distinct one by a stable stand-in
/// of the same shape). Answers how many token strings it replaced in field values.
const STEADY: &str = r"
const [picturedDay] = arguments;
const DAY = 86400000;
const today = new Date(); today.setUTCHours(0, 0, 0, 0);
const shift = today.getTime() - Date.parse(picturedDay + 'T00:00:00Z');
const pad = (n, w = 2) => String(n).padStart(w, '0');
const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
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
const moved = (y, m, d) => new Date(Date.UTC(y, m, d) - shift);
const rules = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g,
    m => standIn(m, n => '0197f00d-' + pad(n, 4) + '-7000-8000-' + pad(n, 12))],
  // A short id (the start of a UUID, as 'Created by' shows an actor): 8 hex digits, one a digit.
  [/(?<![-\w])(?=[0-9a-f]{0,7}\d)[0-9a-f]{8}(?![-\w])/g, m => standIn(m, n => '0197f0' + pad(n))],
  [/\btg([cai])_([0-9A-Za-z]+)/g,
    (m, kind, rest) => standIn(m, n => 'tg' + kind + '_' + letters(rest.length, n))],
  [/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (m, y, mo, d) => {
    const t = moved(+y, +mo - 1, +d);
    return t.getUTCFullYear() + '-' + pad(t.getUTCMonth() + 1) + '-' + pad(t.getUTCDate());
  }],
  [/\b(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (\d{4})\b/g, (m, d, mo, y) => {
    const t = moved(+y, MONTHS.indexOf(mo), +d);
    return t.getUTCDate() + ' ' + MONTHS[t.getUTCMonth()] + ' ' + t.getUTCFullYear();
  }],
  [/\b\d+ (second|minute|hour)s? ago\b/g, () => '2 minutes ago'],
  [/(?<!\d)\d{2}:\d{2}(:\d{2})?(\.\d+)?(?!\d)/g, (m, s) => '09:41' + (s ? ':00' : '')],
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
    let replaced: u32 = browser
        .run_with(STEADY, vec![serde_json::json!(PICTURED_DAY)])
        .await;
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
    run(async |console| {
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
async fn steadying_a_page_moves_its_dates_and_replaces_ids_and_token_strings() {
    let today = time::OffsetDateTime::now_utc().date();
    let html = format!(
        r#"<!doctype html><html lang="en"><head><title>t</title></head><body>
<p id="text">created {today} 12:34:56, expires {in_30_days}, by token:0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10, token 0190c6c4, hint tgc_01ab</p>
<input id="secret" value="tgc_0123456789abcdefghijABCDEFGHIJ0123456789"></body></html>"#,
        in_30_days = today + time::Duration::days(30),
    );
    super::harness::on_page(&html, async |browser| {
        steady(browser, "the harness page").await;
        let text: String = browser
            .run("return document.getElementById('text').innerText")
            .await;
        assert_eq!(
            text,
            "created 2025-06-02 09:41:00, expires 2025-07-02, by \
             token:0197f00d-0001-7000-8000-000000000001, token 0197f002, hint tgc_"
                .to_owned()
                + &text[text.len() - 4..],
        );
        assert!(!text.ends_with("01ab"), "{text}");
        let secret: String = browser
            .run("return document.getElementById('secret').value")
            .await;
        assert!(secret.starts_with("tgc_") && secret.len() == 44, "{secret}");
        assert!(!secret.contains("0123456789abcdef"), "{secret}");
    })
    .await;
}
