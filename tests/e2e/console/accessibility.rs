//! axe-core's WCAG 2.1 A and AA rules on every console page, as rendered by chromium.

use super::pages::{tour, PAGES};
use super::{axe, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_wcag_2_1_aa_violation_on_any_console_page() {
    run(async |console| {
        let mut visited = Vec::new();
        let mut found = String::new();
        tour(console, async |browser, page| {
            found.push_str(&axe::report(page, &axe::violations(browser).await));
            visited.push(page);
        })
        .await;
        assert_eq!(visited, PAGES, "the tour missed a page");
        assert!(
            found.is_empty(),
            "axe-core found WCAG 2.1 AA violations:\n{found}"
        );
    })
    .await;
}
