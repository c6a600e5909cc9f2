//! Token lifecycle over HTTP: rotation with a grace period, statuses and filters, lifetime
//! limits, last used, and the audit log.

use reqwest::StatusCode;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::{eventually, on_every_store, spawn_app, spawn_app_with, App, Store, PATIENCE};

on_every_store!(
    a_rotated_token_works_through_its_grace_period_then_fails_like_a_revoked_one,
    lists_filter_by_status_and_level_and_show_status,
    the_audit_log_records_what_happened_newest_first,
    last_used_at_is_written_in_batches_and_at_shutdown,
    an_owasp_hash_is_rehashed_by_its_first_use_after_an_upgrade,
    the_maximum_lifetime_bounds_and_defaults_expiry,
);

async fn rotate(app: &App, space: &str, token_id: &str, grace: u64) -> crate::support::Reply {
    let path = format!("/v1/spaces/{space}/tokens/{token_id}/rotate");
    app.post(&path, &app.admin, json!({ "grace_period_seconds": grace }))
        .await
}

async fn a_rotated_token_works_through_its_grace_period_then_fails_like_a_revoked_one(
    store: Store,
) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (old_id, old) = app.create_token(&app.admin, &space, "client").await;
    assert_eq!(app.get("/v1/whoami", &old).await.status, StatusCode::OK);

    // Long enough that the uses below are answered inside it even on a slow machine; the
    // test waits for the end by asking, so a longer grace costs only that much time.
    let reply = rotate(&app, &space, &old_id, 5).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let (new_id, new) = (reply.str("id"), reply.str("token"));
    assert_ne!(new_id, old_id);
    assert_eq!(reply.body["replaces"], old_id.as_str());
    assert_eq!(
        (reply.body["name"].clone(), reply.body["level"].clone()),
        (json!("client token"), json!("client"))
    );
    assert!(new.starts_with("tgc_"));

    assert_eq!(app.get("/v1/whoami", &new).await.status, StatusCode::OK);
    let metadata = app
        .get(&format!("/v1/spaces/{space}/tokens/{old_id}"), &app.admin)
        .await;
    assert_eq!(metadata.body["status"], "rotated");
    assert_eq!(metadata.body["replaced_by"], new_id.as_str());
    // The old token's expires_at became the end of its grace period, by the server's clock.
    let grace_ends = metadata.time("expires_at");
    // Rotating it again, or rotating a revoked token: 409.
    rotate(&app, &space, &old_id, 0)
        .await
        .assert_problem(StatusCode::CONFLICT, "token_not_active");

    // Inside the grace period every use works; the first refusal comes after it.
    let after = app.use_until_refused(&old, grace_ends).await;
    after.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let junk = app.get("/v1/whoami", "junk").await;
    assert_eq!(
        (&after.body, after.header("www-authenticate")),
        (&junk.body, junk.header("www-authenticate"))
    );
    assert_eq!(app.get("/v1/whoami", &new).await.status, StatusCode::OK);

    let reply = app
        .delete(&format!("/v1/spaces/{space}/tokens/{new_id}"), &app.admin)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    rotate(&app, &space, &new_id, 0)
        .await
        .assert_problem(StatusCode::CONFLICT, "token_not_active");
    rotate(&app, &space, &new_id, 604_801)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_grace_period");
}

async fn lists_filter_by_status_and_level_and_show_status(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (active, _) = app.create_token(&app.admin, &space, "client").await;
    let (admin, _) = app.create_token(&app.admin, &space, "admin").await;
    let (revoked, _) = app.create_token(&app.admin, &space, "client").await;
    app.delete(&format!("/v1/spaces/{space}/tokens/{revoked}"), &app.admin)
        .await;
    let (rotated, _) = app.create_token(&app.admin, &space, "client").await;
    let replacement = rotate(&app, &space, &rotated, 60).await.str("id");

    let list = |query: &'static str| {
        let path = format!("/v1/spaces/{space}/tokens{query}");
        let app = &app;
        async move { app.get(&path, &app.admin).await }
    };
    assert_eq!(
        list("").await.ids(),
        vec![active.clone(), admin.clone(), replacement.clone()]
    );
    assert_eq!(list("?level=admin").await.ids(), vec![admin.clone()]);
    let revoked_list = list("?status=revoked").await;
    assert_eq!(revoked_list.ids(), vec![revoked.clone()]);
    assert_eq!(revoked_list.body["items"][0]["status"], "revoked");
    assert!(revoked_list.body["items"][0]["revoked_at"].is_string());
    assert_eq!(list("?status=rotated").await.ids(), vec![rotated.clone()]);
    assert_eq!(
        list("?status=revoked,rotated").await.ids(),
        vec![revoked.clone(), rotated.clone()]
    );
    assert_eq!(list("?status=all").await.ids().len(), 5);
    assert_eq!(list("").await.body["items"][0]["status"], "active");
    list("?status=sleeping")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
}

async fn the_audit_log_records_what_happened_newest_first(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (admin_id, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&admin, &space, "client").await;
    let replacement = rotate(&app, &space, &client_id, 0).await;
    let (new_id, new) = (replacement.str("id"), replacement.str("token"));
    app.delete(&format!("/v1/spaces/{space}/tokens/{new_id}"), &admin)
        .await;
    for _ in 0..3 {
        app.get("/v1/whoami", &new)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let events = app.get(&format!("/v1/spaces/{space}/events"), &admin).await;
    assert_eq!(events.status, StatusCode::OK, "{events:?}");
    let seen: Vec<(String, String)> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["token_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("token.rejected", &new_id),
        ("token.revoked", &new_id),
        ("token.rotated", &client_id),
        ("token.created", &client_id),
        ("token.created", &admin_id),
    ]
    .map(|(a, t)| (a.to_owned(), t.clone()));
    assert_eq!(seen, expected);
    assert_eq!(
        events.body["items"][1]["actor"],
        format!("token:{admin_id}")
    );
    let text = events.body.to_string();
    for secret in [&admin, &client, &new] {
        assert!(!text.contains(secret.as_str()));
    }
    let paged = app
        .get(&format!("/v1/spaces/{space}/events?limit=2"), &admin)
        .await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 2);
    let cursor = paged.str("next_cursor");
    let rest = app
        .get(
            &format!("/v1/spaces/{space}/events?limit=10&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 3);
    // A client token may not read the audit log.
    let (_, reader) = app.create_token(&admin, &space, "client").await;
    app.get(&format!("/v1/spaces/{space}/events"), &reader)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

async fn last_used_at_is_written_in_batches_and_at_shutdown(store: Store) {
    let app = spawn_app_with(store, &[("TOLLGATE_LAST_USED_FLUSH_SECONDS", "1")]).await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    let path = format!("/v1/spaces/{space}/tokens/{id}");
    assert!(app.get(&path, &app.admin).await.body["last_used_at"].is_null());
    for _ in 0..20 {
        assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    }
    let read = eventually(
        "last_used_at to be written by a flush",
        PATIENCE,
        async || {
            let read = app.get(&path, &app.admin).await;
            read.body["last_used_at"].is_string().then_some(read)
        },
    )
    .await;
    // Over a real socket from this machine, in the same batch as the time.
    assert_eq!(read.body["last_used_ip"], "127.0.0.1", "{read:?}");
    if store.keeps_data() {
        // A long interval: only the flush at graceful shutdown can write this use.
        let mut app = spawn_app_with(store, &[("TOLLGATE_LAST_USED_FLUSH_SECONDS", "3600")]).await;
        let space = app.create_space("acme").await;
        let (id, token) = app.create_token(&app.admin, &space, "client").await;
        assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
        app.restart().await;
        let read = app
            .get(&format!("/v1/spaces/{space}/tokens/{id}"), &app.admin)
            .await;
        assert!(read.body["last_used_at"].is_string(), "{read:?}");
        assert_eq!(read.body["last_used_ip"], "127.0.0.1", "{read:?}");
    }
}

/// An upgrade from OWASP's parameters (the earlier default) to the token parameters: a token
/// hashed before verifies after, is re-hashed by that verification and written with its use,
/// and verifies again after the next restart, now from its new hash.
async fn an_owasp_hash_is_rehashed_by_its_first_use_after_an_upgrade(store: Store) {
    if !store.keeps_data() {
        return;
    }
    let mut app = spawn_app_with(
        store,
        &[
            ("TOLLGATE_ARGON2_PRESET", "owasp"),
            ("TOLLGATE_LAST_USED_FLUSH_SECONDS", "3600"),
        ],
    )
    .await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    app.restart_with(&[("TOLLGATE_ARGON2_PRESET", "tokens")])
        .await;
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    // The re-hash is written with the use, by the flush at graceful shutdown.
    app.restart().await;
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    let read = app
        .get(&format!("/v1/spaces/{space}/tokens/{id}"), &app.admin)
        .await;
    assert!(read.body["last_used_at"].is_string(), "{read:?}");
    assert!(!app.logs().contains("$argon2id$"), "no hash in the logs");
}

async fn the_maximum_lifetime_bounds_and_defaults_expiry(store: Store) {
    let app = spawn_app_with(store, &[("TOLLGATE_MAX_TOKEN_LIFETIME_DAYS", "30")]).await;
    let space = app.create_space("acme").await;
    let path = format!("/v1/spaces/{space}/tokens");
    let created = app
        .post(
            &path,
            &app.admin,
            json!({ "name": "default", "level": "client" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let expires_at = OffsetDateTime::parse(&created.str("expires_at"), &Rfc3339).unwrap();
    let expected = OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(
        (expires_at - expected).abs() < time::Duration::minutes(5),
        "{expires_at} vs {expected}"
    );
    let far = (OffsetDateTime::now_utc() + time::Duration::days(31))
        .format(&Rfc3339)
        .unwrap();
    let refused = app
        .post(
            &path,
            &app.admin,
            json!({ "name": "far", "level": "client", "expires_at": far }),
        )
        .await;
    refused.assert_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "expires_at_beyond_maximum",
    );
    assert!(
        refused.body["detail"].as_str().unwrap().contains("30"),
        "{refused:?}"
    );
}
