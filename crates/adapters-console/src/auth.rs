//! Who is asking: the session cookie, the signed-in actor it leads to, and the checks every
//! state-changing form passes (same origin, then the session, then its CSRF token).
//!
//! Cookies are `HttpOnly; SameSite=Strict; Path=/`, and, when `TOLLGATE_PUBLIC_URL` is https,
//! `Secure` with the `__Host-` prefix (so no other host or path can set them). The session
//! cookie holds the session id; the sign-in form's cookie holds a pre-session value whose
//! derived CSRF token the form carries. Neither ever holds a token string.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use serde::de::DeserializeOwned;
use tollgate_app::{SessionId, SignedIn};
use tollgate_domain::Actor;

use crate::error::PageError;
use crate::forms::CsrfField;
use crate::origin::is_same_origin;
use crate::view::Nav;
use crate::{ConsoleConfig, ConsoleState};

/// The session cookie's name.
pub(crate) fn session_cookie(config: &ConsoleConfig) -> &'static str {
    if secure(config) {
        "__Host-tollgate_session"
    } else {
        "tollgate_session"
    }
}

/// The sign-in form's cookie's name.
pub(crate) fn sign_in_cookie(config: &ConsoleConfig) -> &'static str {
    if secure(config) {
        "__Host-tollgate_sign_in"
    } else {
        "tollgate_sign_in"
    }
}

fn secure(config: &ConsoleConfig) -> bool {
    config.public_url.as_ref().is_some_and(|u| u.is_https())
}

/// Sets cookie `name` to `value` for the browser's session (no `Max-Age`: the server ends the
/// session, the browser forgets the cookie when it closes).
pub(crate) fn set_cookie(response: &mut Response, config: &ConsoleConfig, name: &str, value: &str) {
    let secure = if secure(config) { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Tells the browser to forget cookie `name`.
pub(crate) fn clear_cookie(response: &mut Response, config: &ConsoleConfig, name: &str) {
    let secure = if secure(config) { "; Secure" } else { "" };
    let cookie = format!("{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// The value of cookie `name`, if the request has it.
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The address a request comes from, for the brute-force limits: the TCP peer, or behind
/// trusted proxies what they say, by the core's one rule.
pub(crate) fn client_address(parts: &Parts, config: &ConsoleConfig) -> Option<IpAddr> {
    let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(config.trusted_proxies.client_address(peer.ip(), forwarded))
}

/// A request with a live session.
#[derive(Debug)]
pub(crate) struct Signed {
    pub id: SessionId,
    pub signed_in: SignedIn,
}

impl Signed {
    pub(crate) const fn actor(&self) -> &Actor {
        &self.signed_in.actor
    }

    pub(crate) fn csrf(&self) -> String {
        self.id.csrf_token()
    }

    pub(crate) fn nav(&self) -> Nav {
        Nav::new(self.actor(), self.csrf())
    }
}

impl FromRequestParts<ConsoleState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, PageError> {
        let id = read_cookie(&parts.headers, session_cookie(&state.config))
            .and_then(SessionId::parse)
            .ok_or(PageError::SignInRequired { ended: false })?;
        let signed_in = state.sessions.resume(&id).await?;
        Ok(Self { id, signed_in })
    }
}

/// A form sent from a signed-in page of this console: from the console's own origin, with a
/// live session, and with that session's CSRF token. A forged request is refused before the
/// session is even looked up, and changes nothing.
#[derive(Debug)]
pub(crate) struct SignedForm<T> {
    pub signed: Signed,
    pub form: T,
}

impl<T> FromRequest<ConsoleState> for SignedForm<T>
where
    T: DeserializeOwned + CsrfField + Send,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        if !is_same_origin(&parts.headers, state.config.public_url.as_ref()) {
            tracing::info!("console form refused: not from the console's origin");
            return Err(PageError::CrossSite);
        }
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let form = read_form::<T>(Request::from_parts(parts, body), state).await?;
        if !signed.id.is_csrf_token(form.csrf()) {
            tracing::info!("console form refused: wrong CSRF token");
            return Err(PageError::CrossSite);
        }
        Ok(Self { signed, form })
    }
}

/// A form body; one our pages did not make is a 400 page (its text is never echoed).
pub(crate) async fn read_form<T: DeserializeOwned>(
    request: Request,
    state: &ConsoleState,
) -> Result<T, PageError> {
    Form::<T>::from_request(request, state)
        .await
        .map(|Form(form)| form)
        .map_err(|_| {
            PageError::BadRequest(
                "The form could not be read. Open the page again and send it from there.",
            )
        })
}
