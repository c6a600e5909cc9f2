//! `/v1/spaces`: creation, listing with pagination, reading, isolation, renaming and deletion.

use std::collections::HashSet;

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Req, TestApp};

fn rename(space: Uuid, name: &str) -> Req {
    Req::new(Method::PATCH, &format!("/v1/spaces/{space}")).json(json!({ "name": name }))
}

#[tokio::test]
async fn an_instance_admin_creates_a_space_and_gets_201_with_its_shape() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Req::post("/v1/spaces")
                .token(&app.admin)
                .json(json!({ "name": "  acme  " })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(body["name"], "acme");
    assert_eq!(body["created_at"], "2030-01-01T00:00:00Z");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    assert_eq!(
        res.header(header::LOCATION),
        Some(format!("/v1/spaces/{id}").as_str())
    );

    let res = app
        .send(Req::get(&format!("/v1/spaces/{id}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json(), body);
}

#[tokio::test]
async fn a_space_token_lists_and_reads_only_its_own_space() {
    let app = TestApp::new().await;
    let (own, admin, client) = app.space_with_tokens("acme").await;
    let other = app.space("globex").await;

    for token in [&admin, &client] {
        let res = app.send(Req::get("/v1/spaces").token(token)).await;
        assert_eq!(res.status, StatusCode::OK);
        let body = res.json();
        assert_eq!(body["items"].as_array().unwrap().len(), 1);
        assert_eq!(body["items"][0]["id"], own.to_string());
        assert_eq!(body["next_cursor"], json!(null));

        let res = app
            .send(Req::get(&format!("/v1/spaces/{own}")).token(token))
            .await;
        assert_eq!(res.status, StatusCode::OK);

        let res = app
            .send(Req::get(&format!("/v1/spaces/{other}")).token(token))
            .await;
        res.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    }
}

#[tokio::test]
async fn another_space_answers_exactly_as_a_space_that_exists_nowhere() {
    let app = TestApp::new().await;
    let (_, _, client) = app.space_with_tokens("acme").await;
    let other = app.space("globex").await;
    let nowhere = Uuid::now_v7();
    let a = app
        .send(Req::get(&format!("/v1/spaces/{other}")).token(&client))
        .await;
    let b = app
        .send(Req::get(&format!("/v1/spaces/{nowhere}")).token(&client))
        .await;
    a.assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    assert_eq!(a.body, b.body);
    let c = app
        .send(Req::get(&format!("/v1/spaces/{nowhere}")).token(&app.admin))
        .await;
    assert_eq!(c.body, a.body);
}

#[tokio::test]
async fn an_instance_admin_pages_through_every_space_with_the_cursor() {
    let app = TestApp::new().await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(app.space(&format!("space {n}")).await);
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/v1/spaces?limit=3&cursor={c}"),
            None => "/v1/spaces?limit=3".to_owned(),
        };
        let res = app.send(Req::get(&uri).token(&app.admin)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let body = res.json();
        pages += 1;
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|s| s["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        created.iter().collect::<HashSet<_>>()
    );
}

#[tokio::test]
async fn an_instance_admin_renames_a_space_and_the_event_names_no_token() {
    let app = TestApp::new().await;
    let space = app.space("acme").await;
    let res = app
        .send(rename(space, "  acme (eu) ").token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["name"], "acme (eu)");
    assert_eq!(res.json()["id"], space.to_string());
    let read = app
        .send(Req::get(&format!("/v1/spaces/{space}")).token(&app.admin))
        .await;
    assert_eq!(read.json()["name"], "acme (eu)");
    // The same name again changes nothing and records nothing.
    let again = app.send(rename(space, "acme (eu)").token(&app.admin)).await;
    assert_eq!(again.status, StatusCode::OK);
    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await
        .json();
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{events}");
    assert_eq!(items[0]["action"], "space.renamed");
    assert_eq!(items[0]["token_id"], json!(null));
    assert_eq!(items[0]["space_id"], space.to_string());
}

#[tokio::test]
async fn renaming_refuses_a_bad_name_unknown_fields_and_space_tokens() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    app.send(rename(space, " ").token(&app.admin))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    app.send(
        Req::new(Method::PATCH, &format!("/v1/spaces/{space}"))
            .token(&app.admin)
            .json(json!({ "name": "x", "owner": "me" })),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    for token in [&admin, &client] {
        app.send(rename(space, "mine").token(token))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
        app.send(Req::delete(&format!("/v1/spaces/{space}")).token(token))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    app.send(rename(Uuid::now_v7(), "x").token(&app.admin))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    let read = app
        .send(Req::get(&format!("/v1/spaces/{space}")).token(&app.admin))
        .await;
    assert_eq!(read.json()["name"], "acme");
}

#[tokio::test]
async fn deleting_a_space_stops_its_tokens_at_once_and_keeps_its_events_for_instance_admins() {
    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let other = app.space("globex").await;
    let (_, other_client) = app.token(&app.admin, other, "client").await;
    // Cached on this node before the deletion.
    for token in [&admin, &client, &other_client] {
        let res = app.send(Req::get("/v1/whoami").token(token)).await;
        assert_eq!(res.status, StatusCode::OK);
    }

    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert!(res.body.is_empty());

    for token in [&admin, &client] {
        let res = app.send(Req::get("/v1/whoami").token(token)).await;
        res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let res = app.send(Req::get("/v1/whoami").token(&other_client)).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "another space's token still works"
    );

    // Gone for every use, and final.
    for req in [
        Req::get(&format!("/v1/spaces/{space}")),
        Req::get(&format!("/v1/spaces/{space}/tokens")),
        Req::post(&format!("/v1/spaces/{space}/tokens"))
            .json(json!({ "name": "back", "level": "client" })),
        rename(space, "back"),
    ] {
        app.send(req.token(&app.admin))
            .await
            .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
    }
    let listed = app
        .send(Req::get("/v1/spaces").token(&app.admin))
        .await
        .json();
    let ids: Vec<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [other.to_string()]);

    // The events are kept, the deletion last, with the instance admin as its actor.
    let events = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text());
    let events = events.json();
    // The refused uses above are recorded as any refused use is; the rest ends with the deletion.
    let items: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] != "token.rejected")
        .collect();
    assert_eq!(items[0]["action"], "space.deleted");
    assert_eq!(items[0]["token_id"], json!(null));
    assert!(items[0]["actor"].as_str().unwrap().starts_with("token:"));
    let created = items
        .iter()
        .filter(|e| e["action"] == "token.created")
        .count();
    assert_eq!(created, 2, "{events}");

    // Again: 204 again, nothing more recorded.
    let res = app
        .send(Req::delete(&format!("/v1/spaces/{space}")).token(&app.admin))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let again = app
        .send(Req::get(&format!("/v1/spaces/{space}/events")).token(&app.admin))
        .await
        .json();
    assert_eq!(
        again["items"].as_array().unwrap().len(),
        events["items"].as_array().unwrap().len()
    );
    // A space that never existed is not found.
    app.send(Req::delete(&format!("/v1/spaces/{}", Uuid::now_v7())).token(&app.admin))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "space_not_found");
}
