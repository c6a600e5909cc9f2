//! The command line: minting offline, and the first start without a bootstrap token.

use std::process::Command;

use reqwest::StatusCode;
use tollgate_domain::{ParsedToken, TokenKind};

use crate::support::{on_lasting_stores, spawn_app_with, Store};

#[test]
fn token_mint_prints_a_fresh_well_formed_instance_admin_token() {
    let mint = || {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["token", "mint", "--instance-admin"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let (one, two) = (mint(), mint());
    let parsed = ParsedToken::parse(&one).expect("a well-formed token");
    assert_eq!(parsed.kind(), TokenKind::InstanceAdmin);
    assert_ne!(one, two);
}

#[test]
fn token_mint_without_a_kind_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["token", "mint"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

fn printed_token(logs: &str) -> Option<String> {
    logs.split_whitespace()
        .find(|word| word.starts_with("tgi_"))
        .map(str::to_owned)
}

// Every start of the in-memory store is a first start.
on_lasting_stores!(a_first_start_without_bootstrap_token_prints_one_instance_admin_token_once);

async fn a_first_start_without_bootstrap_token_prints_one_instance_admin_token_once(store: Store) {
    let mut app = spawn_app_with(store, &[("TOLLGATE_BOOTSTRAP_TOKEN", "")]).await;
    let token = printed_token(&app.logs()).expect("the first start prints an instance admin token");
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    // The bootstrap token of the harness was not registered.
    assert_eq!(
        app.get("/v1/whoami", &app.admin.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.logs().matches(&token).count(),
        1,
        "printed once, and only in the banner"
    );

    app.restart().await;
    assert_eq!(
        printed_token(&app.logs()),
        None,
        "a store with an instance admin gets no new one"
    );
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);

    // Not even after a crash: the token was stored before it was printed.
    app.kill().await;
    app.start_again().await;
    assert_eq!(printed_token(&app.logs()), None);
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
}
