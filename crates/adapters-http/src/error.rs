//! [`ApiError`]: every failure the API answers, as an RFC 9457 `application/problem+json`
//! document with a stable machine-readable `code`. Each application error maps to it by an
//! explicit `From`; 5xx causes are logged with their cause chain and never sent.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::LazyLock;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_app::ports::HashError;
use tollgate_app::{
    CreateSpaceError, CreateTokenError, CursorError, GetSpaceError, GetTokenError, ListEventsError,
    ListSpacesError, ListTokensError, PageLimitError, RevokeTokenError, RotateTokenError,
    StoreError, VerifyTokenError,
};
use tollgate_domain::{NameError, TokenKind, TokenLevel, TokenLevelError};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Where problem `type` URIs start; the code follows.
const PROBLEM_TYPE_BASE: &str = "https://tollgate.dev/problems/";

/// The one detail for every rejected token, whatever the reason (malformed, unknown, expired,
/// revoked, wrong secret): the reason is logged, never told to the caller.
const INVALID_TOKEN_DETAIL: &str = "The token is not valid: it is malformed, unknown, expired or \
                                    revoked.";

/// The one detail of every 429: the wait is in `Retry-After`, so the body never changes.
const TOO_MANY_REQUESTS_DETAIL: &str = "Too many failed authentications from this client \
    address or for this token; wait for the number of seconds in the `Retry-After` header.";

/// The detail of every 401 `unauthenticated`.
const UNAUTHENTICATED_DETAIL: &str =
    "Send a token in the `x-undb-api-token` header or as `Authorization: Bearer <token>`.";

/// The longest `Retry-After` the API sends, in seconds: no limit ever blocks for longer than
/// one replenish interval, which is at most a minute.
pub(crate) const MAX_RETRY_AFTER_SECS: u64 = 60;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:ident, $title:literal),)+) => {
        /// The stable, machine-readable `code` of a problem. Clients match on it; the `detail`
        /// text may change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the documentation's table.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The code as sent in the `code` member, e.g. `invalid_token`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// The HTTP status answered with this code.
            #[must_use]
            pub const fn status(self) -> StatusCode {
                match self { $(Self::$variant => StatusCode::$status,)+ }
            }

            /// A short, fixed summary of the problem (the `title` member).
            #[must_use]
            pub const fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)+ }
            }
        }
    };
}

error_codes! {
    /// The request could not be read (a body cut short, say).
    BadRequest = ("bad_request", BAD_REQUEST, "Bad request"),
    /// The body is not syntactically valid JSON.
    MalformedJson = ("malformed_json", BAD_REQUEST, "Malformed JSON"),
    /// A path id is not a UUID.
    InvalidId = ("invalid_id", BAD_REQUEST, "Invalid id"),
    /// `limit` is not a whole number from 1 to 100.
    InvalidLimit = ("invalid_limit", BAD_REQUEST, "Invalid limit"),
    /// `cursor` is not one this service handed out.
    InvalidCursor = ("invalid_cursor", BAD_REQUEST, "Invalid cursor"),
    /// Another query parameter is invalid (an unknown `level` or `status` filter, a repeated
    /// parameter).
    InvalidQuery = ("invalid_query", BAD_REQUEST, "Invalid query parameter"),
    /// A token was sent in the query string.
    TokenInQuery = ("token_in_query", BAD_REQUEST, "Token in query string"),
    /// The two token headers carry different tokens.
    ConflictingTokens = ("conflicting_tokens", BAD_REQUEST, "Conflicting tokens"),
    /// No token was sent.
    Unauthenticated = ("unauthenticated", UNAUTHORIZED, "Authentication required"),
    /// The token is malformed, unknown, expired, revoked, or rotated and past its grace period.
    InvalidToken = ("invalid_token", UNAUTHORIZED, "Invalid token"),
    /// The token is valid but lacks the permission.
    Forbidden = ("forbidden", FORBIDDEN, "Insufficient permission"),
    /// No route has this path.
    NotFound = ("not_found", NOT_FOUND, "Not found"),
    /// No such space, or not one the token may see.
    SpaceNotFound = ("space_not_found", NOT_FOUND, "Space not found"),
    /// No such token, or not one the caller may see.
    TokenNotFound = ("token_not_found", NOT_FOUND, "Token not found"),
    /// The path exists but not with this method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed"),
    /// Only an active token can be rotated; this one is revoked, expired or already rotated.
    TokenNotActive = ("token_not_active", CONFLICT, "Token not active"),
    /// The body is larger than 64 KiB.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE, "Payload too large"),
    /// The body is not sent as `application/json`.
    UnsupportedMediaType =
        ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    /// The JSON has an unknown field, a missing field or a value of the wrong type.
    InvalidBody = ("invalid_body", UNPROCESSABLE_ENTITY, "Invalid request body"),
    /// A name is empty, longer than 100 characters or holds control characters.
    InvalidName = ("invalid_name", UNPROCESSABLE_ENTITY, "Invalid name"),
    /// A level other than `client` or `admin`.
    InvalidLevel = ("invalid_level", UNPROCESSABLE_ENTITY, "Invalid level"),
    /// `expires_at` is not in the future.
    ExpiresAtNotInFuture =
        ("expires_at_not_in_future", UNPROCESSABLE_ENTITY, "Expiry not in the future"),
    /// `expires_at` is further away than the instance's maximum token lifetime.
    ExpiresAtBeyondMaximum =
        ("expires_at_beyond_maximum", UNPROCESSABLE_ENTITY, "Expiry beyond the maximum lifetime"),
    /// `grace_period_seconds` is not a whole number from 0 to 604800.
    InvalidGracePeriod = ("invalid_grace_period", UNPROCESSABLE_ENTITY, "Invalid grace period"),
    /// Too many failed authentications from this client address or for this token id; retry
    /// after the `Retry-After` header's seconds.
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS, "Too many failed authentications"),
    /// Something failed on the server; the cause is logged.
    Internal = ("internal", INTERNAL_SERVER_ERROR, "Internal error"),
    /// The token store cannot be reached now.
    StoreUnavailable = ("store_unavailable", SERVICE_UNAVAILABLE, "Store unavailable"),
    /// The request took longer than the configured timeout.
    Timeout = ("timeout", SERVICE_UNAVAILABLE, "Request timed out"),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Stable, machine-readable problem code."))
            .enum_values(Some(Self::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `https://tollgate.dev/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(example = "https://tollgate.dev/problems/invalid_token")]
    pub type_uri: String,
    /// A short summary, fixed per code.
    #[schema(example = "Invalid token")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 401)]
    pub status: u16,
    /// What went wrong in this request, written for the caller.
    pub detail: String,
    /// The stable machine-readable code.
    pub code: ErrorCode,
}

/// Why a request failed, ready to become a problem+json response.
///
/// The `detail` never contains a token, a secret or a hash. A server-side cause (for a 5xx) is
/// kept only to be logged.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: Cow<'static, str>,
    source: Option<BoxError>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A problem with this code and a detail written for the caller.
    #[must_use]
    pub fn new(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            detail: detail.into(),
            source: None,
            retry_after_secs: None,
        }
    }

    /// A server-side failure: the cause is logged with its chain, the caller gets an opaque
    /// detail.
    #[must_use]
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorCode::Internal,
            "The server failed to answer this request; the cause has been logged.",
        )
        .with_source(source)
    }

    /// The store is unreachable: 503, with the cause logged.
    #[must_use]
    pub fn store_unavailable(source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorCode::StoreUnavailable,
            "The token store is unavailable; try again later.",
        )
        .with_source(source)
    }

    /// No token was presented.
    #[must_use]
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, UNAUTHENTICATED_DETAIL)
    }

    /// The presented token was refused; one answer whatever the reason.
    #[must_use]
    pub fn invalid_token() -> Self {
        Self::new(ErrorCode::InvalidToken, INVALID_TOKEN_DETAIL)
    }

    /// The token lacks a permission.
    #[must_use]
    pub fn forbidden(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    /// Too many failed authentications: 429 with `Retry-After` (1 to 60 seconds).
    #[must_use]
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut error = Self::new(ErrorCode::TooManyRequests, TOO_MANY_REQUESTS_DETAIL);
        error.retry_after_secs = Some(retry_after_secs.clamp(1, MAX_RETRY_AFTER_SECS));
        error
    }

    /// The `Retry-After` seconds this answer carries, if any.
    #[must_use]
    pub const fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The problem code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The detail sent to the caller.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The problem document sent to the caller.
    #[must_use]
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.code.title().to_owned(),
            status: self.status().as_u16(),
            detail: self.detail.to_string(),
            code: self.code,
        }
    }

    /// The `WWW-Authenticate` challenge that goes with this code, if any (RFC 6750), always in
    /// the realm `tollgate`.
    fn challenge(&self) -> Option<&'static str> {
        match self.code {
            ErrorCode::Unauthenticated => Some("Bearer realm=\"tollgate\""),
            ErrorCode::InvalidToken => Some("Bearer realm=\"tollgate\", error=\"invalid_token\""),
            ErrorCode::Forbidden => Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\""),
            _ => None,
        }
    }

    fn log(&self) {
        if !self.status().is_server_error() {
            return;
        }
        let cause = self
            .source
            .as_deref()
            .map(|e| CauseChain(e).to_string())
            .unwrap_or_default();
        if self.code == ErrorCode::Internal {
            tracing::error!(code = %self.code, cause = %cause, "request failed");
        } else {
            tracing::warn!(code = %self.code, cause = %cause, "request failed");
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        // The answers a flood of bad or missing tokens gets are serialized once per process:
        // that path must cost little more than a health check.
        let body = match canned_body(self.code, &self.detail) {
            Some(body) => Bytes::from_static(body),
            None => Bytes::from(serialize_problem(&self.problem())),
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(challenge) = self.challenge() {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, retry_after_value(seconds));
        }
        response
    }
}

fn serialize_problem(problem: &Problem) -> Vec<u8> {
    serde_json::to_vec(problem).unwrap_or_else(|_| {
        // Serializing five plain members cannot fail; still, never panic on a response.
        br#"{"type":"about:blank","title":"Internal error","status":500,"code":"internal"}"#
            .to_vec()
    })
}

/// The body of a problem with one of the fixed details, serialized on first use.
fn canned_body(code: ErrorCode, detail: &str) -> Option<&'static [u8]> {
    static INVALID_TOKEN: LazyLock<Vec<u8>> =
        LazyLock::new(|| serialize_problem(&ApiError::invalid_token().problem()));
    static UNAUTHENTICATED: LazyLock<Vec<u8>> =
        LazyLock::new(|| serialize_problem(&ApiError::unauthenticated().problem()));
    static TOO_MANY_REQUESTS: LazyLock<Vec<u8>> =
        LazyLock::new(|| serialize_problem(&ApiError::too_many_requests(1).problem()));
    let canned: &'static LazyLock<Vec<u8>> = match code {
        ErrorCode::InvalidToken if detail == INVALID_TOKEN_DETAIL => &INVALID_TOKEN,
        ErrorCode::Unauthenticated if detail == UNAUTHENTICATED_DETAIL => &UNAUTHENTICATED,
        ErrorCode::TooManyRequests if detail == TOO_MANY_REQUESTS_DETAIL => &TOO_MANY_REQUESTS,
        _ => return None,
    };
    Some(canned.as_slice())
}

/// `Retry-After: <seconds>`, from a table built once (seconds are clamped to 1..=60).
fn retry_after_value(seconds: u64) -> HeaderValue {
    static VALUES: LazyLock<Vec<HeaderValue>> =
        LazyLock::new(|| (0..=MAX_RETRY_AFTER_SECS).map(HeaderValue::from).collect());
    let index = usize::try_from(seconds.clamp(1, MAX_RETRY_AFTER_SECS)).unwrap_or(1);
    VALUES
        .get(index)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(seconds))
}

/// Formats an error and its sources as `outer: inner: innermost`.
struct CauseChain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Replaces anything that looks like a token (a [`TokenKind`]'s prefix and what follows) with
/// `<redacted>`, for details that quote the caller's input.
pub(crate) fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, prefix)) = first_token_prefix(rest) {
        out.push_str(&rest[..at]);
        out.push_str("<redacted>");
        let tail = &rest[at + prefix.len()..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of the first token prefix in `text`, if any.
pub(crate) fn find_token_prefix(text: &str) -> Option<usize> {
    first_token_prefix(text).map(|(at, _)| at)
}

/// The first token prefix in `text`: its byte offset and the prefix.
fn first_token_prefix(text: &str) -> Option<(usize, &'static str)> {
    TokenKind::ALL
        .into_iter()
        .map(TokenKind::prefix)
        .filter_map(|prefix| text.find(prefix).map(|at| (at, prefix)))
        .min_by_key(|&(at, _)| at)
}

// --- application errors, each mapped explicitly -------------------------------------------

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            Self::store_unavailable(e)
        } else {
            Self::internal(e)
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        Self::internal(e)
    }
}

impl From<NameError> for ApiError {
    fn from(e: NameError) -> Self {
        Self::new(ErrorCode::InvalidName, format!("`name`: {e}."))
    }
}

impl From<TokenLevelError> for ApiError {
    fn from(e: TokenLevelError) -> Self {
        Self::new(ErrorCode::InvalidLevel, format!("`level`: {e}."))
    }
}

impl From<PageLimitError> for ApiError {
    fn from(e: PageLimitError) -> Self {
        Self::new(ErrorCode::InvalidLimit, format!("`limit`: {e}."))
    }
}

impl From<CursorError> for ApiError {
    fn from(e: CursorError) -> Self {
        Self::new(ErrorCode::InvalidCursor, format!("`cursor`: {e}."))
    }
}

fn space_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::SpaceNotFound,
        "No space with this id exists, or this token may not see it.",
    )
}

fn token_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::TokenNotFound,
        "No token with this id exists in this space, or this token may not see it.",
    )
}

/// "a client", "an admin".
const fn with_article(level: TokenLevel) -> &'static str {
    match level {
        TokenLevel::Client => "a client",
        TokenLevel::Admin => "an admin",
    }
}

impl From<CreateSpaceError> for ApiError {
    fn from(e: CreateSpaceError) -> Self {
        match e {
            CreateSpaceError::Forbidden => {
                Self::forbidden("Creating spaces needs the MANAGE_SPACES permission.")
            }
            CreateSpaceError::Store(e) => e.into(),
        }
    }
}

impl From<GetSpaceError> for ApiError {
    fn from(e: GetSpaceError) -> Self {
        match e {
            GetSpaceError::NotFound => space_not_found(),
            GetSpaceError::Store(e) => e.into(),
        }
    }
}

impl From<ListSpacesError> for ApiError {
    fn from(e: ListSpacesError) -> Self {
        match e {
            ListSpacesError::Store(e) => e.into(),
        }
    }
}

impl From<CreateTokenError> for ApiError {
    fn from(e: CreateTokenError) -> Self {
        match e {
            CreateTokenError::SpaceNotFound => space_not_found(),
            CreateTokenError::Forbidden(level) => Self::forbidden(format!(
                "Creating {} token needs the {} permission in this space.",
                with_article(level),
                tollgate_domain::create_permission(level)
            )),
            CreateTokenError::ExpiryNotInFuture => Self::new(
                ErrorCode::ExpiresAtNotInFuture,
                "`expires_at` must be in the future.",
            ),
            CreateTokenError::ExpiryBeyondMaximum { max_days } => Self::new(
                ErrorCode::ExpiresAtBeyondMaximum,
                format!(
                    "`expires_at` must be at most {max_days} days from now: this server's maximum \
                     token lifetime is {max_days} days."
                ),
            ),
            CreateTokenError::Hash(e) => e.into(),
            CreateTokenError::Store(e) => e.into(),
        }
    }
}

impl From<ListTokensError> for ApiError {
    fn from(e: ListTokensError) -> Self {
        match e {
            ListTokensError::SpaceNotFound => space_not_found(),
            ListTokensError::Forbidden => {
                Self::forbidden("Listing tokens needs the READ_API_TOKEN permission in this space.")
            }
            ListTokensError::Store(e) => e.into(),
        }
    }
}

impl From<GetTokenError> for ApiError {
    fn from(e: GetTokenError) -> Self {
        match e {
            GetTokenError::SpaceNotFound => space_not_found(),
            GetTokenError::NotFound => token_not_found(),
            GetTokenError::Store(e) => e.into(),
        }
    }
}

impl From<RevokeTokenError> for ApiError {
    fn from(e: RevokeTokenError) -> Self {
        match e {
            RevokeTokenError::SpaceNotFound => space_not_found(),
            RevokeTokenError::NotFound => token_not_found(),
            RevokeTokenError::Forbidden => Self::forbidden(
                "Revoking this token needs the REVOKE_API_TOKEN permission in this space.",
            ),
            RevokeTokenError::Store(e) => e.into(),
        }
    }
}

impl From<RotateTokenError> for ApiError {
    fn from(e: RotateTokenError) -> Self {
        match e {
            RotateTokenError::SpaceNotFound => space_not_found(),
            RotateTokenError::NotFound => token_not_found(),
            RotateTokenError::Forbidden(level) => Self::forbidden(format!(
                "Rotating {} token needs the {} permission in this space: the same as creating \
                 one.",
                with_article(level),
                tollgate_domain::create_permission(level)
            )),
            RotateTokenError::NotActive(status) => Self::new(
                ErrorCode::TokenNotActive,
                format!(
                    "Only an active token can be rotated; this one is {}.",
                    status.as_str()
                ),
            ),
            RotateTokenError::Hash(e) => e.into(),
            RotateTokenError::Store(e) => e.into(),
        }
    }
}

impl From<ListEventsError> for ApiError {
    fn from(e: ListEventsError) -> Self {
        match e {
            ListEventsError::SpaceNotFound => space_not_found(),
            ListEventsError::Forbidden => Self::forbidden(
                "Reading a space's audit events needs the READ_ADMIN_API_TOKEN permission in \
                 this space.",
            ),
            ListEventsError::Store(e) => e.into(),
        }
    }
}

impl From<VerifyTokenError> for ApiError {
    fn from(e: VerifyTokenError) -> Self {
        match e {
            VerifyTokenError::Invalid => Self::invalid_token(),
            VerifyTokenError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_match_their_status_class() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn token_like_text_is_redacted() {
        let token = format!("tgc_{}", "A1b2".repeat(17));
        let text = format!("invalid value: string \"{token}\", expected x; also tgi_zz.");
        let redacted = redact_tokens(&text);
        assert!(!redacted.contains("A1b2"));
        assert_eq!(
            redacted,
            "invalid value: string \"<redacted>\", expected x; also <redacted>."
        );
        assert_eq!(redact_tokens("no secrets here"), "no secrets here");
    }

    #[test]
    fn every_kind_of_token_is_redacted_and_found() {
        for kind in TokenKind::ALL {
            let text = format!("name {}A1b2c3, then more", kind.prefix());
            assert_eq!(
                redact_tokens(&text),
                "name <redacted>, then more",
                "{kind:?}"
            );
            assert_eq!(find_token_prefix(&text), Some(5), "{kind:?}");
        }
        assert_eq!(find_token_prefix("tgx_abc tg_ TGC_abc"), None);
    }

    #[test]
    fn canned_bodies_are_the_problems_they_stand_for() {
        for error in [
            ApiError::invalid_token(),
            ApiError::unauthenticated(),
            ApiError::too_many_requests(7),
        ] {
            let canned = canned_body(error.code(), error.detail()).unwrap();
            assert_eq!(canned, serialize_problem(&error.problem()).as_slice());
        }
        assert!(canned_body(ErrorCode::InvalidToken, "another detail").is_none());
        assert!(canned_body(ErrorCode::Forbidden, INVALID_TOKEN_DETAIL).is_none());
    }

    #[test]
    fn retry_after_is_whole_seconds_from_one_to_sixty() {
        assert_eq!(retry_after_value(0), "1");
        assert_eq!(retry_after_value(3), "3");
        assert_eq!(retry_after_value(60), "60");
        assert_eq!(retry_after_value(u64::MAX), "60");
        let response = ApiError::too_many_requests(3).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }

    #[test]
    fn store_unavailable_is_503_and_other_store_failures_are_opaque_500s() {
        let down = ApiError::from(StoreError::Unavailable("connection refused".into()));
        assert_eq!(down.code(), ErrorCode::StoreUnavailable);
        let broken = ApiError::from(StoreError::Corrupt("row 7 has a bad level".into()));
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!broken.detail().contains("row 7"));
        assert_eq!(
            CauseChain(&broken).to_string(),
            broken.to_string() + ": the token store holds invalid data: row 7 has a bad level"
        );
    }
}
