//! What a page answers when a request cannot be served: a readable page with the right status
//! (never a stack trace, never a blank page), or the way back to sign-in. Errors that belong
//! to a form field are not here: the form is shown again with the message next to the field.
//! A 5xx cause is logged, never shown.

use askama::Template;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tollgate_app::{
    CreateSpaceError, CreateTokenError, GetSpaceError, GetTokenError, ListEventsError,
    ListSpacesError, ListTokensError, ResumeError, ResumeTokenError, RevokeTokenError,
    RotateTokenError, StoreError, SuspendTokenError, UpdateTokenError,
};

use crate::security::status_page;
use crate::BASE;

/// Why a page could not be served.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No session, or it ended: back to sign-in (with a notice when one ended).
    SignInRequired {
        /// A session existed and has ended.
        ended: bool,
    },
    /// A form sent from another site, or without this session's CSRF token.
    CrossSite,
    /// The signed-in actor may not do this.
    Forbidden(&'static str),
    /// No such space or token, or not one the actor may see.
    NotFound,
    /// A request no page of ours makes (a malformed form or query).
    BadRequest(&'static str),
    /// The token is no longer in a state where this can be done (it has ended).
    Conflict(&'static str),
    /// The store cannot be reached.
    StoreUnavailable,
    /// The request took too long.
    Timeout,
    /// Our fault; the cause was logged.
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: &'static str,
    nav: Option<crate::view::Nav>,
}

impl PageError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::SignInRequired { .. } => (StatusCode::SEE_OTHER, "", ""),
            Self::CrossSite => (
                StatusCode::FORBIDDEN,
                "Request refused",
                "This form was not sent from this console's own page, so nothing was changed. \
                 Open the page again and send the form from there.",
            ),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, "Not allowed", message),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page, space or token, or you may not see it.",
            ),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "Bad request", message),
            Self::Conflict(message) => (StatusCode::CONFLICT, "Not possible now", message),
            Self::StoreUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "The token store cannot be reached right now, so nothing was changed. \
                 Try again in a moment.",
            ),
            Self::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "The request took too long. Check the list before trying again: the change \
                 may have been made.",
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Try again; if it keeps happening, tell \
                 your operator (the details are in the server's log).",
            ),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Self::SignInRequired { ended } = self {
            let to = if ended {
                format!("{BASE}/sign-in?ended=1")
            } else {
                format!("{BASE}/sign-in")
            };
            return see_other(&to);
        }
        let (status, title, message) = self.parts();
        let page = ErrorPage {
            title,
            message,
            nav: None,
        };
        match page.render() {
            Ok(body) => status_page(status, body),
            Err(error) => {
                tracing::error!(%error, "the error page did not render");
                (status, message).into_response()
            }
        }
    }
}

/// `303 See Other` to a console path.
pub(crate) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(%error, "the store is unavailable");
            Self::StoreUnavailable
        } else {
            tracing::error!(error = ?error, "the store failed");
            Self::Internal
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        tracing::error!(%error, "a page did not render");
        Self::Internal
    }
}

impl From<ResumeError> for PageError {
    fn from(error: ResumeError) -> Self {
        match error {
            ResumeError::Ended => Self::SignInRequired { ended: true },
            ResumeError::Store(e) => e.into(),
        }
    }
}

/// Maps each service error enum: the store as [`From<StoreError>`] says, the not-found cases,
/// the forbidden ones with their sentence. Anything else (a field's error) a handler matches
/// itself before converting; what is left is our bug.
macro_rules! page_errors {
    ($($error:ident { $($variant:ident => $page:expr),* $(,)? })*) => {$(
        impl From<$error> for PageError {
            fn from(error: $error) -> Self {
                match error {
                    $error::Store(e) => e.into(),
                    $($error::$variant { .. } => $page,)*
                    #[allow(unreachable_patterns)]
                    other => {
                        tracing::error!(error = ?other, "unexpected service error");
                        Self::Internal
                    }
                }
            }
        }
    )*};
}

impl From<tollgate_app::ports::HashError> for PageError {
    fn from(error: tollgate_app::ports::HashError) -> Self {
        tracing::error!(%error, "the hasher failed");
        Self::Internal
    }
}

/// A page link whose cursor belongs to another listing (another space or filter), or that no
/// page of ours made.
pub(crate) const BAD_PAGE_LINK: PageError = PageError::BadRequest("That page link is not valid.");

page_errors! {
    ListSpacesError { InvalidCursor => BAD_PAGE_LINK }
    GetSpaceError { NotFound => Self::NotFound }
    CreateSpaceError { Forbidden => Self::Forbidden("Only an instance admin creates spaces.") }
    ListTokensError {
        SpaceNotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not read this space's tokens."),
        InvalidCursor => BAD_PAGE_LINK,
    }
    GetTokenError { SpaceNotFound => Self::NotFound, NotFound => Self::NotFound }
    RevokeTokenError {
        SpaceNotFound => Self::NotFound,
        NotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not revoke this token."),
        LastInstanceAdmin => Self::Conflict("This is the last active instance admin token, so it cannot be revoked."),
    }
    RotateTokenError {
        SpaceNotFound => Self::NotFound,
        NotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not rotate this token: rotating needs the right to create a token of its level and to revoke it."),
    }
    UpdateTokenError {
        SpaceNotFound => Self::NotFound,
        NotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not edit this token: editing needs the right to create a token of its level and to revoke it."),
        Ended => Self::Conflict("This token has ended (revoked, expired or rotated), so it can no longer be edited."),
    }
    SuspendTokenError {
        SpaceNotFound => Self::NotFound,
        NotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not suspend this token: suspending needs the right to revoke it."),
        Ended => Self::Conflict("This token has ended (revoked, expired or rotated), so it can no longer be suspended."),
    }
    ResumeTokenError {
        SpaceNotFound => Self::NotFound,
        NotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not resume this token: resuming needs the right to revoke it."),
        Ended => Self::Conflict("This token has ended (revoked, expired or rotated), so it can no longer be resumed."),
    }
    ListEventsError {
        SpaceNotFound => Self::NotFound,
        Forbidden => Self::Forbidden("Reading a space's events needs READ_ADMIN_API_TOKEN."),
        InvalidCursor => BAD_PAGE_LINK,
    }
    CreateTokenError {
        SpaceNotFound => Self::NotFound,
        Forbidden => Self::Forbidden("You may not create tokens of that level in this space."),
    }
}
