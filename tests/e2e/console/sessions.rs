//! When a console session ends: its token revoked elsewhere, or signing out. Either way the
//! next page asks to sign in again, and says why.

use reqwest::StatusCode;

use super::pages::{tokens_path, SIGN_IN};
use super::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_when_its_token_is_revoked_and_the_next_page_asks_to_sign_in_again() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        let (id, space_admin) = console
            .create_token_by_api(&space, "space admin", "admin")
            .await;
        console.sign_in(&space_admin).await;
        assert_eq!(browser.path().await, tokens_path(&space));

        let revoked = console
            .app
            .delete(
                &format!("/v1/spaces/{space}/tokens/{id}"),
                &console.app.admin,
            )
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");

        console.open(&tokens_path(&space)).await;
        assert_eq!(
            browser.path().await,
            SIGN_IN,
            "a session whose token was revoked still opens pages"
        );
        let notice = browser.find("#notice").await.text().await.expect("notice");
        assert!(
            !notice.trim().is_empty(),
            "the sign-in page does not say why"
        );
        assert!(!browser.has("table#tokens").await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_every_page_then_asks_to_sign_in() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        console.sign_in(&console.app.admin).await;
        console.sign_out().await;
        assert_eq!(browser.path().await, SIGN_IN);
        assert!(!browser.has("form[action='/admin/sign-out']").await);
        for path in ["/admin/spaces".to_owned(), tokens_path(&space)] {
            console.open(&path).await;
            assert_eq!(
                browser.path().await,
                SIGN_IN,
                "{path} opened after signing out"
            );
        }
    })
    .await;
}
