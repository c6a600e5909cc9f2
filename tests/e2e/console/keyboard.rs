//! The keyboard alone: sign in, create a token, copy it and revoke it with Tab, Shift+Tab,
//! Enter and Space, the focus visible on every element it reaches.

use thirtyfour::prelude::*;

use super::pages::{tokens_path, SIGN_IN};
use super::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_can_be_created_copied_and_revoked_with_the_keyboard_alone() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        browser.allow_clipboard(console.origin()).await;

        console.open(SIGN_IN).await;
        browser.tab_to("input#token").await;
        browser.type_text(&console.app.admin).await;
        browser
            .navigating("signing in with Enter", async || {
                browser.press(Key::Enter).await;
            })
            .await;
        assert_eq!(browser.path().await, "/admin/spaces");

        browser
            .tab_to(&format!("a[href$='{}']", tokens_path(&space)))
            .await;
        browser
            .navigating("opening the space", async || {
                browser.press(Key::Enter).await;
            })
            .await;
        browser.tab_to("a[href$='/tokens/new']").await;
        browser
            .navigating("opening the new token form", async || {
                browser.press(Key::Enter).await;
            })
            .await;

        browser.tab_to("input#token-name").await;
        browser.type_text("typed").await;
        let level = browser.tab_to("input[name=level]").await;
        assert_eq!(
            level.id().await.expect("id").as_deref(),
            Some("level-client"),
            "the level group's first stop is not the client level"
        );
        browser.press(Key::Space).await;
        assert!(level.is_selected().await.expect("checked"));
        browser
            .tab_to_labelled("button, input[type=submit]", "Create token")
            .await;
        browser
            .navigating("creating the token with Enter", async || {
                browser.press(Key::Enter).await;
            })
            .await;
        let secret = console.shown_secret().await;
        assert!(secret.starts_with("tgc_"), "no token string shown");

        browser.tab_to("button#copy").await;
        browser.press(Key::Space).await;
        browser
            .wait_for_script(
                "the copy button to say Copied",
                "const s = document.getElementById('copy-status'); return s ? s.innerText : ''",
                |status: String| status.contains("Copied"),
            )
            .await;
        match browser.clipboard().await {
            Ok(copied) => assert!(copied == secret, "the clipboard holds something else"),
            Err(why) => eprintln!(
                "note: headless chromium would not read the clipboard back ({why}); \
                 the copy button was checked to answer \"Copied\" only"
            ),
        }
        // Back past the secret's field, then on to the way back to the list.
        browser.shift_tab_to("input#secret").await;
        browser
            .tab_to(&format!("a[href$='{}']", tokens_path(&space)))
            .await;
        browser
            .navigating("going back to the list", async || {
                browser.press(Key::Enter).await;
            })
            .await;

        let id = console
            .token_id_named(&console.app.admin, &space, "typed")
            .await
            .expect("the token created with the keyboard");
        assert!(console.token_works(&secret).await);
        browser
            .tab_to(&format!("tr[data-token-id='{id}'] a[href$='/revoke']"))
            .await;
        browser
            .navigating("opening the confirmation", async || {
                browser.press(Key::Enter).await;
            })
            .await;
        browser
            .tab_to_labelled("button, input[type=submit]", "Revoke token")
            .await;
        browser
            .navigating("revoking with Space", async || {
                browser.press(Key::Space).await;
            })
            .await;
        assert_eq!(browser.path().await, tokens_path(&space));
        assert!(!console.token_works(&secret).await, "the token still works");
    })
    .await;
}
