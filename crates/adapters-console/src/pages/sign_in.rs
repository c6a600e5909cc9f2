//! Signing in with a pasted token, and signing out.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tollgate_app::{SessionId, SignInError};

use super::render;
use crate::auth::{
    clear_cookie, client_address, read_cookie, read_form, session_cookie, set_cookie,
    sign_in_cookie, SignedForm,
};
use crate::error::{see_other, PageError};
use crate::forms::{SignInForm, SignInQuery, SignOutForm};
use crate::origin::is_same_origin;
use crate::view::Nav;
use crate::{ConsoleState, BASE};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// Renders the sign-in form with a fresh pre-session cookie.
fn sign_in_page(
    state: &ConsoleState,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let pre_session = SessionId::generate()?;
    let page = SignInPage {
        title: "Sign in",
        nav: None,
        csrf: pre_session.csrf_token(),
        notice,
        error,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    set_cookie(
        &mut response,
        &state.config,
        sign_in_cookie(&state.config),
        &pre_session.to_cookie_value(),
    );
    Ok(response)
}

/// `GET /admin/sign-in`.
pub(crate) async fn page(
    State(state): State<ConsoleState>,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let ended = query.is_ok_and(|Query(q)| q.ended.is_some());
    let notice = ended.then_some("Your session has ended. Sign in again to go on.");
    sign_in_page(&state, StatusCode::OK, notice, None)
}

/// `POST /admin/sign-in`: from this origin, with the sign-in form's CSRF token, then the
/// token, under the same brute-force limits as the REST API.
pub(crate) async fn submit(
    State(state): State<ConsoleState>,
    request: Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    if !is_same_origin(&parts.headers, state.config.public_url.as_ref()) {
        return Err(PageError::CrossSite);
    }
    let pre_session =
        read_cookie(&parts.headers, sign_in_cookie(&state.config)).and_then(SessionId::parse);
    let address = client_address(&parts, &state.config);
    let previous =
        read_cookie(&parts.headers, session_cookie(&state.config)).and_then(SessionId::parse);
    let form: SignInForm = read_form(Request::from_parts(parts, body), &state).await?;
    if !pre_session.is_some_and(|p| p.is_csrf_token(&form.csrf)) {
        return sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("The sign-in form had expired. Paste your token again."),
            None,
        );
    }
    let token = form.token.trim();
    if token.is_empty() {
        return sign_in_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some("Paste an admin token to sign in.".to_owned()),
        );
    }
    match state.sessions.sign_in(token, address).await {
        Ok((id, signed_in)) => {
            // The session this browser had before ends: one browser, one session.
            if let Some(previous) = previous {
                state.sessions.sign_out(&previous).await?;
            }
            let to = match signed_in.actor.space_id() {
                Some(space) => crate::view::tokens_url(space),
                None => format!("{BASE}/spaces"),
            };
            let mut response = see_other(&to);
            set_cookie(
                &mut response,
                &state.config,
                session_cookie(&state.config),
                &id.to_cookie_value(),
            );
            clear_cookie(&mut response, &state.config, sign_in_cookie(&state.config));
            Ok(response)
        }
        Err(SignInError::Invalid) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            None,
            Some(
                "That token does not work: it is mistyped, unknown, expired or revoked.".to_owned(),
            ),
        ),
        Err(SignInError::ClientToken) => sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            None,
            Some(
                "A client token cannot sign in to the console. Sign in with a space admin \
                 token (tga_…) or an instance admin token (tgi_…)."
                    .to_owned(),
            ),
        ),
        Err(SignInError::TooManyFailures { retry_after_secs }) => {
            let mut response = sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some(format!(
                    "Too many failed sign-ins. Try again in {retry_after_secs} seconds."
                )),
            )?;
            if let Ok(value) = retry_after_secs.to_string().parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(SignInError::Store(error)) => Err(error.into()),
    }
}

/// `POST /admin/sign-out`: ends the session here and in the store.
pub(crate) async fn sign_out(
    State(state): State<ConsoleState>,
    SignedForm { signed, .. }: SignedForm<SignOutForm>,
) -> Result<Response, PageError> {
    state.sessions.sign_out(&signed.id).await?;
    let mut response = see_other(&format!("{BASE}/sign-in"));
    clear_cookie(&mut response, &state.config, session_cookie(&state.config));
    Ok(response.into_response())
}
