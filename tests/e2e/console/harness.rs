//! The harness checks itself on pages made to fail, so that a check that silently checks
//! nothing (axe not running, a width never measured, a focus never looked at) is caught here
//! rather than passing every console page.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;

use super::browser::Browser;
use super::other_site::OtherSite;
use super::{axe, redact, ONE_BROWSER_AT_A_TIME};

/// A browser on a page of ours (no tollgate needed).
pub(super) async fn on_page(html: &str, check: impl AsyncFnOnce(&Browser)) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let site = OtherSite::start().await;
    site.serve(html.to_owned());
    let browser = Browser::open().await;
    browser.goto(&site.url("127.0.0.1")).await;
    check(&browser).await;
    browser.quit().await;
}

const PAGE_START: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Harness</title>
</head><body><main><h1>Harness</h1>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_reports_a_field_without_a_label_with_its_selector() {
    let html = format!(r#"{PAGE_START}<input type="text" id="nameless"></main></body></html>"#);
    on_page(&html, async |browser| {
        let found = axe::violations(browser).await;
        let report = axe::report("the harness page", &found);
        assert!(
            found.iter().any(|v| v.id == "label"),
            "axe-core did not report the unlabelled field:\n{report}"
        );
        assert!(report.contains("#nameless"), "{report}");
    })
    .await;

    let html = format!(
        r#"{PAGE_START}<label for="named">Name</label><input type="text" id="named"></main></body></html>"#
    );
    on_page(&html, async |browser| {
        axe::assert_accessible(browser, "a labelled field").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_wider_than_a_narrow_window_is_reported_with_what_sticks_out() {
    let html = format!(
        r#"{PAGE_START}<div id="wide" style="width: 600px">wide</div></main></body></html>"#
    );
    on_page(&html, async |browser| {
        browser.resize(375, 812).await;
        let why = browser.sideways_scroll().await;
        assert!(
            why.as_deref().is_some_and(|why| why.contains("div#wide")),
            "{why:?}"
        );
        browser.resize(1280, 900).await;
        assert_eq!(browser.sideways_scroll().await, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabbing_to_an_element_that_hides_its_focus_fails() {
    let html = format!(
        r#"{PAGE_START}<a id="shown" href="/one">shown</a>
<a id="hidden" href="/two" style="outline: none">hidden</a></main></body></html>"#
    );
    on_page(&html, async |browser| {
        browser.tab_to("a#shown").await;
        let tabbed = AssertUnwindSafe(browser.tab_to("a#hidden"))
            .catch_unwind()
            .await;
        let message = tabbed
            .err()
            .and_then(|panic| panic.downcast_ref::<String>().cloned())
            .expect("tabbing to a link without a focus outline passed");
        assert!(message.contains("does not show it"), "{message}");
    })
    .await;
}

#[test]
fn redact_hides_token_strings_and_keeps_the_rest() {
    let token = "tgc_0123456789abcdefABCDEF0123456789";
    let text = format!(
        "before {token} after tga_short and <b>tgi_{}</b>",
        "x".repeat(40)
    );
    assert_eq!(
        redact(&text),
        "before tgc_<redacted> after tga_short and <b>tgi_<redacted></b>"
    );
}
