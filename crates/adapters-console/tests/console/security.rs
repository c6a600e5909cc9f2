//! The web protections: the headers on every answer, the Origin and CSRF checks on every
//! state-changing form, and cookies that never hold a token.

use axum::http::StatusCode;
use tollgate_console::{ConsoleConfig, PublicUrl};
use tollgate_domain::{SessionTimeouts, TokenLevel};

use crate::pages::issue;
use crate::support::{TestConsole, ORIGIN};

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let console = TestConsole::new().await;
    let cookie = console.sign_in(&console.admin).await;
    for (path, cookie) in [
        ("/admin/sign-in", None),
        ("/admin/spaces", Some(cookie.as_str())),
        ("/admin/nowhere", None),
        ("/admin/spaces", None),
        ("/admin/assets/console.css", None),
    ] {
        let page = console.get(path, cookie).await;
        let csp = page.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
        assert!(!page.body.contains("<script>"), "{path}: no inline script");
    }
}

/// A create form a forger would send: everything right except what it cannot know or fake.
async fn forged_creates(
    console: &TestConsole,
    cookie: &str,
    space: &str,
) -> Vec<(&'static str, StatusCode)> {
    let form = console
        .get(&format!("/admin/spaces/{space}/tokens/new"), Some(cookie))
        .await;
    let (csrf, nonce) = (form.field("csrf"), form.field("nonce"));
    let path = format!("/admin/spaces/{space}/tokens");
    let fields = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("nonce".to_owned(), nonce.clone()),
            ("name".to_owned(), "forged".to_owned()),
            ("level".to_owned(), "client".to_owned()),
            ("expiry".to_owned(), "7".to_owned()),
        ]
    };
    let send = |origin: Option<&'static str>, csrf: String| {
        let path = path.clone();
        let fields = fields(&csrf);
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            console
                .post_from(origin, &path, Some(cookie), &fields)
                .await
                .status
        }
    };
    vec![
        (
            "another site's origin",
            send(Some("http://evil.test"), csrf.clone()).await,
        ),
        ("no Origin at all", send(None, csrf.clone()).await),
        ("a null Origin", send(Some("null"), csrf.clone()).await),
        ("no CSRF token", send(Some(ORIGIN), String::new()).await),
        (
            "another CSRF token",
            send(Some(ORIGIN), "0".repeat(64)).await,
        ),
    ]
}

#[tokio::test]
async fn a_forged_cross_site_post_is_refused_and_changes_nothing() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let cookie = console.sign_in(&console.admin).await;
    for (what, status) in forged_creates(&console, &cookie, &space).await {
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
    }
    let list = console
        .get(&format!("/admin/spaces/{space}/tokens"), Some(&cookie))
        .await;
    assert!(!list.body.contains("forged"));
}

#[tokio::test]
async fn a_forged_sign_in_is_refused_before_the_token_is_checked() {
    let console = TestConsole::new().await;
    let form = console.get("/admin/sign-in", None).await;
    let pre = form.cookie("tollgate_sign_in").unwrap();
    let csrf = form.field("csrf");
    let cross = console
        .post_from(
            Some("http://evil.test"),
            "/admin/sign-in",
            Some(&pre),
            &[("csrf", &csrf), ("token", &console.admin)],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(cross.cookie("tollgate_session").is_none());
    // Without the pre-session cookie (a form the attacker made), no session either.
    let no_cookie = console
        .post(
            "/admin/sign-in",
            None,
            &[("csrf", &csrf), ("token", &console.admin)],
        )
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert!(no_cookie.cookie("tollgate_session").is_none());
}

#[tokio::test]
async fn session_cookies_are_http_only_strict_and_hold_no_token() {
    let console = TestConsole::new().await;
    let (page, cookie) = console.try_sign_in(&console.admin).await;
    let line = page.set_cookie_line("tollgate_session").unwrap();
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    assert!(!line.contains("Secure"), "plain http: {line}");
    let value = cookie.unwrap();
    assert!(!value.contains(&console.admin));
    assert!(!value.contains("tg"), "{value}");
}

#[tokio::test]
async fn with_an_https_public_url_cookies_are_secure_and_host_prefixed() {
    let config = ConsoleConfig {
        public_url: Some(PublicUrl::parse("https://tokens.example.com").unwrap()),
        ..ConsoleConfig::default()
    };
    let console = TestConsole::with(config, None, SessionTimeouts::DEFAULT).await;
    let form = console.get("/admin/sign-in", None).await;
    let pre_line = form.set_cookie_line("__Host-tollgate_sign_in").unwrap();
    assert!(
        pre_line.contains("Secure") && pre_line.contains("Path=/"),
        "{pre_line}"
    );
    let pre = form.cookie("__Host-tollgate_sign_in").unwrap();
    // Sent from the public origin, not the Host the proxy forwards.
    let page = console
        .post_from(
            Some("https://tokens.example.com"),
            "/admin/sign-in",
            Some(&pre),
            &[("csrf", &form.field("csrf")), ("token", &console.admin)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let line = page.set_cookie_line("__Host-tollgate_session").unwrap();
    assert!(
        line.contains("Secure") && line.contains("HttpOnly") && line.contains("SameSite=Strict")
    );
    let plain = console
        .post_from(
            Some(ORIGIN),
            "/admin/sign-in",
            Some(&pre),
            &[("csrf", &form.field("csrf")), ("token", &console.admin)],
        )
        .await;
    assert_eq!(plain.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn failed_sign_ins_count_against_the_limits() {
    use tollgate_app::auth_limits::{AuthFailureLimit, AuthLimits};
    let mut console = TestConsole::new().await;
    let limits = AuthLimits::new(AuthFailureLimit::new(2, 2), None);
    let sessions = console.core.session_service().with_auth_limits(limits);
    console.router = tollgate_console::router(tollgate_console::ConsoleState::new(
        console.core.spaces.clone(),
        console.core.tokens.clone(),
        sessions,
        ConsoleConfig::default(),
    ));
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "c", TokenLevel::Client).await;
    let wrong = format!("{}x", &client[..client.len() - 1]);
    for _ in 0..2 {
        let (page, _) = console.try_sign_in("tga_not_a_token").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let (blocked, cookie) = console.try_sign_in(&console.admin).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!blocked.header("retry-after").is_empty());
    assert!(cookie.is_none());
    assert!(blocked.body.contains("Too many failed sign-ins"));
    drop(wrong);
}
