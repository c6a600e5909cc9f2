//! Spaces, for an instance admin: the list, and a form to create one.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use tollgate_app::{Cursor, NewSpace, PageLimit, PageRequest};
use tollgate_domain::{allows, Permission, Resource, SpaceId, SpaceName};

use super::{parse_id, render};
use crate::auth::{Signed, SignedForm};
use crate::error::{see_other, PageError};
use crate::forms::{CreateSpaceForm, PageQuery};
use crate::view::{tokens_url, Nav, SpaceView};
use crate::{ConsoleState, BASE};

#[derive(Template)]
#[template(path = "spaces.html")]
struct SpacesPage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    spaces: Vec<SpaceView>,
    next_url: Option<String>,
    name: String,
    name_error: Option<String>,
}

/// A cursor from a query string; a bad one is a link no page of ours made.
pub(crate) fn page_request(cursor: &str) -> Result<PageRequest, PageError> {
    let cursor = match cursor {
        "" => None,
        raw => Some(Cursor::parse(raw).map_err(|_| crate::error::BAD_PAGE_LINK)?),
    };
    Ok(PageRequest {
        limit: PageLimit::default(),
        cursor,
    })
}

async fn spaces_page(
    state: &ConsoleState,
    signed: &Signed,
    cursor: &str,
    name: String,
    name_error: Option<String>,
) -> Result<SpacesPage, PageError> {
    if !allows(signed.actor(), Permission::ManageSpaces, Resource::Instance) {
        return Err(PageError::Forbidden(
            "Only an instance admin manages spaces.",
        ));
    }
    let page = state
        .spaces
        .list(signed.actor(), page_request(cursor)?)
        .await?;
    let now = state.tokens.now();
    Ok(SpacesPage {
        title: "Spaces",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        spaces: page.items.iter().map(|s| SpaceView::of(s, now)).collect(),
        next_url: page
            .next_cursor
            .map(|c| format!("{BASE}/spaces?cursor={c}")),
        name,
        name_error,
    })
}

/// `GET /admin/spaces`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let cursor = query.map(|Query(q)| q.cursor).unwrap_or_default();
    render(&spaces_page(&state, &signed, &cursor, String::new(), None).await?)
}

/// `POST /admin/spaces`: a new space, then its tokens page.
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    SignedForm { signed, form }: SignedForm<CreateSpaceForm>,
) -> Result<Response, PageError> {
    let name = match SpaceName::parse(&form.name) {
        Ok(name) => name,
        Err(error) => {
            let message = sentence(&format!("name {error}"));
            let page = spaces_page(&state, &signed, "", form.name, Some(message)).await?;
            let mut response = render(&page)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let space = state
        .spaces
        .create(signed.actor(), NewSpace { name })
        .await?;
    Ok(see_other(&tokens_url(space.id)))
}

/// `GET /admin/spaces/{id}`: its tokens.
pub(crate) async fn show(Path(space_id): Path<String>) -> Result<Response, PageError> {
    Ok(see_other(&tokens_url(SpaceId::from_uuid(parse_id(
        &space_id,
    )?))))
}

/// A validation error as a sentence for a page: "Name must not be empty."
pub(crate) fn sentence(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}
