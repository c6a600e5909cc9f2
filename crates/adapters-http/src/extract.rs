//! Extractors whose rejections speak problem+json: [`ApiJson`] for bodies (and
//! `Option<ApiJson<T>>` for optional ones), [`ApiPath`] and [`ApiQuery`] for the URL, and
//! [`Authenticated`], which verifies the presented token, under the brute-force limits, and
//! yields the actor.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Query, Request};
use axum::http::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use tollgate_app::auth_limits::LimitedVerifyError;
use tollgate_app::{
    Malformed, PresentedToken, TokenService, TrustedProxies, Usage, VerifiedToken, Verifier,
    VerifyTokenError,
};
use tollgate_domain::Actor;

use crate::error::{redact_tokens, ApiError, ErrorCode};
use crate::middleware::body_limit;
use crate::rate_limit::{client_address, AuthLimits};
use crate::{AppState, TOKEN_HEADER};

/// What [`Authenticated`] can answer: no token, a refused token, two different tokens, the
/// brute-force limits, and a store that fails while the token is verified.
pub(crate) const AUTH_CODES: &[ErrorCode] = &[
    ErrorCode::Unauthenticated,
    ErrorCode::InvalidToken,
    ErrorCode::ConflictingTokens,
    ErrorCode::TooManyRequests,
    ErrorCode::Internal,
    ErrorCode::StoreUnavailable,
    // `X-Tollgate-Act-As` (see [`crate::act_as`]).
    ErrorCode::InvalidActAs,
    ErrorCode::ActAsForbidden,
];

/// What [`ApiJson`] (and `Option<ApiJson<T>>`) can answer, before the body is converted into a
/// command.
pub(crate) const BODY_CODES: &[ErrorCode] = &[
    ErrorCode::UnsupportedMediaType,
    ErrorCode::BadRequest,
    ErrorCode::PayloadTooLarge,
    ErrorCode::MalformedJson,
    ErrorCode::InvalidBody,
];

/// What [`ApiPath`] can answer: an id that is not a UUID, or (our bug) a parameter routing did
/// not provide.
pub(crate) const PATH_CODES: &[ErrorCode] = &[ErrorCode::InvalidId, ErrorCode::Internal];

/// What [`ApiQuery`] can answer, before the parameters are converted into a command.
pub(crate) const QUERY_CODES: &[ErrorCode] = &[ErrorCode::InvalidQuery];

/// A JSON request body. Refuses a content type other than `application/json` (415), a body
/// over the route's limit (413; 64 KiB but for leak reports), broken JSON (400 `malformed_json`) and JSON of the wrong shape: unknown,
/// missing or mistyped fields (422 `invalid_body`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(unsupported_media_type());
        }
        let limit = body_limit(&req);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(&e, limit))?;
        parse_json(&bytes).map(Self)
    }
}

/// An optional JSON body: `None` for a request without one (no body, or an empty one, with
/// any `Content-Type` or none), so that `curl -X POST` with no `-d` works, and for a JSON
/// `null`. A body that is sent
/// is held to every rule of [`ApiJson`].
impl<S, T> OptionalFromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let json = is_json(req.headers());
        let limit = body_limit(&req);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(&e, limit))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(unsupported_media_type());
        }
        // JSON `null` is no body too: what a client sends for an absent optional value.
        if bytes.trim_ascii() == b"null" {
            return Ok(None);
        }
        parse_json(&bytes).map(|value| Some(Self(value)))
    }
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "Send the body as JSON with `Content-Type: application/json`.",
    )
}

/// Every request body of this API is a JSON object. serde would also fill a struct from an
/// array of its fields in order (`[60]` for `{"grace_period_seconds": 60}`); that is refused.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = serde_json::from_slice(bytes).map_err(|e| json_rejection(&e))?;
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "The JSON body must be an object.",
        ));
    }
    Ok(value)
}

/// `application/json` or any `application/*+json`, parameters (such as `charset`) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

fn body_rejection(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        payload_too_large(limit)
    } else {
        ApiError::new(ErrorCode::BadRequest, "The request body could not be read.")
    }
}

/// 413 for a body over `limit` bytes (the route's [`body_limit`]).
pub(crate) fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body must be at most {} KiB.", limit / 1024),
    )
}

fn json_rejection(error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    // serde's messages may quote the caller's values; a token pasted into a field is redacted.
    let message = redact_tokens(&error.to_string());
    match error.classify() {
        Category::Data => ApiError::new(
            ErrorCode::InvalidBody,
            format!("The JSON body does not have the expected shape: {message}."),
        ),
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            ErrorCode::MalformedJson,
            format!("The body is not valid JSON: {message}."),
        ),
    }
}

/// Path parameters. Every path parameter of this API is an id, so a value that does not
/// deserialize is a 400 `invalid_id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => {
            let key = match e.kind() {
                ErrorKind::ParseErrorAtKey { key, .. }
                | ErrorKind::InvalidUtf8InPathParam { key }
                | ErrorKind::DeserializeError { key, .. } => Some(key.as_str()),
                _ => None,
            };
            let detail = key.map_or_else(
                || "Every id in the path must be a UUID.".to_owned(),
                |key| format!("`{key}` must be a UUID."),
            );
            ApiError::new(ErrorCode::InvalidId, detail)
        }
        // Routing guarantees the parameters exist; if not, it is our bug, not the caller's.
        other => ApiError::internal(other.body_text()),
    }
}

/// Query parameters. A query string that does not fit `T` is a 400 `invalid_query`; the
/// conversion of `T` into a command reports the finer codes (`invalid_limit`, `invalid_cursor`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some(key) = repeated_parameter(query) {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!(
                    "`{}` is given more than once; give each parameter once (several statuses \
                     go in one, comma-separated: `status=revoked,expired`).",
                    redact_tokens(&key)
                ),
            ));
        }
        let joined;
        let uri = match joined_lists(query) {
            Some(query) => {
                joined = format!("/?{query}")
                    .parse::<axum::http::Uri>()
                    .map_err(|_| {
                        ApiError::new(ErrorCode::InvalidQuery, "The query string is not valid.")
                    })?;
                &joined
            }
            None => &parts.uri,
        };
        Query::<T>::try_from_uri(uri)
            .map(|Query(value)| Self(value))
            .map_err(|rejection| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!(
                        "The query string is not valid: {}.",
                        redact_tokens(&rejection.body_text())
                    ),
                )
            })
    }
}

/// The parameters whose value is a comma-separated list (`style: form, explode: false` in the
/// document). Repeating one adds to its list, so that `status=revoked&status=expired` means
/// `status=revoked,expired`: what clients send that ignore `explode: false`
/// (openapi-python-client does).
const LIST_PARAMETERS: &[&str] = &["status"];

/// The first parameter name but a list's that appears twice in `query` (decoded), if any:
/// serde would answer that in its own words ("duplicate field").
fn repeated_parameter(query: &str) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, _)| key)
        .filter(|key| !LIST_PARAMETERS.contains(&key.as_ref()))
        .find(|key| !seen.insert(key.clone()))
        .map(std::borrow::Cow::into_owned)
}

/// `query` with each repeated list parameter given once, its values joined by commas in the
/// order sent; `None` when no list parameter is repeated (the query is read as it is).
fn joined_lists(query: &str) -> Option<String> {
    let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    let repeated = LIST_PARAMETERS
        .iter()
        .any(|list| pairs.iter().filter(|(key, _)| key == list).count() > 1);
    if !repeated {
        return None;
    }
    let mut joined: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match joined.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => {
                values.push(',');
                values.push_str(&value);
            }
            None => joined.push((key.into_owned(), value.into_owned())),
        }
    }
    Some(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(joined)
            .finish(),
    )
}

/// The verified token behind a request, from the `x-undb-api-token` header or
/// `Authorization: Bearer <token>`.
///
/// - no token: 401 `unauthenticated`;
/// - a malformed, unknown, expired or revoked token: 401 `invalid_token`, one answer for all;
/// - both headers with different tokens: 400 `conflicting_tokens` (the same token in both is
///   fine). An `Authorization` header of another scheme (`Basic`, say) is ignored, so a proxy's
///   own credentials do not get in the way of `x-undb-api-token`;
/// - the client address or the token id over its limit of failed authentications (with the
///   router's limits, see [`HttpConfig`](crate::HttpConfig)): 429 `too_many_requests` with
///   `Retry-After`, before the token is verified;
/// - the store unreachable: 503 `store_unavailable`;
/// - an `X-Tollgate-Act-As` header (see [`crate::act_as`]) from a token other than an instance
///   admin token: 403 `act_as_forbidden`; a malformed one: 400 `invalid_act_as`. With a valid
///   one, the actor is the member it names.
#[derive(Debug, Clone)]
pub struct Authenticated(pub VerifiedToken);

impl Authenticated {
    /// Whom the token acts as.
    #[must_use]
    pub const fn actor(&self) -> &Actor {
        &self.0.actor
    }

    /// The token and its actor.
    #[must_use]
    pub const fn verified(&self) -> &VerifiedToken {
        &self.0
    }
}

/// What [`Authenticated`] needs from a router's state: the service that verifies tokens and,
/// optionally, the brute-force limits. Borrowed, not cloned: this runs on every request.
pub trait AuthState: Send + Sync {
    /// The service that verifies tokens.
    fn token_service(&self) -> &TokenService;

    /// The limits on failed authentications, if any. The router built by
    /// [`router_with`](crate::router_with) has them as its configuration says.
    fn auth_limits(&self) -> Option<&AuthLimits> {
        None
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed (none: the header is ignored).
    fn trusted_proxies(&self) -> &TrustedProxies {
        &TrustedProxies::NONE
    }
}

/// [`AppState`] alone verifies tokens without limits.
impl AuthState for AppState {
    fn token_service(&self) -> &TokenService {
        &self.tokens
    }
}

impl<S: AuthState> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let verified = Self::verify_token(parts, state).await?;
        crate::act_as::apply(&parts.headers, verified).map(Self)
    }
}

impl Authenticated {
    /// The verified token the request presents, under the brute-force limits.
    async fn verify_token<S: AuthState>(
        parts: &Parts,
        state: &S,
    ) -> Result<VerifiedToken, ApiError> {
        // A value that is not visible ASCII cannot be a token: it is verified as the empty
        // string, which fails like any junk (and counts like it).
        let presented = match presented_token(&parts.headers) {
            Presented::One(token) => token,
            Presented::Unreadable => "",
            Presented::None => return Err(ApiError::unauthenticated()),
            Presented::Conflicting => {
                return Err(ApiError::new(
                    ErrorCode::ConflictingTokens,
                    "The request carries two different tokens; send exactly one, in \
                     `x-undb-api-token` or as `Authorization: Bearer <token>`.",
                ));
            }
        };
        // Parsed once: the limits need its id, the verifier the rest.
        let presented = PresentedToken::parse(presented);
        let verifier = state.token_service().verifier();
        // By the trusted-proxy rules: what failures count against, and the use's
        // `last_used_ip`.
        let address = client_address(parts, state.trusted_proxies());
        let Some(limits) = state.auth_limits() else {
            return verify(verifier, presented.as_ref(), address).await;
        };
        match limits.verify(verifier, address, presented.as_ref()).await {
            Ok(verified) => Ok(verified),
            Err(LimitedVerifyError::TooManyFailures { retry_after_secs }) => {
                Err(ApiError::too_many_requests(retry_after_secs))
            }
            Err(LimitedVerifyError::Verify(VerifyTokenError::Invalid)) => {
                Err(ApiError::invalid_token())
            }
            Err(LimitedVerifyError::Verify(error)) => Err(error.into()),
        }
    }
}

/// The client address a request comes from, by the trusted-proxy rules, whether or not the
/// brute-force limits count addresses (`None` when the server provides no peer address).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestAddress(pub(crate) Option<IpAddr>);

impl<S: AuthState> FromRequestParts<S> for RequestAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_address(parts, state.trusted_proxies())))
    }
}

/// What the verifier says of a presented string used from `address`: junk is refused without
/// verifying.
async fn verifier_outcome(
    verifier: &Verifier,
    presented: Result<&PresentedToken, &Malformed>,
    address: Option<IpAddr>,
) -> Result<VerifiedToken, VerifyTokenError> {
    match presented {
        Ok(presented) => {
            verifier
                .verify_presented(presented, Usage::From(address))
                .await
        }
        Err(malformed) => Err(verifier.refuse_malformed(*malformed)),
    }
}

async fn verify(
    verifier: &Verifier,
    presented: Result<&PresentedToken, &Malformed>,
    address: Option<IpAddr>,
) -> Result<VerifiedToken, ApiError> {
    match verifier_outcome(verifier, presented, address).await {
        Ok(verified) => Ok(verified),
        // The common failure gets the one canned answer, without a detour through `From`.
        Err(VerifyTokenError::Invalid) => Err(ApiError::invalid_token()),
        Err(error) => Err(error.into()),
    }
}

static TOKEN_HEADER_NAME: HeaderName = HeaderName::from_static(TOKEN_HEADER);

/// What the request's token headers hold.
#[derive(Debug, PartialEq, Eq)]
enum Presented<'a> {
    /// No token.
    None,
    /// One token (perhaps in both headers).
    One(&'a str),
    /// Two different tokens.
    Conflicting,
    /// An `x-undb-api-token` value that is not visible ASCII.
    Unreadable,
}

/// The one token the request presents, if any. Allocates nothing: this runs on every request,
/// junk included.
fn presented_token(headers: &HeaderMap) -> Presented<'_> {
    let mut found: Option<&str> = None;
    let from_header = headers.get_all(&TOKEN_HEADER_NAME).iter().map(|value| {
        value
            .to_str()
            .map(str::trim)
            .map_err(|_| Presented::Unreadable)
    });
    let from_bearer = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok().and_then(bearer_token))
        .map(Ok);
    for candidate in from_header.chain(from_bearer) {
        let candidate = match candidate {
            // An empty value (`Authorization: Bearer `, a blank `x-undb-api-token`) presents no
            // token: it neither conflicts with the other header nor counts as a token.
            Ok("") => continue,
            Ok(candidate) => candidate,
            Err(unreadable) => return unreadable,
        };
        match found {
            Some(seen) if seen != candidate => return Presented::Conflicting,
            _ => found = Some(candidate),
        }
    }
    found.map_or(Presented::None, Presented::One)
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive), or `None`
/// for another scheme.
fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn authentication_declares_every_code_verification_can_become() {
        use crate::error::ErrorCodes;
        for code in <VerifyTokenError as ErrorCodes>::CODES {
            assert!(AUTH_CODES.contains(code), "{code}");
        }
    }

    #[test]
    fn an_empty_header_presents_no_token_and_conflicts_with_nothing() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Bearer ")]);
        assert_eq!(presented_token(&map), Presented::One("tgc_x"));
        let map = headers(&[(TOKEN_HEADER, " "), ("authorization", "Bearer tgc_y")]);
        assert_eq!(presented_token(&map), Presented::One("tgc_y"));
        let map = headers(&[("authorization", "Bearer")]);
        assert_eq!(presented_token(&map), Presented::None);
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_are_ignored() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc  "), Some("abc"));
        assert_eq!(bearer_token("Bearer"), Some(""));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }

    #[test]
    fn the_same_token_in_both_headers_is_one_token() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Bearer tgc_x")]);
        assert_eq!(presented_token(&map), Presented::One("tgc_x"));
        let map = headers(&[(TOKEN_HEADER, " tgc_x "), (TOKEN_HEADER, "tgc_x")]);
        assert_eq!(presented_token(&map), Presented::One("tgc_x"));
    }

    #[test]
    fn different_tokens_in_the_two_headers_conflict() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Bearer tgc_y")]);
        assert_eq!(presented_token(&map), Presented::Conflicting);
    }

    #[test]
    fn a_basic_authorization_header_does_not_hide_the_token_header() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Basic abc")]);
        assert_eq!(presented_token(&map), Presented::One("tgc_x"));
        assert_eq!(
            presented_token(&headers(&[("authorization", "Basic abc")])),
            Presented::None
        );
    }

    #[test]
    fn a_token_header_that_is_not_visible_ascii_is_unreadable() {
        let mut map = HeaderMap::new();
        map.append(TOKEN_HEADER, HeaderValue::from_bytes(b"tgc_\xff").unwrap());
        map.append("authorization", HeaderValue::from_static("Bearer tgc_y"));
        assert_eq!(presented_token(&map), Presented::Unreadable);
    }

    #[test]
    fn json_content_types_are_recognised() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&headers(&[("content-type", ok)])), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
        ] {
            assert!(!is_json(&headers(&[("content-type", bad)])), "{bad}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
