//! Sessions: sign-in with the right tokens only, timeouts, sign-out, and a session that ends
//! the moment its token stops working.

use axum::http::StatusCode;
use time::Duration;
use tollgate_console::ConsoleConfig;
use tollgate_domain::{Actor, SessionTimeouts, SpaceId, TokenId, TokenLevel};

use crate::pages::issue;
use crate::support::TestConsole;

#[tokio::test]
async fn a_client_token_cannot_sign_in_and_is_told_why_next_to_the_field() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let client = issue(&console, &space, "c", TokenLevel::Client).await;
    let (page, cookie) = console.try_sign_in(&client).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(cookie.is_none());
    assert!(page.body.contains("id=\"token-error\""));
    assert!(page.body.contains("A client token cannot sign in"));
    assert!(!page.body.contains(&client));
}

#[tokio::test]
async fn a_wrong_token_gets_one_message_whatever_is_wrong() {
    let console = TestConsole::new().await;
    for token in [
        "",
        "hello",
        "tgi_0000",
        &format!("{}0", &console.admin[..console.admin.len() - 1]),
    ] {
        let (page, cookie) = console.try_sign_in(token).await;
        assert!(cookie.is_none(), "{token}");
        assert!(page.status.is_client_error(), "{token}");
        assert!(page.body.contains("id=\"token-error\""), "{token}");
    }
}

#[tokio::test]
async fn signed_in_pages_need_a_session_and_sign_out_ends_it() {
    let console = TestConsole::new().await;
    let none = console.get("/admin/spaces", None).await;
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    assert_eq!(none.location(), "/admin/sign-in");
    let cookie = console.sign_in(&console.admin).await;
    assert_eq!(
        console.get("/admin/spaces", Some(&cookie)).await.status,
        StatusCode::OK
    );
    let csrf = console.csrf(&cookie, "/admin/spaces").await;
    let out = console
        .post("/admin/sign-out", Some(&cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = console.get("/admin/spaces", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn each_sign_in_gets_a_new_session_id() {
    let console = TestConsole::new().await;
    let first = console.sign_in(&console.admin).await;
    let second = console.sign_in(&console.admin).await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_session_ends_when_its_token_is_revoked_suspended_expires_or_rotated_past_grace() {
    let console = TestConsole::new().await;
    let space = console.create_space("acme").await;
    let space_id = SpaceId::from_uuid(space.parse().unwrap());
    let instance = Actor::InstanceAdmin {
        token_id: TokenId::from_uuid(uuid::Uuid::nil()),
    };
    let tokens_page = format!("/admin/spaces/{space}/tokens");

    // Revoked.
    let admin = issue(&console, &space, "revoked", TokenLevel::Admin).await;
    let cookie = console.sign_in(&admin).await;
    assert_eq!(
        console.get(&tokens_page, Some(&cookie)).await.status,
        StatusCode::OK
    );
    let id = console.core.tokens.verify(&admin).await.unwrap().token.id();
    console
        .core
        .tokens
        .revoke(&instance, space_id, id)
        .await
        .unwrap();
    let ended = console.get(&tokens_page, Some(&cookie)).await;
    assert_eq!(ended.location(), "/admin/sign-in?ended=1");
    let notice = console.get(ended.location(), None).await;
    assert!(notice.body.contains("id=\"notice\""));

    // Suspended: the session ends, and resuming the token does not bring it back.
    let admin = issue(&console, &space, "suspended", TokenLevel::Admin).await;
    let cookie = console.sign_in(&admin).await;
    let id = console.core.tokens.verify(&admin).await.unwrap().token.id();
    console
        .core
        .tokens
        .suspend(&instance, space_id, id)
        .await
        .unwrap();
    let ended = console.get(&tokens_page, Some(&cookie)).await;
    assert_eq!(ended.location(), "/admin/sign-in?ended=1");
    console
        .core
        .tokens
        .resume(&instance, space_id, id)
        .await
        .unwrap();
    assert_eq!(
        console.get(&tokens_page, Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );

    // Rotated, past its grace period.
    let admin = issue(&console, &space, "rotated", TokenLevel::Admin).await;
    let cookie = console.sign_in(&admin).await;
    let id = console.core.tokens.verify(&admin).await.unwrap().token.id();
    let grace = tollgate_domain::GracePeriod::from_seconds(60).unwrap();
    console
        .core
        .tokens
        .rotate(
            &instance,
            space_id,
            id,
            tollgate_app::RotateToken {
                grace_period: grace,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        console.get(&tokens_page, Some(&cookie)).await.status,
        StatusCode::OK,
        "in grace"
    );
    console.core.clock.advance(Duration::seconds(61));
    assert_eq!(
        console.get(&tokens_page, Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_ends_after_its_idle_and_absolute_timeouts() {
    let timeouts = SessionTimeouts::new(Duration::minutes(10), Duration::minutes(25)).unwrap();
    let console = TestConsole::with(ConsoleConfig::default(), None, timeouts).await;
    let cookie = console.sign_in(&console.admin).await;
    console.core.clock.advance(Duration::minutes(9));
    assert_eq!(
        console.get("/admin/spaces", Some(&cookie)).await.status,
        StatusCode::OK
    );
    console.core.clock.advance(Duration::minutes(9));
    assert_eq!(
        console.get("/admin/spaces", Some(&cookie)).await.status,
        StatusCode::OK,
        "used 9 minutes ago"
    );
    console.core.clock.advance(Duration::minutes(10));
    assert_eq!(
        console.get("/admin/spaces", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER,
        "idle for 10 minutes"
    );

    let busy = console.sign_in(&console.admin).await;
    for _ in 0..4 {
        console.core.clock.advance(Duration::minutes(6));
        assert_eq!(
            console.get("/admin/spaces", Some(&busy)).await.status,
            StatusCode::OK
        );
    }
    console.core.clock.advance(Duration::minutes(1));
    assert_eq!(
        console.get("/admin/spaces", Some(&busy)).await.status,
        StatusCode::SEE_OTHER,
        "25 minutes after sign-in"
    );
}

#[tokio::test]
async fn signing_in_again_ends_the_session_the_browser_had() {
    let console = TestConsole::new().await;
    let first = console.sign_in(&console.admin).await;
    let form = console.get("/admin/sign-in", None).await;
    let pre = form.cookie("tollgate_sign_in").unwrap();
    let both = format!("{pre}; {first}");
    let page = console
        .post(
            "/admin/sign-in",
            Some(&both),
            &[("csrf", &form.field("csrf")), ("token", &console.admin)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        console.get("/admin/spaces", Some(&first)).await.status,
        StatusCode::SEE_OTHER,
        "the first session ended"
    );
}
