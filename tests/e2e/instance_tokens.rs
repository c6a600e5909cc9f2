//! Instance admin tokens over real HTTP: the recovery from a leaked bootstrap token exactly as
//! docs/operations.md ("A leaked instance admin token") walks through it, the rule for a new
//! bootstrap token, and instance tokens revoked on one node refused by another.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    eventually, on_lasting_stores, serve_refused, spawn_app, spawn_app_with, App, Store, PATIENCE,
};

on_lasting_stores!(
    recovery_from_a_leaked_bootstrap_token_follows_operations_md,
    a_new_bootstrap_token_is_registered_beside_the_old_ones_and_the_log_names_them,
);

async fn own_id(app: &App, token: &str) -> String {
    let whoami = app.get("/v1/whoami", token).await;
    assert_eq!(whoami.status, StatusCode::OK, "{whoami:?}");
    whoami.str("token_id")
}

/// `POST /v1/instance/tokens` as `by`: the new token's id and string.
async fn create_instance_token(app: &App, by: &str, name: &str) -> (String, String) {
    let created = app
        .post("/v1/instance/tokens", by, json!({ "name": name }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    (created.str("id"), created.str("token"))
}

/// `tollgate token mint --instance-admin`, as step 1 runs it.
fn mint(app: &App) -> String {
    let out = app
        .command(&["token", "mint", "--instance-admin"])
        .output()
        .expect("tollgate runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn recovery_from_a_leaked_bootstrap_token_follows_operations_md(store: Store) {
    let mut app = spawn_app(store).await;
    let leaked = app.admin.clone();
    let leaked_id = own_id(&app, &leaked).await;
    // Whoever holds the leaked token has minted a twin, and with it a space admin token.
    let (twin_id, twin) = create_instance_token(&app, &leaked, "totally legit").await;
    let space = app.create_space("acme").await;
    let (planted_id, planted) = app.create_token(&twin, &space, "admin").await;
    // The operator's own space token, made with the bootstrap token before the leak.
    let (_, ours) = app.create_token(&leaked, &space, "client").await;

    // 1. Mint a new instance admin token.
    let new = mint(&app);
    assert!(new.starts_with("tgi_"), "{new}");

    // 2. Restart with it, revoking every other instance admin token.
    app.set_env("TOLLGATE_BOOTSTRAP_TOKEN", &new);
    app.set_env("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS", "true");
    app.restart().await;
    let logs = app.logs();
    assert!(
        logs.contains("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS: revoked every other instance admin token"),
        "{logs}"
    );
    for id in [&leaked_id, &twin_id] {
        assert!(logs.contains(id.as_str()), "the log names {id}: {logs}");
    }
    for secret in [&leaked, &twin, &new] {
        assert!(
            !logs.contains(secret.as_str()),
            "a token in the log: {logs}"
        );
    }
    for old in [&leaked, &twin] {
        app.get("/v1/whoami", old)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let new_id = own_id(&app, &new).await;

    // 3. Yours is the only active instance admin token; the others are revoked.
    let active = app.get("/v1/instance/tokens", &new).await;
    assert_eq!(active.status, StatusCode::OK, "{active:?}");
    assert_eq!(active.ids(), std::slice::from_ref(&new_id));
    let revoked: BTreeSet<String> = app
        .get("/v1/instance/tokens?status=revoked", &new)
        .await
        .ids()
        .into_iter()
        .collect();
    assert_eq!(
        revoked,
        [leaked_id.clone(), twin_id.clone()].into_iter().collect()
    );

    // 4. In every space, revoke what the revoked instance tokens created and you do not know.
    let spaces = app.get("/v1/spaces", &new).await.ids();
    assert_eq!(spaces, std::slice::from_ref(&space));
    let mut revoked_in_spaces = Vec::new();
    for space in &spaces {
        let listed = app
            .get(
                &format!("/v1/spaces/{space}/tokens?status=active,suspended"),
                &new,
            )
            .await;
        for token in listed.body["items"].as_array().unwrap() {
            let by = token["created_by"].as_str().unwrap();
            if by == format!("token:{twin_id}") {
                let id = token["id"].as_str().unwrap();
                let done = app
                    .delete(&format!("/v1/spaces/{space}/tokens/{id}"), &new)
                    .await;
                assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
                revoked_in_spaces.push(id.to_owned());
            }
        }
    }
    assert_eq!(revoked_in_spaces, [planted_id]);
    app.get("/v1/whoami", &planted)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        app.get("/v1/whoami", &ours).await.status,
        StatusCode::OK,
        "the operator's own token was left alone"
    );

    // 5. Unset TOLLGATE_BOOTSTRAP_REVOKE_OTHERS and restart: what you make now stays.
    app.set_env("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS", "");
    app.restart().await;
    let (_, colleague) = create_instance_token(&app, &new, "on-call").await;
    app.restart().await;
    for token in [&new, &colleague] {
        assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
}

async fn a_new_bootstrap_token_is_registered_beside_the_old_ones_and_the_log_names_them(
    store: Store,
) {
    let mut app = spawn_app(store).await;
    let old = app.admin.clone();
    let old_id = own_id(&app, &old).await;
    let new = mint(&app);
    app.set_env("TOLLGATE_BOOTSTRAP_TOKEN", &new);
    app.restart().await;
    let logs = app.logs();
    let warning = logs
        .lines()
        .find(|line| line.contains("TOLLGATE_BOOTSTRAP_TOKEN is a new instance admin token"))
        .unwrap_or_else(|| panic!("no warning: {logs}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains(&old_id), "it names the old one: {warning}");
    assert!(!logs.contains(&old) && !logs.contains(&new), "{logs}");
    // The rule: both stay active until revoked.
    for token in [&old, &new] {
        assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
    // The same token again registers nothing new: no warning.
    app.restart().await;
    assert!(
        !app.logs()
            .contains("TOLLGATE_BOOTSTRAP_TOKEN is a new instance admin token"),
        "{}",
        app.logs()
    );
    // And the old one goes the ordinary way.
    let gone = app
        .delete(&format!("/v1/instance/tokens/{old_id}"), &new)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    app.get("/v1/whoami", &old)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[test]
fn revoking_the_others_needs_a_bootstrap_token() {
    let stderr = serve_refused(&[("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS", "true")]);
    assert!(
        stderr.contains("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS=true needs TOLLGATE_BOOTSTRAP_TOKEN"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_tokens_revoked_on_node_a_are_rejected_by_node_b() {
    let mut a = spawn_app(Store::Postgres).await;
    let url = a.database_url().unwrap().to_owned();
    let b = spawn_app_with(Store::Memory, &[("DATABASE_URL", url.as_str())]).await;
    let (second_id, second) = create_instance_token(&a, &a.admin, "second").await;
    let (_, third) = create_instance_token(&a, &a.admin, "third").await;
    for token in [&a.admin, &second, &third] {
        // Node B verifies them, so they are in B's cache.
        assert_eq!(b.get("/v1/whoami", token).await.status, StatusCode::OK);
    }

    let revoked = a
        .delete(&format!("/v1/instance/tokens/{second_id}"), &a.admin)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");
    a.get("/v1/whoami", &second)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    // Through the store's revocation feed, as any revocation; the deadline only bounds a hang.
    eventually(
        "node B to reject the instance token revoked on node A",
        PATIENCE,
        async || {
            (b.get("/v1/whoami", &second).await.status == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;

    // The break-glass restart of node A alone ends the others on node B too.
    let new = mint(&a);
    let old = a.admin.clone();
    a.set_env("TOLLGATE_BOOTSTRAP_TOKEN", &new);
    a.set_env("TOLLGATE_BOOTSTRAP_REVOKE_OTHERS", "true");
    a.restart().await;
    for token in [&old, &third] {
        eventually(
            "node B to reject the instance tokens revoked at node A's start",
            PATIENCE,
            async || {
                (b.get("/v1/whoami", token).await.status == StatusCode::UNAUTHORIZED).then_some(())
            },
        )
        .await;
    }
    assert_eq!(b.get("/v1/whoami", &new).await.status, StatusCode::OK);
}
