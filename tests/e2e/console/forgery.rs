//! A forged cross-site POST (CSRF): a page elsewhere submits the console's create and revoke
//! forms while the browser is signed in. The console must refuse both and change nothing.

use super::browser::Browser;
use super::other_site::{auto_submitting_form, OtherSite};
use super::pages::{revoke_path, tokens_path};
use super::run;

/// Loads the attacker's page and waits until its form has been submitted to the console and
/// the console's answer has loaded.
async fn be_attacked_from(browser: &Browser, page: &str, console_origin: &str) {
    browser.goto(page).await;
    browser
        .wait_for_script(
            "the forged form's answer from the console",
            &format!(
                "return location.origin === {console_origin:?} && document.readyState === 'complete'"
            ),
            |arrived: bool| arrived,
        )
        .await;
}

/// `html` as a `data:` address: a page with no origin at all (its requests say `Origin: null`).
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for byte in html.bytes() {
        if byte.is_ascii_alphanumeric() || b" =/:.\"'<>-_".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_cross_site_post_is_refused_and_changes_nothing() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        let (victim_id, victim) = console
            .create_token_by_api(&space, "victim", "client")
            .await;
        console.sign_in(&console.app.admin).await;

        let create = console.url(&tokens_path(&space));
        let revoke = console.url(&revoke_path(&space, &victim_id));
        let site = OtherSite::start().await;
        let forged_create = auto_submitting_form(
            &create,
            &[
                ("name", "forged"),
                ("level", "client"),
                ("expiry", "30"),
                ("csrf", "forged"),
                ("nonce", "forged"),
            ],
        );
        let forged_revoke = auto_submitting_form(&revoke, &[("csrf", "forged")]);
        for (attacker, page_for) in [
            // Another origin, the same site: the SameSite=Strict cookie goes along.
            ("127.0.0.1 on another port", Some("127.0.0.1")),
            // Another site: the cookie stays home, and the request says so.
            ("localhost", Some("localhost")),
            // No origin at all.
            ("a data: page", None),
        ] {
            for (what, form) in [("create", &forged_create), ("revoke", &forged_revoke)] {
                let page = match page_for {
                    Some(host) => {
                        site.serve(form.clone());
                        site.url(host)
                    }
                    None => data_url(form),
                };
                be_attacked_from(browser, &page, console.origin()).await;
                let target = if what == "create" { &create } else { &revoke };
                assert_eq!(
                    &browser.url().await,
                    target,
                    "the forged {what} from {attacker} did not reach its target"
                );
                assert!(
                    !browser.has("input#secret").await,
                    "a forged {what} from {attacker} was answered with a secret"
                );
                assert_eq!(
                    console
                        .token_id_named(&console.app.admin, &space, "forged")
                        .await,
                    None,
                    "a forged create from {attacker} created a token"
                );
                assert!(
                    console.token_works(&victim).await,
                    "a forged revoke from {attacker} revoked the token"
                );
            }
        }

        // The session was there all along: the same forms sent from the console itself work.
        let secret = console
            .create_token_in_form(&space, "genuine", "client")
            .await;
        assert!(console.token_works(&secret).await);
        console.revoke_in_form(&space, &victim_id).await;
        assert!(!console.token_works(&victim).await);
    })
    .await;
}
