//! The pages, one file per part of the console: signing in, spaces, a space's tokens (and
//! editing one) and its events. Each handler reads its input, makes one service call (the services decide who may
//! do what), and renders a template.

pub(crate) mod events;
pub(crate) mod sign_in;
pub(crate) mod spaces;
pub(crate) mod token_edit;
pub(crate) mod tokens;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use crate::auth::Signed;
use crate::error::{see_other, PageError};
use crate::view::tokens_url;
use crate::BASE;

/// `/admin`: an instance admin's spaces, a space admin's own space.
pub(crate) async fn home(signed: Result<Signed, PageError>) -> Response {
    match signed {
        Ok(signed) => match signed.actor().space_id() {
            Some(space) => see_other(&tokens_url(space)),
            None => see_other(&format!("{BASE}/spaces")),
        },
        Err(error) => error.into_response(),
    }
}

/// Any other path below `/admin`.
pub(crate) async fn not_found() -> PageError {
    PageError::NotFound
}

/// A rendered page, 200.
pub(crate) fn render(page: &impl Template) -> Result<Response, PageError> {
    Ok(Html(page.render()?).into_response())
}

/// An id in a path; anything but a UUID is a page that does not exist.
pub(crate) fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::NotFound)
}
