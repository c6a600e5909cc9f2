//! What a person does on each console page, written once against the pages' contract (ids,
//! labels, button texts), and a tour of every page for the checks that look at them all.

use reqwest::StatusCode;
use serde_json::json;

use super::browser::Browser;
use super::Console;
use crate::support::{eventually, PATIENCE};

/// Where the sign-in form is; also where a session that ended lands.
pub const SIGN_IN: &str = "/admin/sign-in";

pub fn tokens_path(space: &str) -> String {
    format!("/admin/spaces/{space}/tokens")
}

pub fn new_token_path(space: &str) -> String {
    format!("/admin/spaces/{space}/tokens/new")
}

pub fn revoke_path(space: &str, token: &str) -> String {
    format!("/admin/spaces/{space}/tokens/{token}/revoke")
}

pub fn rotate_path(space: &str, token: &str) -> String {
    format!("/admin/spaces/{space}/tokens/{token}/rotate")
}

pub fn events_path(space: &str) -> String {
    format!("/admin/spaces/{space}/events")
}

impl Console {
    /// Opens the console page at `path`.
    pub async fn open(&self, path: &str) {
        self.browser.goto(&self.url(path)).await;
    }

    /// Fills the sign-in form with `token` and submits it, wherever that leads.
    pub async fn submit_sign_in(&self, token: &str) {
        self.open(SIGN_IN).await;
        self.browser.fill("input#token[name=token]", token).await;
        self.browser.press_button("Sign in").await;
    }

    /// Signs in with `token` and waits for the signed-in page it lands on.
    ///
    /// # Panics
    /// If the console refuses it.
    pub async fn sign_in(&self, token: &str) {
        self.submit_sign_in(token).await;
        assert_ne!(
            self.browser.path().await,
            SIGN_IN,
            "the console refused to sign in"
        );
        self.browser.button("Sign out").await;
    }

    /// Presses "Sign out" and waits for the page it leads to.
    pub async fn sign_out(&self) {
        self.browser.press_button("Sign out").await;
    }

    /// Opens a space's API tokens page and waits for its table.
    pub async fn open_tokens(&self, space: &str) {
        self.open(&tokens_path(space)).await;
        self.browser.find("table#tokens").await;
    }

    /// Creates a space with the form on the spaces page.
    pub async fn create_space_in_form(&self, name: &str) {
        self.open("/admin/spaces").await;
        self.browser.fill("input#space-name[name=name]", name).await;
        self.browser.press_button("Create space").await;
    }

    /// Fills the new token form (name and level, the default expiry) and submits it; the
    /// browser is then on the answer to the POST.
    pub async fn submit_new_token(&self, space: &str, name: &str, level: &str) {
        self.open(&new_token_path(space)).await;
        self.browser.fill("input#token-name[name=name]", name).await;
        self.browser
            .find(&format!("input#level-{level}[name=level]"))
            .await
            .click()
            .await
            .expect("choose the level");
        self.browser.press_button("Create token").await;
    }

    /// Creates a token with the new token form and returns the secret its answer shows.
    pub async fn create_token_in_form(&self, space: &str, name: &str, level: &str) -> String {
        self.submit_new_token(space, name, level).await;
        self.shown_secret().await
    }

    /// The secret on a page that shows one (a created or rotated token).
    pub async fn shown_secret(&self) -> String {
        self.browser
            .find("input#secret")
            .await
            .value()
            .await
            .expect("the secret field's value")
            .unwrap_or_default()
    }

    /// Revokes a token through its confirmation page and waits for the tokens list.
    pub async fn revoke_in_form(&self, space: &str, token: &str) {
        self.open(&revoke_path(space, token)).await;
        self.browser.press_button("Revoke token").await;
        assert_eq!(self.browser.path().await, tokens_path(space));
    }

    /// The id of the token called `name` in `space`, in any status, as the REST API lists it
    /// to `as_token`.
    pub async fn token_id_named(&self, as_token: &str, space: &str, name: &str) -> Option<String> {
        let listed = self
            .app
            .get(
                &format!("/v1/spaces/{space}/tokens?status=all&limit=100"),
                as_token,
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
        listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|token| token["name"] == name)
            .map(|token| token["id"].as_str().expect("id").to_owned())
    }

    /// Creates a token with the REST API as the instance admin; returns its id and secret.
    pub async fn create_token_by_api(
        &self,
        space: &str,
        name: &str,
        level: &str,
    ) -> (String, String) {
        let reply = self
            .app
            .post(
                &format!("/v1/spaces/{space}/tokens"),
                &self.app.admin,
                json!({ "name": name, "level": level }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.status);
        (reply.str("id"), reply.str("token"))
    }

    /// Whether `token` works on the REST API (`GET /v1/whoami` answers 200; 401 is "no").
    pub async fn token_works(&self, token: &str) -> bool {
        let reply = self.app.get("/v1/whoami", token).await;
        match reply.status {
            StatusCode::OK => true,
            StatusCode::UNAUTHORIZED => false,
            other => panic!("GET /v1/whoami answered {other}"),
        }
    }
}

/// Every page of the console, as [`tour`] names them.
pub const PAGES: [&str; 10] = [
    "sign-in",
    "sign-in-error",
    "spaces",
    "tokens",
    "new-token",
    "token-created",
    "revoke",
    "rotate",
    "token-rotated",
    "events",
];

/// Walks through every console page with some data on it, and calls `visit` on each once it
/// has loaded, with its name from [`PAGES`]. Leaves the browser signed in as instance admin.
pub async fn tour(console: &Console, mut visit: impl AsyncFnMut(&Browser, &'static str)) {
    let browser = &console.browser;
    let acme = console.app.create_space("Acme").await;
    console.app.create_space("Globex").await;
    console.app.create_space("Initech").await;
    let (reader, client) = console
        .create_token_by_api(&acme, "billing reader", "client")
        .await;
    let (deploy, _) = console
        .create_token_by_api(&acme, "ci deploy", "client")
        .await;
    console.create_token_by_api(&acme, "ops", "admin").await;
    // Something in "Last used", once the server has written the use down.
    assert!(console.token_works(&client).await);
    eventually(
        "the reader's use to be written down",
        PATIENCE,
        async || {
            let token = console
                .app
                .get(
                    &format!("/v1/spaces/{acme}/tokens/{reader}"),
                    &console.app.admin,
                )
                .await;
            token.body["last_used_at"].is_string().then_some(())
        },
    )
    .await;

    console.open(SIGN_IN).await;
    browser.find("input#token").await;
    visit(browser, "sign-in").await;

    console.submit_sign_in(&client).await;
    browser.find("#token-error").await;
    visit(browser, "sign-in-error").await;

    console.sign_in(&console.app.admin).await;
    browser.find("table#spaces").await;
    visit(browser, "spaces").await;

    console.open_tokens(&acme).await;
    visit(browser, "tokens").await;

    console.open(&new_token_path(&acme)).await;
    browser.find("input#token-name").await;
    visit(browser, "new-token").await;

    console
        .create_token_in_form(&acme, "staging deploy", "client")
        .await;
    visit(browser, "token-created").await;

    console.open(&revoke_path(&acme, &deploy)).await;
    browser.button("Revoke token").await;
    visit(browser, "revoke").await;

    console.open(&rotate_path(&acme, &deploy)).await;
    browser.find("select#grace").await;
    visit(browser, "rotate").await;

    browser.press_button("Rotate token").await;
    browser.find("input#secret").await;
    visit(browser, "token-rotated").await;

    console.open(&events_path(&acme)).await;
    browser.find("table#events").await;
    visit(browser, "events").await;
}
