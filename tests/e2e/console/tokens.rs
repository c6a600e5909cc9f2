//! A token's life in the console: created and shown once, used on the REST API, revoked after
//! a confirmation, suspended and resumed; and a space admin is offered only the levels it may create.

use reqwest::StatusCode;
use serde_json::Value;

use super::pages::{new_token_path, tokens_path};
use super::{run, Console};

/// Signs in as the instance admin and creates the client token `name` in a new space with
/// the form; returns the space, the token's id (from the tokens list) and its secret.
async fn create_in_the_console(console: &Console, name: &str) -> (String, String, String) {
    let space = console.app.create_space("Acme").await;
    console.sign_in(&console.app.admin).await;
    let secret = console.create_token_in_form(&space, name, "client").await;
    assert!(
        secret.starts_with("tgc_"),
        "the page shows no client token string where the secret should be"
    );
    console.open_tokens(&space).await;
    let table = console.browser.table("tokens").await;
    let row = table
        .row(name)
        .unwrap_or_else(|| panic!("the tokens list has no row {name:?}: {table:?}"));
    let id = row.token_id.clone().expect("the row's data-token-id");
    (space, id, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_token_is_shown_once_and_reloading_or_going_back_never_shows_it_again() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        console.sign_in(&console.app.admin).await;

        let secret = console
            .create_token_in_form(&space, "deploy", "client")
            .await;
        assert!(
            secret.starts_with("tgc_"),
            "the answer to the create POST shows no client token string"
        );
        let shown = browser.find("input#secret").await;
        assert!(
            shown.attr("readonly").await.expect("attribute").is_some(),
            "the secret's field can be edited"
        );
        browser.find("button#copy").await;
        browser.wait_for_text("will not be shown again").await;

        // A reload sends the same form (the same nonce) again.
        browser
            .navigating("reloading the created token's page", async || {
                browser.driver().refresh().await.expect("reload");
            })
            .await;
        browser
            .wait_for_text("already created; the token is not shown again")
            .await;
        assert!(
            !browser.everything_on_the_page().await.contains(&secret),
            "reloading the answer to the create POST showed the secret again"
        );

        browser
            .navigating("going back", async || {
                browser.driver().back().await.expect("go back");
            })
            .await;
        assert!(
            !browser.everything_on_the_page().await.contains(&secret),
            "going back showed the secret again (on {})",
            browser.path().await
        );

        console.open_tokens(&space).await;
        let table = browser.table("tokens").await;
        let row = table
            .row("deploy")
            .unwrap_or_else(|| panic!("the tokens list has no row \"deploy\": {table:?}"));
        let hint = table.cell(row, "Hint");
        let hint_start = hint.trim_end_matches(['…', '.', ' ']);
        assert!(
            hint_start.len() >= 4
                && hint_start.len() < secret.len()
                && secret.starts_with(hint_start),
            "the hint {hint:?} is not the start of the token string"
        );
        assert!(
            table.cell(row, "Level").to_lowercase().contains("client"),
            "{row:?}"
        );
        assert!(
            !browser.everything_on_the_page().await.contains(&secret),
            "the tokens list holds the secret"
        );

        // Away from a page that showed a secret, and back to it: not from memory either. (The
        // way away goes to another address: a link to the list, the address the form posted
        // to, would replace the page in the history rather than leave it.)
        let second = console
            .create_token_in_form(&space, "second", "client")
            .await;
        browser.link("Spaces").await;
        browser
            .navigating("going to the spaces", async || {
                browser.link("Spaces").await.click().await.expect("click");
            })
            .await;
        browser
            .navigating("going back to the created token's page", async || {
                browser.driver().back().await.expect("go back");
            })
            .await;
        assert!(
            !browser.everything_on_the_page().await.contains(&second),
            "going back to the created token's page showed the secret again"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_created_in_the_console_works_on_the_rest_api() {
    run(async |console| {
        let (space, id, secret) = create_in_the_console(console, "deploy").await;
        let reply = console
            .app
            .client
            .get(format!("{}/v1/whoami", console.app.base))
            .header("x-undb-api-token", &secret)
            .send()
            .await
            .expect("GET /v1/whoami");
        assert_eq!(reply.status(), StatusCode::OK);
        let whoami: Value = reply.json().await.expect("a JSON body");
        assert_eq!(whoami["token_id"], id.as_str());
        assert_eq!(whoami["space_id"], space.as_str());
        assert_eq!(whoami["level"], "client");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_in_the_console_after_a_confirmation_naming_it_gets_401_from_the_api() {
    run(async |console| {
        let browser = &console.browser;
        let (space, id, secret) = create_in_the_console(console, "deploy").await;
        assert!(console.token_works(&secret).await);

        // From the list: the row's Revoke link, whose accessible name says which token.
        let revoke = browser
            .find(&format!("tr[data-token-id='{id}'] a[href$='/revoke']"))
            .await;
        let name: String = browser
            .run_with(
                "const link = arguments[0];
                 return link.getAttribute('aria-label') || link.innerText;",
                vec![revoke.to_json().expect("element")],
            )
            .await;
        assert!(
            name.contains("Revoke") && name.contains("deploy"),
            "the Revoke link's accessible name {name:?} does not name the token"
        );
        browser
            .navigating("following Revoke", async || {
                revoke.click().await.expect("click");
            })
            .await;
        let confirmation = browser.text().await;
        assert!(
            confirmation.contains("deploy") && confirmation.to_lowercase().contains("client"),
            "the confirmation does not name the token and its level:\n{confirmation}"
        );
        assert!(
            console.token_works(&secret).await,
            "opening the confirmation revoked the token"
        );

        browser.press_button("Revoke token").await;
        assert_eq!(browser.path().await, tokens_path(&space));
        assert!(
            !console.token_works(&secret).await,
            "the token revoked in the console still works"
        );

        console
            .open(&format!("{}?status=revoked", tokens_path(&space)))
            .await;
        let table = browser.table("tokens").await;
        let row = table.row("deploy").expect("the revoked token in the list");
        assert!(
            table.cell(row, "Status").to_lowercase().contains("revoked"),
            "{row:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_suspended_in_the_console_gets_401_from_the_api_until_resumed_there() {
    run(async |console| {
        let browser = &console.browser;
        let (space, id, secret) = create_in_the_console(console, "deploy").await;
        assert!(console.token_works(&secret).await);

        let suspend = browser
            .find(&format!(
                "tr[data-token-id='{id}'] form[action$='/suspend'] button"
            ))
            .await;
        browser
            .navigating("pressing Suspend", async || {
                suspend.click().await.expect("click");
            })
            .await;
        assert_eq!(browser.path().await, tokens_path(&space));
        assert!(
            !console.token_works(&secret).await,
            "the token suspended in the console still works"
        );

        console
            .open(&format!("{}?status=suspended", tokens_path(&space)))
            .await;
        let table = browser.table("tokens").await;
        let row = table
            .row("deploy")
            .expect("the suspended token in the list");
        assert!(
            table
                .cell(row, "Status")
                .to_lowercase()
                .contains("suspended"),
            "{row:?}"
        );
        let resume = browser
            .find(&format!(
                "tr[data-token-id='{id}'] form[action$='/resume'] button"
            ))
            .await;
        browser
            .navigating("pressing Resume", async || {
                resume.click().await.expect("click");
            })
            .await;
        assert!(
            console.token_works(&secret).await,
            "the token resumed in the console does not work"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_admin_is_offered_no_admin_level_and_cannot_post_one_anyway() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        let (_, space_admin) = console
            .create_token_by_api(&space, "space admin", "admin")
            .await;

        console.sign_in(&space_admin).await;
        assert_eq!(browser.path().await, tokens_path(&space));

        console.open(&new_token_path(&space)).await;
        browser.find("input#level-client").await;
        assert!(
            !browser
                .has("input#level-admin, input[name=level][value=admin]")
                .await,
            "a space admin is offered the admin level"
        );

        // The form is only an offer: a level changed in the page is refused by the server.
        browser.fill("input#token-name", "sneaky").await;
        let client = browser.find("input#level-client").await;
        client.click().await.expect("choose client");
        browser
            .run_with::<Value>(
                "arguments[0].value = 'admin'; return null;",
                vec![client.to_json().expect("element")],
            )
            .await;
        browser.press_button("Create token").await;
        assert!(
            !browser.has("input#secret").await,
            "the console issued a token for a forged admin level"
        );
        if let Some(id) = console
            .token_id_named(&console.app.admin, &space, "sneaky")
            .await
        {
            let token = console
                .app
                .get(
                    &format!("/v1/spaces/{space}/tokens/{id}"),
                    &console.app.admin,
                )
                .await;
            assert_eq!(
                token.body["level"], "client",
                "a space admin made an admin token"
            );
        }
    })
    .await;
}
