//! The whole story of SPEC's REST API: bootstrap, spaces, tokens of both levels used by both
//! headers, visibility, isolation, revocation, expiry and pagination.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{on_every_store, spawn_app, Store};

on_every_store!(
    bootstrap_token_manages_spaces,
    tokens_work_with_both_headers_and_report_who_they_are,
    visibility_and_permissions_follow_the_policy,
    a_token_of_another_space_gets_404_for_everything_in_it,
    a_revoked_token_gets_the_same_401_as_junk,
    an_expired_token_stops_working,
    lists_page_with_a_cursor,
);

async fn bootstrap_token_manages_spaces(store: Store) {
    let app = spawn_app(store).await;
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let created = app
        .post("/v1/spaces", &app.admin, json!({ "name": "  Acme  " }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["name"], "Acme");
    let id = created.str("id");
    let read = app.get(&format!("/v1/spaces/{id}"), &app.admin).await;
    assert_eq!(read.body, created.body);
    let listed = app.get("/v1/spaces", &app.admin).await;
    assert_eq!(listed.ids(), vec![id]);
    assert!(listed.body["next_cursor"].is_null());
    let whoami = app.get("/v1/whoami", &app.admin).await;
    assert_eq!(whoami.body["level"], "admin");
    assert!(whoami.body["space_id"].is_null());
    assert_eq!(whoami.body["permissions"].as_array().unwrap().len(), 6);
    // The bootstrap token is in the store: the log says so, and never shows it.
    assert!(
        !app.logs().contains(&app.admin),
        "the bootstrap token reached the logs"
    );
}

async fn tokens_work_with_both_headers_and_report_who_they_are(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (admin_id, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&admin, &space, "client").await;
    assert!(admin.starts_with("tga_") && client.starts_with("tgc_"));

    for (token, id, level) in [
        (&admin, &admin_id, "admin"),
        (&client, &client_id, "client"),
    ] {
        let by_header = app.get("/v1/whoami", token).await;
        assert_eq!(by_header.status, StatusCode::OK, "{by_header:?}");
        assert_eq!(&by_header.body["token_id"], id.as_str());
        assert_eq!(by_header.body["level"], level);
        assert_eq!(by_header.body["space_id"], space.as_str());
        let bearer = app
            .client
            .get(format!("{}/v1/whoami", app.base))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let bearer = crate::support::Reply::read(bearer).await;
        assert_eq!(bearer.body, by_header.body);
    }
    let client_whoami = app.get("/v1/whoami", &client).await;
    assert_eq!(client_whoami.body["permissions"], json!(["READ_API_TOKEN"]));

    let metadata = app
        .get(&format!("/v1/spaces/{space}/tokens/{client_id}"), &admin)
        .await;
    assert_eq!(metadata.status, StatusCode::OK);
    for field in [
        "id",
        "space_id",
        "name",
        "level",
        "hint",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ] {
        assert!(
            metadata.body.get(field).is_some(),
            "metadata lacks {field}: {metadata:?}"
        );
    }
    assert!(
        metadata.body.get("token").is_none(),
        "metadata must never carry the secret"
    );
    assert!(client.starts_with(metadata.str("hint").as_str()));
    assert_eq!(metadata.body["created_by"], format!("token:{admin_id}"));
    assert!(!app.logs().contains(&client) && !app.logs().contains(&admin));
}

async fn visibility_and_permissions_follow_the_policy(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (admin_id, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&admin, &space, "client").await;

    let as_client = app
        .get(&format!("/v1/spaces/{space}/tokens"), &client)
        .await;
    assert_eq!(as_client.ids(), vec![client_id.clone()]);
    let hidden = app
        .get(&format!("/v1/spaces/{space}/tokens/{admin_id}"), &client)
        .await;
    hidden.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    let as_admin = app.get(&format!("/v1/spaces/{space}/tokens"), &admin).await;
    assert_eq!(as_admin.ids().len(), 2);

    // A space admin token may not mint admin tokens, nor manage spaces.
    let escalate = app
        .post(
            &format!("/v1/spaces/{space}/tokens"),
            &admin,
            json!({ "name": "twin", "level": "admin" }),
        )
        .await;
    escalate.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        escalate
            .header("www-authenticate")
            .contains("error=\"insufficient_scope\""),
        "{escalate:?}"
    );
    app.post("/v1/spaces", &admin, json!({ "name": "mine" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // A client token creates nothing and revokes nothing.
    app.post(
        &format!("/v1/spaces/{space}/tokens"),
        &client,
        json!({ "name": "x", "level": "client" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&format!("/v1/spaces/{space}/tokens/{client_id}"), &client)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // A space token lists only its own space.
    app.create_space("other").await;
    assert_eq!(app.get("/v1/spaces", &client).await.ids(), vec![space]);
}

async fn a_token_of_another_space_gets_404_for_everything_in_it(store: Store) {
    let app = spawn_app(store).await;
    let (a, b) = (app.create_space("a").await, app.create_space("b").await);
    let (_, admin_a) = app.create_token(&app.admin, &a, "admin").await;
    let (b_token_id, _) = app.create_token(&app.admin, &b, "client").await;
    let nowhere = uuid::Uuid::now_v7();
    for space in [b.clone(), nowhere.to_string()] {
        let expect = |reply: crate::support::Reply| {
            reply.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
        };
        expect(app.get(&format!("/v1/spaces/{space}"), &admin_a).await);
        expect(
            app.get(&format!("/v1/spaces/{space}/tokens"), &admin_a)
                .await,
        );
        expect(
            app.get(&format!("/v1/spaces/{space}/tokens/{b_token_id}"), &admin_a)
                .await,
        );
        expect(
            app.delete(&format!("/v1/spaces/{space}/tokens/{b_token_id}"), &admin_a)
                .await,
        );
        expect(
            app.post(
                &format!("/v1/spaces/{space}/tokens"),
                &admin_a,
                json!({ "name": "x", "level": "client" }),
            )
            .await,
        );
    }
    app.get(&format!("/v1/spaces/{a}/tokens/{b_token_id}"), &admin_a)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "token_not_found");
}

async fn a_revoked_token_gets_the_same_401_as_junk(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let (admin_id, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&admin, &space, "client").await;
    assert_eq!(app.get("/v1/whoami", &client).await.status, StatusCode::OK);
    let revoked = app
        .delete(&format!("/v1/spaces/{space}/tokens/{client_id}"), &admin)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");
    assert_eq!(
        app.delete(&format!("/v1/spaces/{space}/tokens/{client_id}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let after = app.get("/v1/whoami", &client).await;
    after.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        after
            .header("www-authenticate")
            .contains("error=\"invalid_token\""),
        "{after:?}"
    );
    let mut unknown = client.clone();
    unknown.replace_range(4..10, "000000");
    let mut typo = client.clone();
    typo.pop();
    typo.push(if client.ends_with('a') { 'b' } else { 'a' });
    for other in ["junk".to_owned(), unknown, typo] {
        let reply = app.get("/v1/whoami", &other).await;
        assert_eq!(
            (reply.status, &reply.body, reply.header("www-authenticate")),
            (after.status, &after.body, after.header("www-authenticate"))
        );
    }
    // Revoked tokens leave the list, but stay readable by id with their revoked_at.
    let listed = app.get(&format!("/v1/spaces/{space}/tokens"), &admin).await;
    assert_eq!(listed.ids(), vec![admin_id]);
    let read = app
        .get(&format!("/v1/spaces/{space}/tokens/{client_id}"), &admin)
        .await;
    assert!(read.body["revoked_at"].is_string(), "{read:?}");
    let missing = app.call(Method::GET, "/v1/whoami", None, None).await;
    missing.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(
        missing.header("www-authenticate").starts_with("Bearer"),
        "{missing:?}"
    );
}

async fn an_expired_token_stops_working(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    // A few seconds ahead, so that the create and the first uses are answered before it even
    // on a slow machine; whole seconds, so that every store keeps exactly this instant.
    let expires_at = (time::OffsetDateTime::now_utc() + time::Duration::seconds(6))
        .replace_nanosecond(0)
        .unwrap();
    let rfc3339 = expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let reply = app
        .post(
            &format!("/v1/spaces/{space}/tokens"),
            &app.admin,
            json!({ "name": "short", "level": "client", "expires_at": rfc3339 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let token = reply.str("token");
    // Every use answered before its expiry works; the first refusal comes after it.
    app.use_until_refused(&token, reply.time("expires_at"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

async fn lists_page_with_a_cursor(store: Store) {
    let app = spawn_app(store).await;
    let space = app.create_space("acme").await;
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(app.create_token(&app.admin, &space, "client").await.0);
    }
    let mut seen = Vec::new();
    let mut path = format!("/v1/spaces/{space}/tokens?limit=3");
    let mut pages = 0;
    loop {
        let page = app.get(&path, &app.admin).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page.ids().len() <= 3);
        seen.extend(page.ids());
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/spaces/{space}/tokens?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
    for n in 0..3 {
        app.create_space(&format!("extra {n}")).await;
    }
    let first = app.get("/v1/spaces?limit=2", &app.admin).await;
    assert_eq!(first.ids().len(), 2);
    let cursor = first.str("next_cursor");
    let second = app
        .get(&format!("/v1/spaces?limit=2&cursor={cursor}"), &app.admin)
        .await;
    assert_eq!(second.ids().len(), 2);
    assert!(second.body["next_cursor"].is_null());
}
