//! A space's audit events, newest first.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tollgate_domain::SpaceId;

use super::spaces::page_request;
use super::{parse_id, render};
use crate::auth::Signed;
use crate::error::PageError;
use crate::forms::PageQuery;
use crate::view::{EventRow, Nav, SpaceView};
use crate::{ConsoleState, BASE};

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    title: &'static str,
    nav: Option<Nav>,
    space: SpaceView,
    events: Vec<EventRow>,
    next_url: Option<String>,
}

/// `GET /admin/spaces/{id}/events`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(space_id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let space_id = SpaceId::from_uuid(parse_id(&space_id)?);
    let cursor = query.map(|Query(q)| q.cursor).unwrap_or_default();
    let space = state.spaces.get(signed.actor(), space_id).await?;
    let page = state
        .tokens
        .list_events(signed.actor(), space_id, page_request(&cursor)?)
        .await?;
    let now = state.tokens.now();
    render(&EventsPage {
        title: "Events",
        nav: Some(signed.nav()),
        space: SpaceView::of(&space, now),
        events: page.items.iter().map(|e| EventRow::of(e, now)).collect(),
        next_url: page
            .next_cursor
            .map(|c| format!("{BASE}/spaces/{space_id}/events?cursor={c}")),
    })
}
