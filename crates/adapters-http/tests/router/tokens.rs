//! `/v1/spaces/{space_id}/tokens`: creation, listing with pagination and visibility, reading,
//! revocation, isolation.

use std::collections::HashSet;

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{Req, TestApp};

fn tokens(space: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens")
}

fn token(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}")
}

const METADATA_FIELDS: [&str; 17] = [
    "id",
    "space_id",
    "name",
    "description",
    "level",
    "hint",
    "created_at",
    "created_by",
    "expires_at",
    "last_used_at",
    "last_used_ip",
    "revoked_at",
    "suspended_at",
    "status",
    "replaces",
    "replaced_by",
    "rotated_at",
];

fn assert_metadata_only(body: &Value) {
    let keys: HashSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, METADATA_FIELDS.into_iter().collect(), "{body}");
}

#[tokio::test]
async fn creating_a_token_answers_201_with_its_metadata_and_the_secret_once() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let admin_id = app
        .send(Req::get("/v1/whoami").token(&app.admin))
        .await
        .uuid("token_id");

    let res = app
        .send(Req::post(&tokens(space)).token(&app.admin).json(json!({
            "name": "ci deploy",
            "level": "client",
            "expires_at": "2031-06-01T12:00:00Z",
        })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));
    let body = res.json();
    let id = res.uuid("id");
    let secret = body["token"].as_str().unwrap();
    assert!(secret.starts_with("tgc_"), "{secret}");
    assert_eq!(body["space_id"], space.to_string());
    assert_eq!(body["name"], "ci deploy");
    assert_eq!(body["level"], "client");
    assert!(secret.starts_with(body["hint"].as_str().unwrap()));
    assert_eq!(body["created_at"], "2030-01-01T00:00:00Z");
    assert_eq!(body["created_by"], format!("token:{admin_id}"));
    assert_eq!(body["expires_at"], "2031-06-01T12:00:00Z");
    assert_eq!(body["last_used_at"], json!(null));
    assert_eq!(body["revoked_at"], json!(null));
    assert_eq!(body["status"], "active");
    assert_eq!(body["replaces"], json!(null));
    assert_eq!(body["replaced_by"], json!(null));
    assert_eq!(body["rotated_at"], json!(null));
    assert_eq!(
        res.header(header::LOCATION),
        Some(token(space, id).as_str())
    );

    let mut metadata = body.clone();
    metadata.as_object_mut().unwrap().remove("token");
    assert_metadata_only(&metadata);

    // Read back: the same metadata, and the secret is nowhere.
    let res = app
        .send(Req::get(&token(space, id)).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json(), metadata);
    let res = app.send(Req::get(&tokens(space)).token(&app.admin)).await;
    assert!(!res.text().contains(secret));
    assert!(!res.text().contains("argon2"));

    // And it works.
    let res = app.send(Req::get("/v1/whoami").bearer(secret)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn an_expiry_with_an_offset_is_kept_in_utc() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let res = app
        .send(Req::post(&tokens(space)).token(&app.admin).json(json!({
            "name": "ci",
            "level": "client",
            "expires_at": "2031-06-01T14:00:00+02:00",
        })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(res.json()["expires_at"], "2031-06-01T12:00:00Z");
}

#[tokio::test]
async fn a_space_admin_token_creates_client_tokens_but_not_admin_tokens() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let (_, client) = app.token(&admin, space, "client").await;
    assert!(client.starts_with("tgc_"));

    let res = app
        .send(
            Req::post(&tokens(space))
                .token(&admin)
                .json(json!({ "name": "twin", "level": "admin" })),
        )
        .await;
    let body = res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("CREATE_ADMIN_API_TOKEN"));
    assert_eq!(
        res.header(header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\"")
    );
}

#[tokio::test]
async fn a_client_token_cannot_create_tokens() {
    let app = TestApp::new().await;
    let (space, _, client) = app.space_with_tokens("acme").await;
    let res = app
        .send(
            Req::post(&tokens(space))
                .token(&client)
                .json(json!({ "name": "x", "level": "client" })),
        )
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_client_token_never_sees_admin_tokens_in_the_list_or_by_id() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (admin_id, _) = app.token(&app.admin, space, "admin").await;
    let (client_id, client) = app.token(&app.admin, space, "client").await;

    let res = app.send(Req::get(&tokens(space)).token(&client)).await;
    assert_eq!(res.status, StatusCode::OK);
    let body = res.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], client_id.to_string());
    assert_metadata_only(&items[0]);

    let res = app
        .send(Req::get(&format!("{}?level=admin", tokens(space))).token(&client))
        .await;
    assert_eq!(res.json(), json!({ "items": [], "next_cursor": null }));

    let hidden = app
        .send(Req::get(&token(space, admin_id)).token(&client))
        .await;
    hidden.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    let nowhere = app
        .send(Req::get(&token(space, Uuid::now_v7())).token(&client))
        .await;
    assert_eq!(hidden.body, nowhere.body);

    // Nor can it learn of one by trying to revoke it.
    let res = app
        .send(Req::delete(&token(space, admin_id)).token(&client))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
}

#[tokio::test]
async fn admin_tokens_see_every_level_and_filter_by_level() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let list = |query: &'static str| {
        let uri = format!("{}{query}", tokens(space));
        let admin = admin.clone();
        let app = &app;
        async move {
            let res = app.send(Req::get(&uri).token(&admin)).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["level"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut all = list("").await;
    all.sort();
    assert_eq!(all, ["admin", "client"]);
    assert_eq!(list("?level=admin").await, ["admin"]);
    assert_eq!(list("?level=client").await, ["client"]);
}

#[tokio::test]
async fn a_token_of_one_space_finds_nothing_of_another() {
    let app = TestApp::new().await;
    let (_, admin, client) = app.space_with_tokens("acme").await;
    let other = app.space("globex").await;
    let (other_token, _) = app.token(&app.admin, other, "client").await;

    for as_token in [&admin, &client] {
        let res = app.send(Req::get(&tokens(other)).token(as_token)).await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
        let res = app
            .send(Req::get(&token(other, other_token)).token(as_token))
            .await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
        let res = app
            .send(Req::delete(&token(other, other_token)).token(as_token))
            .await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
        let res = app
            .send(
                Req::post(&tokens(other))
                    .token(as_token)
                    .json(json!({ "name": "x", "level": "client" })),
            )
            .await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    }
    // The token of the other space is untouched.
    let res = app
        .send(Req::get(&token(other, other_token)).token(&app.admin))
        .await;
    assert_eq!(res.json()["revoked_at"], json!(null));
}

#[tokio::test]
async fn revoking_answers_204_twice_and_the_token_stops_working_at_once() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let (id, secret) = app.token(&admin, space, "client").await;
    assert_eq!(
        app.send(Req::get("/v1/whoami").token(&secret)).await.status,
        StatusCode::OK
    );

    for _ in 0..2 {
        let res = app.send(Req::delete(&token(space, id)).token(&admin)).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
        assert!(res.body.is_empty());
    }

    let res = app.send(Req::get("/v1/whoami").token(&secret)).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");

    let res = app.send(Req::get(&token(space, id)).token(&admin)).await;
    assert_eq!(res.json()["revoked_at"], "2030-01-01T00:00:00Z");
    assert_eq!(res.json()["status"], "revoked");
    let res = app.send(Req::get(&tokens(space)).token(&admin)).await;
    assert!(
        !res.text().contains(&id.to_string()),
        "revoked tokens are left out"
    );
}

#[tokio::test]
async fn a_client_token_cannot_revoke() {
    let app = TestApp::new().await;
    let (space, _, client) = app.space_with_tokens("acme").await;
    let (id, _) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(Req::delete(&token(space, id)).token(&client))
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_cursor_pages_through_every_token_without_repeats() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let mut created = HashSet::new();
    for _ in 0..7 {
        created.insert(app.token(&app.admin, space, "client").await.0);
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut uri = format!("{}?limit=2", tokens(space));
    loop {
        let res = app.send(Req::get(&uri).token(&app.admin)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let body = res.json();
        pages += 1;
        let items = body["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|t| t["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => uri = format!("{}?limit=2&cursor={next}", tokens(space)),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), created);
}

#[tokio::test]
async fn the_default_page_holds_fifty_tokens() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for _ in 0..51 {
        app.token(&app.admin, space, "client").await;
    }
    let res = app.send(Req::get(&tokens(space)).token(&app.admin)).await;
    let body = res.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 50);
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn a_space_admin_never_sees_the_instance_admin_token_s_id_in_metadata_or_events() {
    let app = TestApp::new().await;
    let instance_id = app
        .send(Req::get("/v1/whoami").token(&app.admin))
        .await
        .json()["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let space = app.space("acme").await;
    let (admin_id, admin) = app.token(&app.admin, space, "admin").await;
    let (by_instance, _) = app.token(&app.admin, space, "client").await;
    let (by_space_admin, _) = app.token(&admin, space, "client").await;
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}/tokens/{by_instance}")).token(&app.admin))
        .await;
    assert!(res.status.is_success(), "{}", res.text());

    let mut bodies = Vec::new();
    let listed = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens?status=all")).token(&admin))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let creators: Vec<(String, String)> = listed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["created_by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(creators.contains(&(by_instance.to_string(), "instance".to_owned())));
    assert!(creators.contains(&(admin_id.to_string(), "instance".to_owned())));
    assert!(creators.contains(&(by_space_admin.to_string(), format!("token:{admin_id}"))));
    bodies.push(listed.text());
    for id in [by_instance, admin_id, by_space_admin] {
        let res = app
            .send(Req::get(&format!("/v1/spaces/{space}/tokens/{id}")).token(&admin))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        bodies.push(res.text());
    }
    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&admin))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text());
    let actors: Vec<String> = events.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap().to_owned())
        .collect();
    assert!(actors.contains(&"instance".to_owned()), "{actors:?}");
    assert!(actors.contains(&format!("token:{admin_id}")), "{actors:?}");
    bodies.push(events.text());
    for body in &bodies {
        assert!(!body.contains(&instance_id), "{body}");
    }

    // The instance admin still sees its own id.
    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await;
    assert!(events.text().contains(&instance_id));
    let read = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens/{by_instance}")).token(&app.admin))
        .await;
    assert_eq!(read.json()["created_by"], format!("token:{instance_id}"));
}

#[tokio::test]
async fn the_last_used_ip_is_the_client_behind_a_trusted_proxy_and_only_admin_readers_see_it() {
    let config = tollgate_http::HttpConfig::default()
        .with_trusted_proxies(tollgate_app::TrustedProxies::parse("10.0.0.0/24").unwrap());
    let app = TestApp::with(config, None).await;
    let space = app.space("acme").await;
    let (id, client) = app.token(&app.admin, space, "client").await;
    let (_, reader) = app.token(&app.admin, space, "client").await;
    let res = app
        .send(
            Req::get("/v1/whoami")
                .token(&client)
                .header("x-forwarded-for", "198.51.100.1, 2001:db8::77")
                .from("10.0.0.5:443"),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    app.core.tokens.verifier().flush_last_used().await.unwrap();

    let as_admin = app
        .send(Req::get(&token(space, id)).token(&app.admin))
        .await
        .json();
    assert_eq!(as_admin["last_used_ip"], "2001:db8::77", "{as_admin}");
    assert!(as_admin["last_used_at"].is_string());
    let as_reader = app
        .send(Req::get(&token(space, id)).token(&reader))
        .await
        .json();
    assert_eq!(as_reader["last_used_ip"], json!(null), "{as_reader}");
    assert_eq!(as_reader["last_used_at"], as_admin["last_used_at"]);
    let listed = app
        .send(Req::get(&tokens(space)).token(&reader))
        .await
        .json();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["last_used_ip"].is_null()),
        "{listed}"
    );
}

#[tokio::test]
async fn a_cursor_works_only_on_the_listing_that_handed_it_out() {
    let app = TestApp::new().await;
    let (acme, globex) = (app.space("acme").await, app.space("globex").await);
    for space in [acme, globex] {
        for _ in 0..3 {
            app.token(&app.admin, space, "client").await;
        }
    }
    let first = app
        .send(Req::get(&format!("{}?limit=1", tokens(acme))).token(&app.admin))
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .send(Req::get(&format!("{}?limit=1&cursor={cursor}", tokens(acme))).token(&app.admin))
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text());

    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (uri, what) in [
        (
            format!("{}?limit=1&cursor={cursor}", tokens(globex)),
            "another space",
        ),
        (
            format!("{}?limit=1&cursor={cursor}&status=all", tokens(acme)),
            "another status filter",
        ),
        (
            format!("{}?limit=1&cursor={cursor}&level=client", tokens(acme)),
            "another level filter",
        ),
        (
            format!("/v1/spaces/{acme}/events?limit=1&cursor={cursor}"),
            "another route",
        ),
        (format!("/v1/spaces?limit=1&cursor={cursor}"), "the spaces"),
        (
            format!("{}?limit=1&cursor={tampered}", tokens(acme)),
            "a changed cursor",
        ),
    ] {
        let res = app.send(Req::get(&uri).token(&app.admin)).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            res.text()
        );
        assert_eq!(res.json()["code"], "invalid_cursor", "{what}");
    }
}

#[tokio::test]
async fn q_lists_the_tokens_whose_name_contains_it_and_refuses_a_short_term() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for name in ["CI Deploy", "nightly backup", "deploy eu"] {
        let res = app
            .send(
                Req::post(&format!("/v1/spaces/{space}/tokens"))
                    .token(&app.admin)
                    .json(serde_json::json!({ "name": name, "level": "client" })),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    }
    let res = app
        .send(Req::get(&format!("/v1/spaces/{space}/tokens?q=DEPLOY")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let names: Vec<_> = res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["CI Deploy", "deploy eu"]);
    for bad in ["de", "%20de%20", ""] {
        app.send(Req::get(&format!("/v1/spaces/{space}/tokens?q={bad}")).token(&app.admin))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
    }
}
