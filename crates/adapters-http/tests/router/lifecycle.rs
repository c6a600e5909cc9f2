//! Token lifecycle: rotation with a grace period, statuses and the `status` filter, the
//! maximum lifetime, and the audit events.

use std::collections::HashSet;

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use time::Duration;
use tollgate_domain::LifetimePolicy;
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

fn tokens(space: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens")
}

fn token(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}")
}

fn rotate(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}/rotate")
}

fn events(space: Uuid) -> String {
    format!("/v1/spaces/{space}/events")
}

async fn whoami(app: &TestApp, secret: &str) -> StatusCode {
    app.send(Req::get("/v1/whoami").token(secret)).await.status
}

/// Rotates `id` as `as_token` with this grace period; asserts 201 and returns the answer.
async fn rotated(app: &TestApp, as_token: &str, space: Uuid, id: Uuid, grace: u64) -> Res {
    let res = app
        .send(
            Req::post(&rotate(space, id))
                .token(as_token)
                .json(json!({ "grace_period_seconds": grace })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res
}

fn ids(body: &Value) -> Vec<Uuid> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn rotating_issues_a_replacement_and_the_old_token_works_until_the_grace_period_ends() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let (old_id, old) = app.token(&admin, space, "client").await;

    let res = rotated(&app, &admin, space, old_id, 3600).await;
    let body = res.json();
    let new_id = res.uuid("id");
    let new = body["token"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    assert_ne!(new, old);
    assert!(new.starts_with("tgc_"), "{new}");
    assert_eq!(
        res.header(header::LOCATION),
        Some(token(space, new_id).as_str())
    );
    assert_eq!(body["name"], "client token");
    assert_eq!(body["level"], "client");
    assert_eq!(body["space_id"], space.to_string());
    assert_eq!(body["status"], "active");
    assert_eq!(body["replaces"], old_id.to_string());
    assert_eq!(body["replaced_by"], json!(null));

    let old_meta = app
        .send(Req::get(&token(space, old_id)).token(&admin))
        .await
        .json();
    assert_eq!(old_meta["status"], "rotated");
    assert_eq!(old_meta["replaced_by"], new_id.to_string());
    assert_eq!(old_meta["rotated_at"], "2030-01-01T00:00:00Z");
    assert_eq!(old_meta["expires_at"], "2030-01-01T01:00:00Z");
    assert_eq!(old_meta["revoked_at"], json!(null));

    // During the grace period both work.
    assert_eq!(whoami(&app, &old).await, StatusCode::OK);
    assert_eq!(whoami(&app, &new).await, StatusCode::OK);
    app.core.clock.advance(Duration::minutes(59));
    assert_eq!(whoami(&app, &old).await, StatusCode::OK);

    // After it, the old one fails exactly like a revoked token; the new one goes on.
    app.core.clock.advance(Duration::minutes(1));
    let (revoked_id, revoked) = app.token(&admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked_id)).token(&admin))
        .await;
    let expired = app.send(Req::get("/v1/whoami").token(&old)).await;
    expired.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let like_revoked = app.send(Req::get("/v1/whoami").token(&revoked)).await;
    assert_eq!(expired.body, like_revoked.body);
    assert_eq!(
        expired.header(header::WWW_AUTHENTICATE),
        like_revoked.header(header::WWW_AUTHENTICATE)
    );
    assert_eq!(whoami(&app, &new).await, StatusCode::OK);
    let old_meta = app
        .send(Req::get(&token(space, old_id)).token(&admin))
        .await
        .json();
    assert_eq!(old_meta["status"], "rotated");
}

#[tokio::test]
async fn without_a_body_or_grace_period_the_old_token_stops_at_once() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let requests: [fn(Req) -> Req; 6] = [
        |req| req,
        |req| req.raw("application/json", Vec::new()),
        |req| req.raw("text/plain", Vec::new()),
        |req| req.json(json!({})),
        |req| req.json(json!(null)),
        |req| req.raw("application/json", b" null\n".to_vec()),
    ];
    for with_body in requests {
        let (id, old) = app.token(&app.admin, space, "client").await;
        let res = app
            .send(with_body(Req::post(&rotate(space, id)).token(&app.admin)))
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let new = res.json()["token"].as_str().unwrap().to_owned();
        let res = app.send(Req::get("/v1/whoami").token(&old)).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
        assert_eq!(whoami(&app, &new).await, StatusCode::OK);
    }
}

/// JSON does not tell `3600` from `3600.0`, and neither does the document's `type: integer`
/// (found by schemathesis: `1475.0` was refused).
#[tokio::test]
async fn a_grace_period_written_with_a_zero_fraction_is_that_whole_number() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for (grace, old_still_works) in [
        (json!(3600.0), true),
        (json!(0.0), false),
        (json!(604_800.0), true),
    ] {
        let (id, old) = app.token(&app.admin, space, "client").await;
        let res = app
            .send(
                Req::post(&rotate(space, id))
                    .token(&app.admin)
                    .json(json!({ "grace_period_seconds": grace })),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{grace}: {}", res.text());
        let expected = if old_still_works {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(whoami(&app, &old).await, expected, "{grace}");
    }
}

#[tokio::test]
async fn a_grace_period_outside_zero_to_seven_days_is_422_invalid_grace_period() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (id, old) = app.token(&app.admin, space, "client").await;
    for grace in [
        json!(-1),
        json!(604_801),
        json!(1.5),
        json!(1e20),
        json!(-0.5),
        json!(604_801.0),
    ] {
        let res = app
            .send(
                Req::post(&rotate(space, id))
                    .token(&app.admin)
                    .json(json!({ "grace_period_seconds": grace })),
            )
            .await;
        let body = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_grace_period");
        assert!(body["detail"].as_str().unwrap().contains("604800"));
    }
    for body in [
        json!({ "grace_period_seconds": "60" }),
        json!({ "grace": 60 }),
        json!([]),
        json!([60]),
        json!(60),
    ] {
        let res = app
            .send(Req::post(&rotate(space, id)).token(&app.admin).json(body))
            .await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
    let res = app
        .send(
            Req::post(&rotate(space, id))
                .token(&app.admin)
                .raw("text/plain", b"{\"grace_period_seconds\": 60}".to_vec()),
        )
        .await;
    res.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let res = app
        .send(
            Req::post(&rotate(space, id))
                .token(&app.admin)
                .raw("application/json", b"{".to_vec()),
        )
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "malformed_json");

    // Nothing was rotated by any of them; the longest grace period is accepted.
    assert_eq!(whoami(&app, &old).await, StatusCode::OK);
    rotated(&app, &app.admin, space, id, 604_800).await;
    app.core
        .clock
        .advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(whoami(&app, &old).await, StatusCode::OK);
}

#[tokio::test]
async fn rotating_a_revoked_expired_or_rotated_token_is_409_token_not_active() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;

    let (revoked, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked)).token(&app.admin))
        .await;

    let res = app
        .send(Req::post(&tokens(space)).token(&app.admin).json(json!({
            "name": "short-lived",
            "level": "client",
            "expires_at": "2030-01-01T01:00:00Z",
        })))
        .await;
    let expired = res.uuid("id");

    let (rotated_once, _) = app.token(&app.admin, space, "client").await;
    rotated(&app, &app.admin, space, rotated_once, 600).await;

    app.core.clock.advance(Duration::hours(2));
    for (id, status) in [
        (revoked, "revoked"),
        (expired, "expired"),
        (rotated_once, "rotated"),
    ] {
        let res = app
            .send(Req::post(&rotate(space, id)).token(&app.admin))
            .await;
        let body = res.assert_problem(StatusCode::CONFLICT, "token_not_active");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(status), "{detail}");
    }
    // A rotated token inside its grace period cannot be rotated again either.
    let (id, _) = app.token(&app.admin, space, "client").await;
    rotated(&app, &app.admin, space, id, 3600).await;
    let res = app
        .send(Req::post(&rotate(space, id)).token(&app.admin))
        .await;
    res.assert_problem(StatusCode::CONFLICT, "token_not_active");
}

#[tokio::test]
async fn a_space_admin_token_rotates_client_tokens_but_not_admin_tokens() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let (client_id, _) = app.token(&admin, space, "client").await;
    let (admin_id, _) = app.token(&app.admin, space, "admin").await;

    rotated(&app, &admin, space, client_id, 0).await;

    let res = app
        .send(Req::post(&rotate(space, admin_id)).token(&admin))
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
    // The admin token was not rotated; the instance admin may rotate it.
    let meta = app
        .send(Req::get(&token(space, admin_id)).token(&admin))
        .await
        .json();
    assert_eq!(meta["status"], "active");
    let res = rotated(&app, &app.admin, space, admin_id, 0).await;
    assert!(res.json()["token"].as_str().unwrap().starts_with("tga_"));

    // A client token may not rotate, and never learns that an admin token exists.
    let (other_client, _) = app.token(&admin, space, "client").await;
    let res = app
        .send(Req::post(&rotate(space, other_client)).token(&client))
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let (admin_id, _) = app.token(&app.admin, space, "admin").await;
    let res = app
        .send(Req::post(&rotate(space, admin_id)).token(&client))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
}

#[tokio::test]
async fn rotation_answers_404_across_spaces_and_for_unknown_tokens() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let other = app.space("globex").await;
    let (other_token, _) = app.token(&app.admin, other, "client").await;

    let res = app
        .send(Req::post(&rotate(other, other_token)).token(&admin))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    let res = app
        .send(Req::post(&rotate(space, other_token)).token(&admin))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    let res = app
        .send(Req::post(&rotate(space, Uuid::now_v7())).token(&admin))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "token_not_found");
    let res = app
        .send(Req::post(&format!("/v1/spaces/{space}/tokens/nope/rotate")).token(&admin))
        .await;
    res.assert_problem(StatusCode::BAD_REQUEST, "invalid_id");
}

#[tokio::test]
async fn lists_show_active_tokens_unless_the_status_filter_asks_for_others() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let (active, _) = app.token(&app.admin, space, "client").await;
    let (revoked, _) = app.token(&app.admin, space, "client").await;
    app.send(Req::delete(&token(space, revoked)).token(&app.admin))
        .await;
    let res = app
        .send(Req::post(&tokens(space)).token(&app.admin).json(json!({
            "name": "short-lived",
            "level": "admin",
            "expires_at": "2030-01-01T01:00:00Z",
        })))
        .await;
    let expired = res.uuid("id");
    let (rotated_id, _) = app.token(&app.admin, space, "client").await;
    let replacement = rotated(&app, &app.admin, space, rotated_id, 0)
        .await
        .uuid("id");
    app.core.clock.advance(Duration::hours(2));

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let res = app
                .send(Req::get(&format!("{}{query}", tokens(space))).token(&app.admin))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text());
            let body = res.json();
            for item in body["items"].as_array().unwrap() {
                assert!(item["status"].is_string(), "{item}");
            }
            ids(&body).into_iter().collect::<HashSet<_>>()
        }
    };
    let set = |ids: &[Uuid]| ids.iter().copied().collect::<HashSet<_>>();
    let every = set(&[active, revoked, expired, rotated_id, replacement]);

    assert_eq!(list("").await, set(&[active, replacement]));
    assert_eq!(list("?status=active").await, set(&[active, replacement]));
    assert_eq!(list("?status=revoked").await, set(&[revoked]));
    assert_eq!(list("?status=expired").await, set(&[expired]));
    assert_eq!(list("?status=rotated").await, set(&[rotated_id]));
    assert_eq!(
        list("?status=revoked,expired").await,
        set(&[revoked, expired])
    );
    assert_eq!(
        list("?status=revoked%2Crotated").await,
        set(&[revoked, rotated_id])
    );
    assert_eq!(list("?status=all").await, every);
    assert_eq!(list("?status=all&level=admin").await, set(&[expired]));
    assert_eq!(
        list("?status=expired,revoked&level=client").await,
        set(&[revoked])
    );

    // Statuses as the metadata says them.
    let res = app
        .send(Req::get(&format!("{}?status=all", tokens(space))).token(&app.admin))
        .await;
    let body = res.json();
    let status_of = |id: Uuid| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id.to_string())
            .map(|t| t["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status_of(active), "active");
    assert_eq!(status_of(revoked), "revoked");
    assert_eq!(status_of(expired), "expired");
    assert_eq!(status_of(rotated_id), "rotated");

    for query in [
        "status=deleted",
        "status=",
        "status=revoked,",
        "status=Active",
        "status=all,nope",
        "status=revoked&status=nope",
    ] {
        let res = app
            .send(Req::get(&format!("{}?{query}", tokens(space))).token(&app.admin))
            .await;
        let body = res.assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
        assert!(
            body["detail"].as_str().unwrap().contains("status"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_client_token_never_sees_admin_tokens_whatever_the_status_filter() {
    let app = TestApp::new().await;
    let (space, _, client) = app.space_with_tokens("acme").await;
    let (revoked_admin, _) = app.token(&app.admin, space, "admin").await;
    app.send(Req::delete(&token(space, revoked_admin)).token(&app.admin))
        .await;
    for query in ["?status=all", "?status=revoked", "?status=all&level=admin"] {
        let res = app
            .send(Req::get(&format!("{}{query}", tokens(space))).token(&client))
            .await;
        let body = res.json();
        for item in body["items"].as_array().unwrap() {
            assert_eq!(item["level"], "client", "{query}: {item}");
        }
    }
}

#[tokio::test]
async fn an_expiry_beyond_the_maximum_lifetime_is_422_naming_the_maximum() {
    let policy = LifetimePolicy::from_days(Some(30), None).unwrap();
    let app = TestApp::with_lifetime_policy(policy).await;
    let space = app.space("acme").await;
    let create = |expires_at: Value| {
        Req::post(&tokens(space))
            .token(&app.admin)
            .json(json!({ "name": "x", "level": "client", "expires_at": expires_at }))
    };

    // The test clock shows 2030-01-01T00:00:00Z.
    let res = app.send(create(json!("2030-01-31T00:00:01Z"))).await;
    let body = res.assert_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "expires_at_beyond_maximum",
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("30 days"), "{detail}");

    let res = app.send(create(json!("2030-01-31T00:00:00Z"))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    // Without `expires_at`, the maximum applies.
    let res = app.send(create(json!(null))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(res.json()["expires_at"], "2030-01-31T00:00:00Z");
    // A past expiry is still the other problem.
    let res = app.send(create(json!("2029-01-01T00:00:00Z"))).await;
    res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "expires_at_not_in_future");
}

#[tokio::test]
async fn events_list_what_happened_newest_first_without_secrets() {
    let app = TestApp::new().await;
    let (space, admin, _) = app.space_with_tokens("acme").await;
    let (id, secret) = app.token(&admin, space, "client").await;
    let new_id = rotated(&app, &admin, space, id, 0).await.uuid("id");
    app.send(Req::delete(&token(space, new_id)).token(&admin))
        .await;
    let admin_id = app
        .send(Req::get("/v1/whoami").token(&admin))
        .await
        .uuid("token_id");

    // Presenting the revoked token is recorded as a rejection.
    app.send(Req::get("/v1/whoami").token(&secret)).await;

    for as_token in [&app.admin, &admin] {
        let res = app.send(Req::get(&events(space)).token(as_token)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(!res.text().contains(&secret[26..]));
        assert!(!res.text().contains("argon2"));
        let body = res.json();
        assert_eq!(body["next_cursor"], json!(null));
        let items = body["items"].as_array().unwrap();
        let actions: Vec<&str> = items
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        // The space's two setup tokens were created first; then ours.
        // A rotation records one `token.rotated`, on the old token.
        assert_eq!(
            actions,
            [
                "token.rejected",
                "token.revoked",
                "token.rotated",
                "token.created",
                "token.created",
                "token.created",
            ]
        );
        let event = &items[1];
        let keys: HashSet<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            HashSet::from(["id", "at", "action", "actor", "token_id", "space_id"])
        );
        assert_eq!(event["token_id"], new_id.to_string());
        assert_eq!(event["space_id"], space.to_string());
        assert_eq!(event["actor"], format!("token:{admin_id}"));
        assert_eq!(event["at"], "2030-01-01T00:00:00Z");
        assert_eq!(items[2]["token_id"], id.to_string());
        assert_eq!(items[3]["token_id"], id.to_string());
        // The rejected use is of the old token, expired by a rotation without grace period.
        assert_eq!(items[0]["token_id"], id.to_string());
        assert_eq!(items[0]["actor"], format!("token:{id}"));
    }
}

#[tokio::test]
async fn events_page_with_limit_and_cursor() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    for _ in 0..5 {
        app.token(&app.admin, space, "client").await;
    }
    let mut seen = Vec::new();
    let mut uri = format!("{}?limit=2", events(space));
    loop {
        let res = app.send(Req::get(&uri).token(&app.admin)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let body = res.json();
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(next) => uri = format!("{}?limit=2&cursor={next}", events(space)),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut newest_first = seen.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);

    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("cursor=nope", "invalid_cursor"),
        ("limit=1&limit=2", "invalid_query"),
    ] {
        let res = app
            .send(Req::get(&format!("{}?{query}", events(space))).token(&app.admin))
            .await;
        res.assert_problem(StatusCode::BAD_REQUEST, code);
    }
}

#[tokio::test]
async fn events_need_read_admin_api_token_and_stay_in_their_space() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let (other, other_admin, other_client) = app.space_with_tokens("globex").await;

    let res = app.send(Req::get(&events(space)).token(&client)).await;
    let body = res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("READ_ADMIN_API_TOKEN"));
    assert_eq!(
        res.header(header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\"")
    );

    for as_token in [&other_admin, &other_client] {
        let res = app.send(Req::get(&events(space)).token(as_token)).await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    }
    let res = app.send(Req::get(&events(other)).token(&admin)).await;
    res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    let res = app
        .send(Req::get(&events(Uuid::now_v7())).token(&app.admin))
        .await;
    res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    let res = app.send(Req::get(&events(space))).await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Each space's events are its own.
    let res = app.send(Req::get(&events(other)).token(&other_admin)).await;
    for event in res.json()["items"].as_array().unwrap() {
        assert_eq!(event["space_id"], other.to_string());
    }
}
