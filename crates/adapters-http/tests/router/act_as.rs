//! `X-Tollgate-Act-As`: an instance admin token acting for a platform's member is decided by
//! the member rows of SPEC's permission table, cell by cell, over HTTP; only instance admin
//! tokens may send it; and the events record which instance token acted, for instance admins
//! only.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{Req, Res, TestApp};

const ACT_AS: &str = "x-tollgate-act-as";

fn act_as(user: &str, space: Uuid, role: &str) -> String {
    format!("user={user}; space={space}; role={role}")
}

/// A request by the instance admin token acting as `user` with `role` in `space`.
fn as_member(app: &TestApp, req: Req, user: &str, space: Uuid, role: &str) -> Req {
    req.token(&app.admin)
        .header(ACT_AS, &act_as(user, space, role))
}

fn create(space: Uuid, level: &str) -> Req {
    Req::post(&format!("/v1/spaces/{space}/tokens"))
        .json(json!({ "name": format!("{level} by a member"), "level": level }))
}

fn token_url(space: Uuid, id: Uuid) -> String {
    format!("/v1/spaces/{space}/tokens/{id}")
}

#[track_caller]
fn expect(res: &Res, status: StatusCode, cell: &str) {
    assert_eq!(res.status, status, "{cell}: {}", res.text());
}

/// The member rows of SPEC's table: MANAGE_SPACES, CREATE_API_TOKEN, CREATE_ADMIN_API_TOKEN,
/// READ_API_TOKEN, READ_ADMIN_API_TOKEN, REVOKE_API_TOKEN (on a client token someone else
/// created).
const MEMBER_ROWS: [(&str, [bool; 6]); 4] = [
    ("owner", [false, true, true, true, true, true]),
    ("admin", [false, true, true, true, true, true]),
    ("editor", [false, true, false, true, false, false]),
    ("viewer", [false, false, false, true, false, false]),
];

#[tokio::test]
async fn every_cell_of_the_member_rows_holds_over_http() {
    let app = TestApp::new().await;
    for (role, [manage, create_client, create_admin, read, read_admin, revoke]) in MEMBER_ROWS {
        let space = app.space(&format!("space of an {role}")).await;
        let (admin_id, _) = app.token(&app.admin, space, "admin").await;
        let (client_id, _) = app.token(&app.admin, space, "client").await;
        let send = |req: Req| app.send(as_member(&app, req, "u-1", space, role));
        let cell = |permission: &str| format!("{role} × {permission}");
        let allowed = |yes: bool, ok: StatusCode, no: StatusCode| if yes { ok } else { no };

        let res = send(Req::post("/v1/spaces").json(json!({ "name": "x" }))).await;
        expect(
            &res,
            allowed(manage, StatusCode::CREATED, StatusCode::FORBIDDEN),
            &cell("MANAGE_SPACES"),
        );

        let res = send(create(space, "client")).await;
        expect(
            &res,
            allowed(create_client, StatusCode::CREATED, StatusCode::FORBIDDEN),
            &cell("CREATE_API_TOKEN"),
        );
        if create_client {
            assert_eq!(
                res.json()["created_by"],
                "user:u-1",
                "{}",
                cell("created_by")
            );
        }

        let res = send(create(space, "admin")).await;
        expect(
            &res,
            allowed(create_admin, StatusCode::CREATED, StatusCode::FORBIDDEN),
            &cell("CREATE_ADMIN_API_TOKEN"),
        );

        let res = send(Req::get(&format!("/v1/spaces/{space}/tokens"))).await;
        expect(
            &res,
            allowed(read, StatusCode::OK, StatusCode::FORBIDDEN),
            &cell("READ_API_TOKEN (list)"),
        );
        let levels: Vec<Value> = res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["level"].clone())
            .collect();
        assert_eq!(
            levels.contains(&json!("admin")),
            read_admin,
            "{}: {levels:?}",
            cell("READ_ADMIN_API_TOKEN (list)")
        );
        let res = send(Req::get(&token_url(space, client_id))).await;
        expect(&res, StatusCode::OK, &cell("READ_API_TOKEN (one)"));

        // Without READ_ADMIN_API_TOKEN, an admin token does not exist, and the events are out
        // of reach.
        let res = send(Req::get(&token_url(space, admin_id))).await;
        expect(
            &res,
            allowed(read_admin, StatusCode::OK, StatusCode::NOT_FOUND),
            &cell("READ_ADMIN_API_TOKEN (one)"),
        );
        let res = send(Req::get(&format!("/v1/spaces/{space}/events"))).await;
        expect(
            &res,
            allowed(read_admin, StatusCode::OK, StatusCode::FORBIDDEN),
            &cell("READ_ADMIN_API_TOKEN (events)"),
        );

        let res = send(Req::delete(&token_url(space, client_id))).await;
        expect(
            &res,
            allowed(revoke, StatusCode::NO_CONTENT, StatusCode::FORBIDDEN),
            &cell("REVOKE_API_TOKEN on another's client token"),
        );
    }
}

#[tokio::test]
async fn an_editor_revokes_exactly_the_client_tokens_it_created() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let editor = |user: &str, req: Req| app.send(as_member(&app, req, user, space, "editor"));
    let res = editor("ada", create(space, "client")).await;
    expect(&res, StatusCode::CREATED, "ada creates");
    let adas = res.uuid("id");
    let res = editor("bob", create(space, "client")).await;
    let bobs = res.uuid("id");

    let res = editor("ada", Req::delete(&token_url(space, bobs))).await;
    expect(&res, StatusCode::FORBIDDEN, "ada revokes bob's");
    // The same user as a viewer holds no REVOKE_API_TOKEN, its own tokens included.
    let res = app
        .send(as_member(
            &app,
            Req::delete(&token_url(space, adas)),
            "ada",
            space,
            "viewer",
        ))
        .await;
    expect(&res, StatusCode::FORBIDDEN, "ada as a viewer revokes hers");
    let res = editor("ada", Req::delete(&token_url(space, adas))).await;
    expect(&res, StatusCode::NO_CONTENT, "ada revokes hers");
    let res = editor(
        "ada",
        Req::post(&format!("{}/rotate", token_url(space, bobs))),
    )
    .await;
    expect(&res, StatusCode::FORBIDDEN, "ada rotates bob's");
}

#[tokio::test]
async fn a_member_of_one_space_finds_nothing_of_another() {
    let app = TestApp::new().await;
    let home = app.space("home").await;
    let (other, _, _) = app.space_with_tokens("other").await;
    let (other_token, _) = app.token(&app.admin, other, "client").await;
    for role in ["owner", "admin", "editor", "viewer"] {
        let send = |req: Req| app.send(as_member(&app, req, "u-1", home, role));
        for req in [
            Req::get(&format!("/v1/spaces/{other}")),
            Req::get(&format!("/v1/spaces/{other}/tokens")),
            Req::get(&token_url(other, other_token)),
            create(other, "client"),
            Req::delete(&token_url(other, other_token)),
            Req::get(&format!("/v1/spaces/{other}/events")),
        ] {
            send(req)
                .await
                .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
        }
        let listed = send(Req::get("/v1/spaces")).await.json();
        let ids: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [home.to_string()], "{role} lists only its space");
    }
}

#[tokio::test]
async fn only_an_instance_admin_token_may_send_the_header() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    for token in [&admin, &client] {
        for value in [act_as("u-1", space, "owner"), "junk".to_owned()] {
            let res = app
                .send(Req::get("/v1/whoami").token(token).header(ACT_AS, &value))
                .await;
            res.assert_problem(StatusCode::FORBIDDEN, "act_as_forbidden");
        }
    }
}

#[tokio::test]
async fn a_malformed_header_is_a_400_that_says_what_is_wrong() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let long = "u".repeat(129);
    for value in [
        String::new(),
        format!("user=u-1; space={space}"),
        format!("user=u-1; space={space}; role=root"),
        format!("user={long}; space={space}; role=viewer"),
        format!("user=a/b; space={space}; role=viewer"),
        "user=u-1; space=nope; role=viewer".to_owned(),
    ] {
        let res = app
            .send(
                Req::get("/v1/whoami")
                    .token(&app.admin)
                    .header(ACT_AS, &value),
            )
            .await;
        let body = res.assert_problem(StatusCode::BAD_REQUEST, "invalid_act_as");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("user=<id>; space=<uuid>; role=<role>"),
            "{body}"
        );
    }
    let twice = app
        .send(
            Req::get("/v1/whoami")
                .token(&app.admin)
                .header(ACT_AS, &act_as("a", space, "viewer"))
                .header(ACT_AS, &act_as("b", space, "viewer")),
        )
        .await;
    twice.assert_problem(StatusCode::BAD_REQUEST, "invalid_act_as");
}

#[tokio::test]
async fn whoami_lists_the_members_permissions() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let res = app
        .send(as_member(
            &app,
            Req::get("/v1/whoami"),
            "u-1",
            space,
            "editor",
        ))
        .await;
    assert_eq!(
        res.json()["permissions"],
        json!(["CREATE_API_TOKEN", "READ_API_TOKEN"])
    );
}

#[tokio::test]
async fn events_name_the_acting_instance_token_to_instance_admins_only() {
    let app = TestApp::new().await;
    let (space, space_admin, _) = app.space_with_tokens("acme").await;
    let instance_id = app
        .send(Req::get("/v1/whoami").token(&app.admin))
        .await
        .json()["token_id"]
        .clone();
    let res = app
        .send(as_member(
            &app,
            create(space, "client"),
            "ada",
            space,
            "editor",
        ))
        .await;
    let created = res.uuid("id");
    let res = app
        .send(as_member(
            &app,
            Req::delete(&token_url(space, created)),
            "ada",
            space,
            "editor",
        ))
        .await;
    expect(&res, StatusCode::NO_CONTENT, "revoke");

    let events = |req: Req| async {
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["token_id"] == json!(created))
            .cloned()
            .collect::<Vec<Value>>()
    };
    let url = format!("/v1/spaces/{space}/events");
    let by_instance = events(Req::get(&url).token(&app.admin)).await;
    assert_eq!(by_instance.len(), 2, "{by_instance:?}");
    for event in &by_instance {
        assert_eq!(event["actor"], "user:ada", "{event}");
        assert_eq!(event["via_token_id"], instance_id, "{event}");
    }
    let readers = [
        Req::get(&url).token(&space_admin),
        as_member(&app, Req::get(&url), "own", space, "owner"),
    ];
    for reader in readers {
        let seen = events(reader).await;
        assert_eq!(seen.len(), 2, "{seen:?}");
        for event in &seen {
            assert_eq!(event["actor"], "user:ada", "{event}");
            assert!(event.get("via_token_id").is_none(), "{event}");
        }
    }
}

#[tokio::test]
async fn the_document_offers_the_header_on_every_route_that_takes_a_token() {
    let app = TestApp::new().await;
    let doc = app.send(Req::get("/openapi.json")).await.json();
    let mut with_security = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // Forward auth is for gateways, which strip `X-Tollgate-*` from their clients, and it
        // answers only 200, 401, 403 and 503 (tests/router/forward_auth.rs).
        if path.starts_with("/v1/auth") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let has_header = operation["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "X-Tollgate-Act-As" && p["in"] == "header")
            });
            let secured = operation.get("security").is_some();
            assert_eq!(has_header, secured, "{method} {path}");
            if secured {
                with_security += 1;
                let responses = &operation["responses"];
                for (status, code) in [("400", "invalid_act_as"), ("403", "act_as_forbidden")] {
                    let description = responses[status]["description"].as_str().unwrap_or("");
                    assert!(description.contains(code), "{method} {path} {status}");
                }
            }
        }
    }
    assert!(with_security >= 10, "{with_security}");
}
