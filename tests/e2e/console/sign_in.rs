//! Who may sign in: the instance admin lands on the spaces; a client token is refused with a
//! message a person can read, next to the field and tied to it for a screen reader.

use super::pages::SIGN_IN;
use super::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_admin_signs_in_and_a_client_token_is_refused_next_to_the_field() {
    run(async |console| {
        let browser = &console.browser;
        let space = console.app.create_space("Acme").await;
        let (_, client) = console
            .create_token_by_api(&space, "reader", "client")
            .await;

        console.submit_sign_in(&client).await;
        assert_eq!(browser.path().await, SIGN_IN, "a client token signed in");
        let error = browser.find("#token-error").await;
        let message = error.text().await.expect("the message");
        assert!(
            message.to_lowercase().contains("client token"),
            "the refusal does not say why: {message:?}"
        );
        let field = browser.find("input#token").await;
        let described_by = field.attr("aria-describedby").await.expect("attribute");
        assert!(
            described_by
                .unwrap_or_default()
                .split_whitespace()
                .any(|id| id == "token-error"),
            "the token field is not described by its error message"
        );
        assert!(
            !browser
                .has("button[type=submit][form=sign-out], form[action='/admin/sign-out']")
                .await,
            "a refused sign-in shows the signed-in header"
        );

        console.sign_in(&console.app.admin).await;
        assert_eq!(browser.path().await, "/admin/spaces");
        browser.find("table#spaces").await;
        browser.link("Spaces").await;
        let text = browser.text().await;
        assert!(
            !text.contains(&console.app.admin)
                && !browser.source().await.contains(&console.app.admin),
            "the signed-in page shows the token it was signed in with"
        );
    })
    .await;
}
