//! Names are text: a space or token named like a script shows as those characters, and runs
//! nothing, on every page that shows it.

use super::browser::Browser;
use super::pages::{events_path, revoke_path, tokens_path};
use super::run;

const SCRIPT: &str = "<script>alert(1)</script>";
/// Breaks out of an attribute (`aria-label="Revoke {name}"`) if one is not escaped.
const ATTRIBUTE_BREAKER: &str = "\"><img src=x onerror=alert(2)>";

/// The page shows `name` as text, holds no element made from it, and no dialog is open.
async fn shows_as_text(browser: &Browser, name: &str, page: &str) {
    assert_eq!(
        browser.open_dialog().await,
        None,
        "a dialog opened on {page}"
    );
    browser.wait_for_text(name).await;
    let made_elements: bool = browser
        .run(
            "return [...document.scripts].some(s => s.textContent.includes('alert('))
                 || document.querySelector('img[onerror]') !== null",
        )
        .await;
    assert!(!made_elements, "a name became markup on {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_as_a_space_or_token_name_shows_as_text_and_runs_nothing() {
    run(async |console| {
        let browser = &console.browser;
        console.sign_in(&console.app.admin).await;

        console.create_space_in_form(SCRIPT).await;
        console.open("/admin/spaces").await;
        shows_as_text(browser, SCRIPT, "the spaces page").await;
        let spaces = console.app.get("/v1/spaces", &console.app.admin).await;
        let space = spaces.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|s| s["name"] == SCRIPT)
            .expect("the space created in the form")["id"]
            .as_str()
            .expect("id")
            .to_owned();

        let token_name = format!("{SCRIPT}{ATTRIBUTE_BREAKER}");
        console
            .create_token_in_form(&space, &token_name, "client")
            .await;
        shows_as_text(browser, SCRIPT, "the created token's page").await;

        console.open(&tokens_path(&space)).await;
        shows_as_text(browser, &token_name, "the tokens list").await;
        let table = browser.table("tokens").await;
        assert!(table.row(&token_name).is_some(), "{table:?}");

        let id = console
            .token_id_named(&console.app.admin, &space, &token_name)
            .await
            .expect("the token");
        console.open(&revoke_path(&space, &id)).await;
        shows_as_text(browser, &token_name, "the revoke confirmation").await;

        console.open(&events_path(&space)).await;
        browser.find("table#events").await;
        assert_eq!(
            browser.open_dialog().await,
            None,
            "a dialog opened on the events page"
        );
    })
    .await;
}
