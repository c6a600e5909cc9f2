//! `/v1/spaces`: creation, listing with pagination, reading, isolation.

use std::collections::HashSet;

use axum::http::{header, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Req, TestApp};

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
