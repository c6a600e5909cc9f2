//! A phone's width: at 375 px no console page scrolls sideways.

use super::pages::{tour, PAGES};
use super::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_page_scrolls_sideways_on_a_375_px_wide_screen() {
    run(async |console| {
        console.browser.resize(375, 812).await;
        let mut visited = Vec::new();
        let mut scrolling = Vec::new();
        tour(console, async |browser, page| {
            if let Some(why) = browser.sideways_scroll().await {
                scrolling.push(format!("{page}: {why}"));
            }
            visited.push(page);
        })
        .await;
        assert_eq!(visited, PAGES, "the tour missed a page");
        assert!(
            scrolling.is_empty(),
            "pages scroll sideways at 375 px:\n{}",
            super::redact(&scrolling.join("\n"))
        );
    })
    .await;
}
