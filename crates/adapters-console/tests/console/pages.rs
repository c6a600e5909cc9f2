//! What the pages show and do: the tokens table, creating a token and seeing it once, revoke,
//! rotate, suspend and resume, editing, events, and errors as readable pages.

use axum::http::StatusCode;
use time::Duration;
use tollgate_app::{ListTokens, NewToken};
use tollgate_console::ConsoleConfig;
use tollgate_domain::{
    Actor, LifetimePolicy, SessionTimeouts, SpaceId, TokenId, TokenLevel, TokenName,
};
use uuid::Uuid;

use crate::support::TestConsole;

fn instance() -> Actor {
    Actor::InstanceAdmin {
        token_id: TokenId::from_uuid(Uuid::nil()),
    }
}

/// Issues a token in `space` as an instance admin; its string.
pub async fn issue(console: &TestConsole, space: &str, name: &str, level: TokenLevel) -> String {
    let space = SpaceId::from_uuid(space.parse().unwrap());
    console
        .core
        .tokens
        .create(
            &instance(),
            space,
            NewToken {
                name: TokenName::parse(name).unwrap(),
                level,
                expires_at: None,
            },
        )
        .await
        .unwrap()
        .secret()
        .expose()
        .to_owned()
}

async fn token_count(console: &TestConsole, space: &str) -> usize {
    let space = SpaceId::from_uuid(space.parse().unwrap());
    console
        .core
        .tokens
        .list(
            &instance(),
            space,
            ListTokens {
                statuses: tollgate_app::ports::StatusFilter::ALL,
                ..ListTokens::default()
            },
        )
        .await
        .unwrap()
        .items
        .len()
}

async fn create_form(console: &TestConsole, cookie: &str, space: &str) -> (String, String) {
    let form = console
        .get(&format!("/admin/spaces/{space}/tokens/new"), Some(cookie))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    (form.field("csrf"), form.field("nonce"))
}

#[tokio::test]
async fn a_created_token_is_shown_once_and_a_resubmit_creates_nothing() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let cookie = console.sign_in(&console.admin).await;
    let (csrf, nonce) = create_form(&console, &cookie, &space).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("name", "billing sync"),
        ("level", "client"),
        ("expiry", "30"),
        ("expires_on", ""),
    ];
    let path = format!("/admin/spaces/{space}/tokens");
    let created = console.post(&path, Some(&cookie), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let secret = created
        .value_of("secret")
        .expect("the secret is on the page");
    assert!(secret.starts_with("tgc_"));
    assert!(created.body.contains("will not be shown again"));
    assert_eq!(created.header("cache-control"), "no-store");
    assert!(console.core.tokens.verify(&secret).await.is_ok());

    let again = console.post(&path, Some(&cookie), &form).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again
        .body
        .contains("already created; the token is not shown again"));
    assert!(!again.body.contains(&secret));
    assert_eq!(token_count(&console, &space).await, 1);

    let list = console.get(&path, Some(&cookie)).await;
    assert!(list.body.contains("billing sync"));
    assert!(!list.body.contains(&secret));
}

#[tokio::test]
async fn a_form_with_a_bad_field_says_so_next_to_it_and_creates_nothing() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let cookie = console.sign_in(&console.admin).await;
    let (csrf, nonce) = create_form(&console, &cookie, &space).await;
    let path = format!("/admin/spaces/{space}/tokens");
    let long = "x".repeat(101);
    let page = console
        .post(
            &path,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("name", &long),
                ("level", "client"),
                ("expiry", "date"),
                ("expires_on", "not a date"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"token-name-error\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("at most 100 characters"));
    assert!(page.body.contains("id=\"expires-on-error\""));
    assert_eq!(token_count(&console, &space).await, 0);
    // The nonce was not used up: the corrected form goes through.
    let fixed = console
        .post(
            &path,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("name", "ok"),
                ("level", "client"),
                ("expiry", "7"),
            ],
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
}

#[tokio::test]
async fn the_lifetime_policy_limits_the_choices_and_refuses_a_later_date_next_to_the_field() {
    let policy = LifetimePolicy::from_days(Some(30), None).unwrap();
    let console = TestConsole::with(
        ConsoleConfig::default(),
        Some(policy),
        SessionTimeouts::DEFAULT,
    )
    .await;
    let space = console.create_space("acme").await;
    let cookie = console.sign_in(&console.admin).await;
    let form = console
        .get(&format!("/admin/spaces/{space}/tokens/new"), Some(&cookie))
        .await;
    assert!(form.body.contains("at most 30 days"));
    assert!(form.body.contains("value=\"30\""));
    assert!(!form.body.contains("value=\"60\""));
    assert!(!form.body.contains("value=\"never\""));
    let late = (console.core.tokens.now() + Duration::days(45)).date();
    let late = format!(
        "{:04}-{:02}-{:02}",
        late.year(),
        u8::from(late.month()),
        late.day()
    );
    let page = console
        .post(
            &format!("/admin/spaces/{space}/tokens"),
            Some(&cookie),
            &[
                ("csrf", &form.field("csrf")),
                ("nonce", &form.field("nonce")),
                ("name", "late"),
                ("level", "client"),
                ("expiry", "date"),
                ("expires_on", &late),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("at most 30 days here"), "{}", page.body);
    assert_eq!(token_count(&console, &space).await, 0);
}

#[tokio::test]
async fn a_space_admin_is_offered_no_admin_level_and_cannot_post_one() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let space_admin = issue(&console, &space, "ops", TokenLevel::Admin).await;
    let cookie = console.sign_in(&space_admin).await;
    let form = console
        .get(&format!("/admin/spaces/{space}/tokens/new"), Some(&cookie))
        .await;
    assert!(form.body.contains("id=\"level-client\""));
    assert!(!form.body.contains("id=\"level-admin\""));
    let page = console
        .post(
            &format!("/admin/spaces/{space}/tokens"),
            Some(&cookie),
            &[
                ("csrf", &form.field("csrf")),
                ("nonce", &form.field("nonce")),
                ("name", "twin"),
                ("level", "admin"),
                ("expiry", "7"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("You may not create admin tokens"));
    assert_eq!(token_count(&console, &space).await, 1);
}

#[tokio::test]
async fn a_space_admin_never_reaches_another_space() {
    let console = TestConsole::new().await;
    let mine = console.create_space("mine").await;
    let theirs = console.create_space("theirs").await;
    let space_admin = issue(&console, &mine, "ops", TokenLevel::Admin).await;
    let cookie = console.sign_in(&space_admin).await;
    let home = console.get("/admin", Some(&cookie)).await;
    assert_eq!(home.location(), format!("/admin/spaces/{mine}/tokens"));
    for path in [
        format!("/admin/spaces/{theirs}/tokens"),
        format!("/admin/spaces/{theirs}/tokens/new"),
        format!("/admin/spaces/{theirs}/events"),
        format!("/admin/spaces/{}/tokens", Uuid::now_v7()),
    ] {
        let page = console.get(&path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    let spaces = console.get("/admin/spaces", Some(&cookie)).await;
    assert_eq!(spaces.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revoke_asks_first_then_the_token_fails() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "ci <b>bot</b>", TokenLevel::Client).await;
    let cookie = console.sign_in(&console.admin).await;
    let list = console
        .get(&format!("/admin/spaces/{space}/tokens"), Some(&cookie))
        .await;
    let start = list.body.find("data-token-id=\"").unwrap() + "data-token-id=\"".len();
    let token_id = &list.body[start..start + 36];
    let path = format!("/admin/spaces/{space}/tokens/{token_id}/revoke");
    let confirm = console.get(&path, Some(&cookie)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("ci &#60;b&#62;bot&#60;/b&#62;")
            || confirm.body.contains("ci &lt;b&gt;bot&lt;/b&gt;"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("client token"));
    assert!(console.core.tokens.verify(&client).await.is_ok());
    let done = console
        .post(&path, Some(&cookie), &[("csrf", &confirm.field("csrf"))])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(console.core.tokens.verify(&client).await.is_err());
}

#[tokio::test]
async fn suspend_and_resume_buttons_switch_a_token_off_and_on_again() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "deploy", TokenLevel::Client).await;
    let token_id = console
        .core
        .tokens
        .verify(&client)
        .await
        .unwrap()
        .token
        .id();
    let cookie = console.sign_in(&console.admin).await;
    let tokens = format!("/admin/spaces/{space}/tokens");
    let suspend = format!("{tokens}/{token_id}/suspend");
    let resume = format!("{tokens}/{token_id}/resume");

    let list = console.get(&tokens, Some(&cookie)).await;
    assert!(
        list.body.contains(&format!("action=\"{suspend}\"")),
        "{}",
        list.body
    );
    assert!(!list.body.contains(&format!("action=\"{resume}\"")));
    let csrf = list.field("csrf");
    let done = console
        .post(&suspend, Some(&cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), tokens);
    assert!(console.core.tokens.verify(&client).await.is_err());

    let suspended = console
        .get(&format!("{tokens}?status=suspended"), Some(&cookie))
        .await;
    assert!(
        suspended.body.contains("status-suspended"),
        "{}",
        suspended.body
    );
    assert!(suspended.body.contains(&format!("action=\"{resume}\"")));
    assert!(!suspended.body.contains(&format!("action=\"{suspend}\"")));
    let done = console
        .post(&resume, Some(&cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(console.core.tokens.verify(&client).await.is_ok());
}

#[tokio::test]
async fn a_forged_suspend_is_refused_and_an_ended_token_is_a_409_page() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "deploy", TokenLevel::Client).await;
    let token_id = console
        .core
        .tokens
        .verify(&client)
        .await
        .unwrap()
        .token
        .id();
    let cookie = console.sign_in(&console.admin).await;
    let tokens = format!("/admin/spaces/{space}/tokens");
    let suspend = format!("{tokens}/{token_id}/suspend");
    let csrf = console.csrf(&cookie, &tokens).await;
    let forged = [
        console
            .post_from(
                Some("http://evil.test"),
                &suspend,
                Some(&cookie),
                &[("csrf", &csrf)],
            )
            .await,
        console
            .post_from(None, &suspend, Some(&cookie), &[("csrf", &csrf)])
            .await,
        console.post(&suspend, Some(&cookie), &[("csrf", "")]).await,
        console
            .post(&suspend, Some(&cookie), &[("csrf", &"0".repeat(64))])
            .await,
    ];
    for page in forged {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    }
    assert!(
        console.core.tokens.verify(&client).await.is_ok(),
        "nothing changed"
    );

    let instance = instance();
    console
        .core
        .tokens
        .revoke(
            &instance,
            SpaceId::from_uuid(space.parse().unwrap()),
            token_id,
        )
        .await
        .unwrap();
    let ended = console
        .post(&suspend, Some(&cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(ended.status, StatusCode::CONFLICT, "{}", ended.body);
    assert!(ended.body.contains("has ended"), "{}", ended.body);
}

#[tokio::test]
async fn a_token_is_renamed_and_described_from_its_edit_page() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "deploy", TokenLevel::Client).await;
    let token_id = console
        .core
        .tokens
        .verify(&client)
        .await
        .unwrap()
        .token
        .id();
    let cookie = console.sign_in(&console.admin).await;
    let tokens = format!("/admin/spaces/{space}/tokens");
    let edit = format!("{tokens}/{token_id}/edit");
    let list = console.get(&tokens, Some(&cookie)).await;
    assert!(
        list.body.contains(&format!("href=\"{edit}\"")),
        "{}",
        list.body
    );

    let form = console.get(&edit, Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_eq!(form.field("name"), "deploy");
    let csrf = form.field("csrf");
    let bad = console
        .post(
            &edit,
            Some(&cookie),
            &[("csrf", &csrf), ("name", ""), ("description", "ok")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"token-name-error\""), "{}", bad.body);
    let saved = console
        .post(
            &edit,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "deploy (eu)"),
                ("description", "Deploys the EU cluster."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let list = console.get(&tokens, Some(&cookie)).await;
    assert!(list.body.contains("deploy (eu)"), "{}", list.body);
    assert!(
        list.body.contains("Deploys the EU cluster."),
        "{}",
        list.body
    );
    // An empty description removes it; a forged post changes nothing.
    let forged = console
        .post_from(
            Some("http://evil.test"),
            &edit,
            Some(&cookie),
            &[("csrf", &csrf), ("name", "forged"), ("description", "")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cleared = console
        .post(
            &edit,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "deploy (eu)"),
                ("description", " "),
            ],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    let view = console
        .core
        .tokens
        .get(
            &instance(),
            SpaceId::from_uuid(space.parse().unwrap()),
            token_id,
        )
        .await
        .unwrap();
    assert_eq!(view.token.name().as_str(), "deploy (eu)");
    assert_eq!(view.token.description(), None);
    assert!(console.core.tokens.verify(&client).await.is_ok());
}

#[tokio::test]
async fn rotate_shows_the_replacement_once() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let old = issue(&console, &space, "deploy", TokenLevel::Client).await;
    let cookie = console.sign_in(&console.admin).await;
    let list = console
        .get(&format!("/admin/spaces/{space}/tokens"), Some(&cookie))
        .await;
    let start = list.body.find("data-token-id=\"").unwrap() + "data-token-id=\"".len();
    let token_id = &list.body[start..start + 36];
    let path = format!("/admin/spaces/{space}/tokens/{token_id}/rotate");
    let form = console.get(&path, Some(&cookie)).await;
    let fields = [
        ("csrf", form.field("csrf")),
        ("nonce", form.field("nonce")),
        ("grace_period_seconds", "0".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rotated = console.post(&path, Some(&cookie), &fields).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new = rotated.value_of("secret").unwrap();
    assert!(console.core.tokens.verify(&new).await.is_ok());
    assert!(console.core.tokens.verify(&old).await.is_err());
    let again = console.post(&path, Some(&cookie), &fields).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(!again.body.contains(&new));
}

#[tokio::test]
async fn events_list_what_happened() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    issue(&console, &space, "one", TokenLevel::Client).await;
    let cookie = console.sign_in(&console.admin).await;
    let page = console
        .get(&format!("/admin/spaces/{space}/events"), Some(&cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("token.created"));
}

#[tokio::test]
async fn names_are_shown_as_text_never_as_markup() {
    let console = TestConsole::new().await;
    let xss = "<script>alert(1)</script>";
    let space = console.create_space(xss).await;
    issue(&console, &space, xss, TokenLevel::Client).await;
    let cookie = console.sign_in(&console.admin).await;
    for path in [
        "/admin/spaces".to_owned(),
        format!("/admin/spaces/{space}/tokens"),
    ] {
        let page = console.get(&path, Some(&cookie)).await;
        assert!(!page.body.contains(xss), "{path}");
        assert!(
            page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn bad_ids_filters_and_unknown_pages_are_readable_pages() {
    let console = TestConsole::new().await;
    let cookie = console.sign_in(&console.admin).await;
    let space = console.create_space("acme").await;
    for (path, status) in [
        (
            "/admin/spaces/not-a-uuid/tokens".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        ("/admin/nothing/here".to_owned(), StatusCode::NOT_FOUND),
        (
            format!("/admin/spaces/{space}/tokens?level=root"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/admin/spaces/{space}/tokens?cursor=zzz"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let page = console.get(&path, Some(&cookie)).await;
        assert_eq!(page.status, status, "{path}");
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(page.body.contains("<h1>"), "{path}");
    }
}

#[tokio::test]
async fn spaces_are_listed_and_created_with_errors_next_to_the_field() {
    let console = TestConsole::new().await;
    let cookie = console.sign_in(&console.admin).await;
    let csrf = console.csrf(&cookie, "/admin/spaces").await;
    let bad = console
        .post(
            "/admin/spaces",
            Some(&cookie),
            &[("csrf", &csrf), ("name", "   ")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"space-name-error\""));
    let made = console
        .post(
            "/admin/spaces",
            Some(&cookie),
            &[("csrf", &csrf), ("name", "acme")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let list = console.get("/admin/spaces", Some(&cookie)).await;
    assert!(list.body.contains("acme"));
}

#[tokio::test]
async fn the_last_day_the_date_picker_offers_is_accepted() {
    let policy = LifetimePolicy::from_days(Some(30), None).unwrap();
    let console = TestConsole::with(
        ConsoleConfig::default(),
        Some(policy),
        SessionTimeouts::DEFAULT,
    )
    .await;
    let space = console.create_space("acme").await;
    let cookie = console.sign_in(&console.admin).await;
    let form = console
        .get(&format!("/admin/spaces/{space}/tokens/new"), Some(&cookie))
        .await;
    let marker = " max=\"";
    let start = form.body.find(marker).unwrap() + marker.len();
    let last = &form.body[start..start + 10];
    let page = console
        .post(
            &format!("/admin/spaces/{space}/tokens"),
            Some(&cookie),
            &[
                ("csrf", &form.field("csrf")),
                ("nonce", &form.field("nonce")),
                ("name", "last day"),
                ("level", "client"),
                ("expiry", "date"),
                ("expires_on", last),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{last}: {}", page.body);
}

#[tokio::test]
async fn the_tokens_table_says_where_a_token_was_last_used_from() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "ci", TokenLevel::Client).await;
    let from = "203.0.113.7".parse().ok();
    console
        .core
        .tokens
        .verify_from(&client, from)
        .await
        .unwrap();
    console
        .core
        .tokens
        .verifier()
        .flush_last_used()
        .await
        .unwrap();
    let cookie = console.sign_in(&console.admin).await;
    let list = console
        .get(&format!("/admin/spaces/{space}/tokens"), Some(&cookie))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(" from <code>203.0.113.7</code>"),
        "{}",
        list.body
    );
}
