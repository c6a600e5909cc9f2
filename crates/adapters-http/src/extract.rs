//! Extractors whose rejections speak problem+json: [`ApiJson`] for bodies, [`ApiPath`] and
//! [`ApiQuery`] for the URL, and [`Authenticated`], which verifies the presented token and
//! yields the actor.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use tollgate_app::{TokenService, VerifiedToken};
use tollgate_domain::Actor;

use crate::error::{redact_tokens, ApiError, ErrorCode};
use crate::{BODY_LIMIT_BYTES, TOKEN_HEADER};

/// A JSON request body. Refuses a content type other than `application/json` (415), a body
/// over 64 KiB (413), broken JSON (400 `malformed_json`) and JSON of the wrong shape: unknown,
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
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(&e))?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| json_rejection(&e))
    }
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

fn body_rejection(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        payload_too_large()
    } else {
        ApiError::new(ErrorCode::BadRequest, "The request body could not be read.")
    }
}

/// 413 for a body over [`BODY_LIMIT_BYTES`].
pub(crate) fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "The request body must be at most {} KiB.",
            BODY_LIMIT_BYTES / 1024
        ),
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
        Query::<T>::try_from_uri(&parts.uri)
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

/// The verified token behind a request, from the `x-undb-api-token` header or
/// `Authorization: Bearer <token>`.
///
/// - no token: 401 `unauthenticated`;
/// - a malformed, unknown, expired or revoked token: 401 `invalid_token`, one answer for all;
/// - both headers with different tokens: 400 `conflicting_tokens` (the same token in both is
///   fine). An `Authorization` header of another scheme (`Basic`, say) is ignored, so a proxy's
///   own credentials do not get in the way of `x-undb-api-token`;
/// - the store unreachable: 503 `store_unavailable`.
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

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    TokenService: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let presented = presented_token(&parts.headers)?.ok_or_else(ApiError::unauthenticated)?;
        let verified = TokenService::from_ref(state).verify(presented).await?;
        Ok(Self(verified))
    }
}

/// The one token the request presents, if any.
fn presented_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut candidates = Vec::new();
    for value in headers.get_all(TOKEN_HEADER) {
        // A value that is not visible ASCII cannot be a token.
        let token = value.to_str().map_err(|_| ApiError::invalid_token())?;
        candidates.push(token.trim());
    }
    for value in headers.get_all(AUTHORIZATION) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        if let Some(token) = bearer_token(value) {
            candidates.push(token);
        }
    }
    let mut found: Option<&str> = None;
    for candidate in candidates {
        match found {
            Some(seen) if seen != candidate => {
                return Err(ApiError::new(
                    ErrorCode::ConflictingTokens,
                    "The request carries two different tokens; send exactly one, in \
                     `x-undb-api-token` or as `Authorization: Bearer <token>`.",
                ));
            }
            _ => found = Some(candidate),
        }
    }
    Ok(found)
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
        assert_eq!(presented_token(&map).unwrap(), Some("tgc_x"));
    }

    #[test]
    fn different_tokens_in_the_two_headers_conflict() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Bearer tgc_y")]);
        assert_eq!(
            presented_token(&map).unwrap_err().code(),
            ErrorCode::ConflictingTokens
        );
    }

    #[test]
    fn a_basic_authorization_header_does_not_hide_the_token_header() {
        let map = headers(&[(TOKEN_HEADER, "tgc_x"), ("authorization", "Basic abc")]);
        assert_eq!(presented_token(&map).unwrap(), Some("tgc_x"));
        assert_eq!(
            presented_token(&headers(&[("authorization", "Basic abc")])).unwrap(),
            None
        );
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
