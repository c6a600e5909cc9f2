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
    CreateSpaceError, CreateTokenError, CursorError, DeleteSpaceError, GetSpaceError,
    GetTokenError, IntrospectError, ListEventsError, ListSpacesError, ListTokensError,
    PageLimitError, RenameSpaceError, ReportLeakError, ResumeTokenError, RevokeTokenError,
    RotateTokenError, StoreError, SuspendTokenError, UpdateTokenError, VerifyTokenError,
};
use tollgate_domain::{
    DescriptionError, NameError, TokenKind, TokenLevel, TokenLevelError, TokenStatus,
};
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

/// The longest `Retry-After` a leak report's refusal sends: one hour refills a reporter's whole
/// allowance.
pub(crate) const MAX_REPORT_RETRY_AFTER_SECS: u64 = 3600;

/// How long a leak report refused for want of room in the queue is told to wait.
const REPORT_QUEUE_RETRY_AFTER_SECS: u64 = 10;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

macro_rules! error_codes {
    ($($variant:ident = ($code:literal, $status:ident, $title:literal, $description:literal),)+) => {
        /// The stable, machine-readable `code` of a problem. Clients match on it; the `detail`
        /// text may change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(#[doc = $description] $variant,)+
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

            /// What the code means, in one sentence written for the API's consumers: the
            /// OpenAPI document's error responses are written from it.
            #[must_use]
            pub const fn description(self) -> &'static str {
                match self { $(Self::$variant => $description,)+ }
            }
        }
    };
}

// The one place a code's meaning is written: the variants' docs and the OpenAPI document's
// error responses both come from the last column.
error_codes! {
    BadRequest = ("bad_request", BAD_REQUEST, "Bad request",
        "The request could not be read (a body cut short, say)."),
    MalformedRequest = ("malformed_request", BAD_REQUEST, "Malformed request",
        "The request's head is not valid HTTP/1.1 (a NUL, a bare CR or another forbidden byte \
         in a header, or a malformed request line), so it was answered before reaching the API \
         and the connection was closed."),
    MalformedJson = ("malformed_json", BAD_REQUEST, "Malformed JSON",
        "The body is not syntactically valid JSON."),
    InvalidId = ("invalid_id", BAD_REQUEST, "Invalid id",
        "A path id is not a UUID."),
    InvalidLimit = ("invalid_limit", BAD_REQUEST, "Invalid limit",
        "`limit` is not a whole number from 1 to 100."),
    InvalidCursor = ("invalid_cursor", BAD_REQUEST, "Invalid cursor",
        "`cursor` is not a `next_cursor` this server handed out for this listing: the same \
         route, space and filters."),
    InvalidQuery = ("invalid_query", BAD_REQUEST, "Invalid query parameter",
        "A query parameter is repeated or invalid, such as a `level` other than `client` or \
         `admin`, or a `status` other than `all` or a comma-separated list of `active`, \
         `suspended`, `expired`, `revoked` and `rotated`."),
    TokenInQuery = ("token_in_query", BAD_REQUEST, "Token in query string",
        "A token was sent in the query string, where logs and browser history keep it."),
    ConflictingTokens = ("conflicting_tokens", BAD_REQUEST, "Conflicting tokens",
        "The `x-undb-api-token` and `Authorization: Bearer` headers carry different tokens."),
    InvalidForm = ("invalid_form", BAD_REQUEST, "Invalid form",
        "The form body is not valid `application/x-www-form-urlencoded`, repeats a field, or \
         lacks the `token` field."),
    InvalidActAs = ("invalid_act_as", BAD_REQUEST, "Invalid act-as header",
        "The `X-Tollgate-Act-As` header is malformed or sent twice: it names a `user` id of 1 \
         to 128 characters of `[A-Za-z0-9._:@-]`, a `space` UUID and a `role` (`owner`, \
         `admin`, `editor` or `viewer`)."),
    Unauthenticated = ("unauthenticated", UNAUTHORIZED, "Authentication required",
        "No token was sent."),
    InvalidToken = ("invalid_token", UNAUTHORIZED, "Invalid token",
        "The token is malformed, unknown, expired, revoked, suspended, or rotated and past its \
         grace period (one answer for all)."),
    Forbidden = ("forbidden", FORBIDDEN, "Insufficient permission",
        "The token is valid but lacks the permission the operation needs, which the detail \
         names: MANAGE_SPACES to create a space, CREATE_API_TOKEN to create, rotate or update \
         a client token, CREATE_ADMIN_API_TOKEN (which no space token holds) to create, rotate \
         or update an admin token, READ_API_TOKEN to list tokens, READ_ADMIN_API_TOKEN to read \
         audit events and REVOKE_API_TOKEN to revoke, suspend, resume, rotate or update a \
         token."),
    ActAsForbidden = ("act_as_forbidden", FORBIDDEN, "Acting for a member not allowed",
        "Only an instance admin token may send `X-Tollgate-Act-As`."),
    RequirementNotMet = ("requirement_not_met", FORBIDDEN, "Requirement not met",
        "Forward auth only: the token is valid but does not meet a requirement of the auth URL \
         (it belongs to another space than `space` names, or it is client-level and \
         `level=admin` is required)."),
    InvalidRequirement = ("invalid_requirement", FORBIDDEN, "Invalid requirement",
        "Forward auth only: the auth URL's `space` is not a UUID, its `level` is not `client` or \
         `admin`, or one is repeated, so every request is refused until the gateway's \
         configuration is fixed."),
    NotFound = ("not_found", NOT_FOUND, "Not found",
        "No route has this path."),
    SpaceNotFound = ("space_not_found", NOT_FOUND, "Space not found",
        "No such space, or not one this token may see."),
    TokenNotFound = ("token_not_found", NOT_FOUND, "Token not found",
        "No such token in the space, or not one this token may see (a client token never sees \
         admin tokens)."),
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed",
        "The path exists but not with this method (the `Allow` header lists those it does)."),
    TokenNotActive = ("token_not_active", CONFLICT, "Token not active",
        "Only an active token can be rotated, and this one is suspended, revoked, expired or \
         already rotated (the detail says which)."),
    TokenEnded = ("token_ended", CONFLICT, "Token ended",
        "The token is revoked, expired or rotated (in its grace period or not), so it can no \
         longer be suspended, resumed or updated (the detail says which)."),
    LastInstanceAdminToken =
        ("last_instance_admin_token", CONFLICT, "Last instance admin token",
        "The token is the last active instance admin token, so it is not revoked (nothing \
         would be left to manage the instance): create another one first, or see the detail \
         for how to regain access once every one is lost."),
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE, "Payload too large",
        "The body is larger than 64 KiB (128 KiB for a leak report)."),
    UriTooLong = ("uri_too_long", URI_TOO_LONG, "URI too long",
        "The request target is longer than 65 534 bytes, so it was answered before reaching the \
         API and the connection was closed."),
    UnsupportedMediaType =
        ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
        "The body is not sent in the media type the operation takes: `application/json`, or \
         `application/x-www-form-urlencoded` for introspection."),
    InvalidBody = ("invalid_body", UNPROCESSABLE_ENTITY, "Invalid request body",
        "The JSON body is not an object, or has an unknown field, a missing field, or a value \
         of the wrong type or out of range."),
    InvalidName = ("invalid_name", UNPROCESSABLE_ENTITY, "Invalid name",
        "A name is empty, longer than 100 characters (400 bytes) after trimming, shows no \
         visible character, or holds a control character, a bidirectional control \
         (U+202A to U+202E, U+2066 to U+2069) or a line or paragraph separator."),
    InvalidDescription = ("invalid_description", UNPROCESSABLE_ENTITY, "Invalid description",
        "A description breaks the name rule, with room for 500 characters (2000 bytes): it is \
         empty (send null to remove it), shows no visible character, or holds a control \
         character, a bidirectional control or a line or paragraph separator."),
    InvalidLevel = ("invalid_level", UNPROCESSABLE_ENTITY, "Invalid level",
        "`level` is not `client` or `admin`."),
    ExpiresAtNotInFuture =
        ("expires_at_not_in_future", UNPROCESSABLE_ENTITY, "Expiry not in the future",
        "`expires_at` is now or in the past."),
    ExpiresAtBeyondMaximum =
        ("expires_at_beyond_maximum", UNPROCESSABLE_ENTITY, "Expiry beyond the maximum lifetime",
        "`expires_at` is further away than the server's maximum token lifetime, which the \
         detail names in days (or, updating a token, null asks for no expiry where there is \
         a maximum)."),
    InvalidGracePeriod = ("invalid_grace_period", UNPROCESSABLE_ENTITY, "Invalid grace period",
        "`grace_period_seconds` is not a whole number from 0 to 604800 (seven days)."),
    InvalidCredentials = ("invalid_credentials", UNPROCESSABLE_ENTITY, "Invalid credentials",
        "A leak report's `credentials` list is empty or holds more than 1000 strings."),
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS, "Too many failed authentications",
        "Too many failed authentications from this client address, or for this token id from this \
         address, so the token was not verified: retry after the `Retry-After` header's seconds."),
    TooManyCredentials =
        ("too_many_credentials", TOO_MANY_REQUESTS, "Too many credentials reported",
        "This client address reported more credentials than it may (1000 at once, then 1000 an \
         hour): retry after the `Retry-After` header's seconds."),
    HeaderFieldsTooLarge =
        ("header_fields_too_large", REQUEST_HEADER_FIELDS_TOO_LARGE, "Header fields too large",
        "The request has more than 100 headers or a head larger than about 400 KiB, so it was \
         answered before reaching the API and the connection was closed."),
    Internal = ("internal", INTERNAL_SERVER_ERROR, "Internal error",
        "The server failed, and the body says nothing more (the cause is logged)."),
    StoreUnavailable = ("store_unavailable", SERVICE_UNAVAILABLE, "Store unavailable",
        "The token store cannot be reached now (retry later)."),
    Timeout = ("timeout", SERVICE_UNAVAILABLE, "Request timed out",
        "The request took longer than the server's timeout (30 s by default)."),
    ReportQueueFull = ("report_queue_full", SERVICE_UNAVAILABLE, "Report queue full",
        "Too many reported credentials wait to be verified, so this leak report was not taken \
         in: send it again after the `Retry-After` header's seconds."),
}

/// The codes a failure of this type can become. Each application error declares its list next
/// to its `From<_> for ApiError`, and a test maps every variant to check the list is exactly
/// what the `match` produces; the OpenAPI document's error responses are built from these
/// lists.
pub(crate) trait ErrorCodes {
    /// Every code the mapping can produce, and no other.
    const CODES: &'static [ErrorCode];
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

    /// This answer with `Retry-After: seconds` (clamped to 1 to [`MAX_REPORT_RETRY_AFTER_SECS`]).
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds.clamp(1, MAX_REPORT_RETRY_AFTER_SECS));
        self
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
            ErrorCode::Forbidden
            | ErrorCode::ActAsForbidden
            | ErrorCode::RequirementNotMet
            | ErrorCode::InvalidRequirement => {
                Some("Bearer realm=\"tollgate\", error=\"insufficient_scope\"")
            }
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
            let value = if seconds <= MAX_RETRY_AFTER_SECS {
                retry_after_value(seconds)
            } else {
                HeaderValue::from(seconds)
            };
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl ErrorCode {
    /// The code of an answer hyper makes by itself to a head it cannot parse, by its status:
    /// 431 `header_fields_too_large`, 414 `uri_too_long`, anything else (400)
    /// `malformed_request`.
    #[must_use]
    pub fn for_http_layer_status(status: StatusCode) -> Self {
        match status {
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::HeaderFieldsTooLarge,
            StatusCode::URI_TOO_LONG => Self::UriTooLong,
            _ => Self::MalformedRequest,
        }
    }
}

/// The problem+json body sent in place of hyper's own answer with `status` (see
/// `http_layer`): the code's description is the detail, since nothing more is known.
pub(crate) fn http_layer_problem(status: StatusCode) -> Vec<u8> {
    let code = ErrorCode::for_http_layer_status(status);
    serialize_problem(&ApiError::new(code, code.description()).problem())
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

/// The first token prefix in `text`: its byte offset and the prefix.
fn first_token_prefix(text: &str) -> Option<(usize, &'static str)> {
    TokenKind::ALL
        .into_iter()
        .map(TokenKind::prefix)
        .filter_map(|prefix| text.find(prefix).map(|at| (at, prefix)))
        .min_by_key(|&(at, _)| at)
}

// --- application errors, each mapped explicitly -------------------------------------------

/// Unreachable is 503; anything else is the server's failure.
impl ErrorCodes for StoreError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::Internal, ErrorCode::StoreUnavailable];
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            Self::store_unavailable(e)
        } else {
            Self::internal(e)
        }
    }
}

impl ErrorCodes for HashError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::Internal];
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        Self::internal(e)
    }
}

impl ErrorCodes for NameError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidName];
}

impl From<NameError> for ApiError {
    fn from(e: NameError) -> Self {
        Self::new(ErrorCode::InvalidName, format!("`name`: {e}."))
    }
}

impl ErrorCodes for DescriptionError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidDescription];
}

impl From<DescriptionError> for ApiError {
    fn from(e: DescriptionError) -> Self {
        Self::new(
            ErrorCode::InvalidDescription,
            format!("`description`: {e}."),
        )
    }
}

impl ErrorCodes for TokenLevelError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidLevel];
}

impl From<TokenLevelError> for ApiError {
    fn from(e: TokenLevelError) -> Self {
        Self::new(ErrorCode::InvalidLevel, format!("`level`: {e}."))
    }
}

impl ErrorCodes for PageLimitError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidLimit];
}

impl From<PageLimitError> for ApiError {
    fn from(e: PageLimitError) -> Self {
        Self::new(ErrorCode::InvalidLimit, format!("`limit`: {e}."))
    }
}

impl ErrorCodes for CursorError {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidCursor];
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

/// The detail of 409 `last_instance_admin_token`: how to go on, and how to regain access once
/// every instance admin token is lost (docs/operations.md, "A leaked instance admin token").
const LAST_INSTANCE_ADMIN_DETAIL: &str = "This is the last active instance admin token, so it \
    is not revoked: nothing would be left to manage this instance. Create another one first \
    (POST /v1/instance/tokens) and revoke this one with it. If every instance admin token is \
    lost or leaked, create one on the store with `tollgate token create --instance-admin --name \
    break-glass`, or run `tollgate token mint --instance-admin` and restart tollgate with \
    TOLLGATE_BOOTSTRAP_TOKEN set to the printed token and TOLLGATE_BOOTSTRAP_REVOKE_OTHERS=true \
    (docs/operations.md).";

/// The detail of a 403 under `/v1/instance/`: what those routes need.
const INSTANCE_ONLY_DETAIL: &str = "Managing instance admin tokens needs an instance admin token.";

/// An error of a `/v1/instance/tokens` operation. A refusal there says what those routes need
/// (an instance admin token) rather than a space's permission, and a missing token is not
/// said to be missing from a space; any other error is unchanged.
pub(crate) fn at_instance(error: impl Into<ApiError>) -> ApiError {
    let error = error.into();
    match error.code {
        ErrorCode::Forbidden => ApiError::forbidden(INSTANCE_ONLY_DETAIL),
        ErrorCode::TokenNotFound => ApiError::new(
            ErrorCode::TokenNotFound,
            "No instance admin token has this id, or this token may not see it.",
        ),
        _ => error,
    }
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

impl ErrorCodes for CreateSpaceError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::Forbidden,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
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

impl ErrorCodes for GetSpaceError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<GetSpaceError> for ApiError {
    fn from(e: GetSpaceError) -> Self {
        match e {
            GetSpaceError::NotFound => space_not_found(),
            GetSpaceError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for RenameSpaceError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::Forbidden,
        ErrorCode::SpaceNotFound,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<RenameSpaceError> for ApiError {
    fn from(e: RenameSpaceError) -> Self {
        match e {
            RenameSpaceError::Forbidden => {
                Self::forbidden("Renaming spaces needs the MANAGE_SPACES permission.")
            }
            RenameSpaceError::NotFound => space_not_found(),
            RenameSpaceError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for DeleteSpaceError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::Forbidden,
        ErrorCode::SpaceNotFound,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<DeleteSpaceError> for ApiError {
    fn from(e: DeleteSpaceError) -> Self {
        match e {
            DeleteSpaceError::Forbidden => {
                Self::forbidden("Deleting spaces needs the MANAGE_SPACES permission.")
            }
            DeleteSpaceError::NotFound => space_not_found(),
            DeleteSpaceError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for ListSpacesError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidCursor,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<ListSpacesError> for ApiError {
    fn from(e: ListSpacesError) -> Self {
        match e {
            ListSpacesError::InvalidCursor(e) => e.into(),
            ListSpacesError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for CreateTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::Forbidden,
        ErrorCode::ExpiresAtNotInFuture,
        ErrorCode::ExpiresAtBeyondMaximum,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
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

impl ErrorCodes for ListTokensError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::Forbidden,
        ErrorCode::InvalidCursor,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<ListTokensError> for ApiError {
    fn from(e: ListTokensError) -> Self {
        match e {
            ListTokensError::SpaceNotFound => space_not_found(),
            ListTokensError::Forbidden => {
                Self::forbidden("Listing tokens needs the READ_API_TOKEN permission in this space.")
            }
            ListTokensError::InvalidCursor(e) => e.into(),
            ListTokensError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for GetTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::TokenNotFound,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
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

impl ErrorCodes for RevokeTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::TokenNotFound,
        ErrorCode::Forbidden,
        ErrorCode::LastInstanceAdminToken,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<RevokeTokenError> for ApiError {
    fn from(e: RevokeTokenError) -> Self {
        match e {
            RevokeTokenError::SpaceNotFound => space_not_found(),
            RevokeTokenError::NotFound => token_not_found(),
            RevokeTokenError::Forbidden => Self::forbidden(
                "Revoking this token needs the REVOKE_API_TOKEN permission in this space.",
            ),
            RevokeTokenError::LastInstanceAdmin => Self::new(
                ErrorCode::LastInstanceAdminToken,
                LAST_INSTANCE_ADMIN_DETAIL,
            ),
            RevokeTokenError::Store(e) => e.into(),
        }
    }
}

/// The codes of suspending and of resuming, which fail the same ways.
const SUSPENSION_CODES: &[ErrorCode] = &[
    ErrorCode::SpaceNotFound,
    ErrorCode::TokenNotFound,
    ErrorCode::Forbidden,
    ErrorCode::TokenEnded,
    ErrorCode::Internal,
    ErrorCode::StoreUnavailable,
];

/// 409 `token_ended`, naming the status of a token that has ended.
fn token_ended(doing: &str, status: TokenStatus) -> ApiError {
    ApiError::new(
        ErrorCode::TokenEnded,
        format!(
            "This token is {}: only an active or suspended token can be {doing}.",
            status.as_str()
        ),
    )
}

impl ErrorCodes for SuspendTokenError {
    const CODES: &'static [ErrorCode] = SUSPENSION_CODES;
}

impl From<SuspendTokenError> for ApiError {
    fn from(e: SuspendTokenError) -> Self {
        match e {
            SuspendTokenError::SpaceNotFound => space_not_found(),
            SuspendTokenError::NotFound => token_not_found(),
            SuspendTokenError::Forbidden => Self::forbidden(
                "Suspending this token needs the REVOKE_API_TOKEN permission on it.",
            ),
            SuspendTokenError::Ended(status) => token_ended("suspended", status),
            SuspendTokenError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for ResumeTokenError {
    const CODES: &'static [ErrorCode] = SUSPENSION_CODES;
}

impl From<ResumeTokenError> for ApiError {
    fn from(e: ResumeTokenError) -> Self {
        match e {
            ResumeTokenError::SpaceNotFound => space_not_found(),
            ResumeTokenError::NotFound => token_not_found(),
            ResumeTokenError::Forbidden => {
                Self::forbidden("Resuming this token needs the REVOKE_API_TOKEN permission on it.")
            }
            ResumeTokenError::Ended(status) => token_ended("resumed", status),
            ResumeTokenError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for UpdateTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::TokenNotFound,
        ErrorCode::Forbidden,
        ErrorCode::TokenEnded,
        ErrorCode::ExpiresAtNotInFuture,
        ErrorCode::ExpiresAtBeyondMaximum,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<UpdateTokenError> for ApiError {
    fn from(e: UpdateTokenError) -> Self {
        match e {
            UpdateTokenError::SpaceNotFound => space_not_found(),
            UpdateTokenError::NotFound => token_not_found(),
            UpdateTokenError::Forbidden(level) => Self::forbidden(format!(
                "Updating {} token needs the {} permission in this space and REVOKE_API_TOKEN \
                 on the token: the same as rotating it.",
                with_article(level),
                tollgate_domain::create_permission(level)
            )),
            UpdateTokenError::Ended(status) => token_ended("updated", status),
            UpdateTokenError::ExpiryNotInFuture => Self::new(
                ErrorCode::ExpiresAtNotInFuture,
                "`expires_at` must be in the future.",
            ),
            UpdateTokenError::ExpiryBeyondMaximum { max_days } => Self::new(
                ErrorCode::ExpiresAtBeyondMaximum,
                format!(
                    "`expires_at` may be extended to at most {max_days} days from now: this \
                     server's maximum token lifetime is {max_days} days."
                ),
            ),
            UpdateTokenError::NeverBeyondMaximum { max_days } => Self::new(
                ErrorCode::ExpiresAtBeyondMaximum,
                format!(
                    "`expires_at` cannot be null (never): this server's maximum token lifetime \
                     is {max_days} days."
                ),
            ),
            UpdateTokenError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for RotateTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::TokenNotFound,
        ErrorCode::Forbidden,
        ErrorCode::TokenNotActive,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
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

impl ErrorCodes for ListEventsError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::SpaceNotFound,
        ErrorCode::Forbidden,
        ErrorCode::InvalidCursor,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<ListEventsError> for ApiError {
    fn from(e: ListEventsError) -> Self {
        match e {
            ListEventsError::SpaceNotFound => space_not_found(),
            ListEventsError::Forbidden => Self::forbidden(
                "Reading a space's audit events needs the READ_ADMIN_API_TOKEN permission in \
                 this space.",
            ),
            ListEventsError::InvalidCursor(e) => e.into(),
            ListEventsError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for VerifyTokenError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidToken,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<VerifyTokenError> for ApiError {
    fn from(e: VerifyTokenError) -> Self {
        match e {
            VerifyTokenError::Invalid => Self::invalid_token(),
            VerifyTokenError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for IntrospectError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::Forbidden,
        ErrorCode::TooManyRequests,
        ErrorCode::Internal,
        ErrorCode::StoreUnavailable,
    ];
}

impl From<IntrospectError> for ApiError {
    fn from(e: IntrospectError) -> Self {
        match e {
            IntrospectError::Forbidden => Self::forbidden(
                "Introspection needs the READ_ADMIN_API_TOKEN permission: an instance admin \
                 token introspects any token, a space admin token those of its own space.",
            ),
            IntrospectError::TooManyFailures { retry_after_secs } => {
                Self::too_many_requests(retry_after_secs)
            }
            IntrospectError::Store(e) => e.into(),
        }
    }
}

impl ErrorCodes for ReportLeakError {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidCredentials,
        ErrorCode::TooManyCredentials,
        ErrorCode::ReportQueueFull,
    ];
}

impl From<ReportLeakError> for ApiError {
    fn from(e: ReportLeakError) -> Self {
        match e {
            ReportLeakError::CredentialCount { max } => Self::new(
                ErrorCode::InvalidCredentials,
                format!("`credentials` must hold 1 to {max} strings."),
            ),
            ReportLeakError::TooManyCredentials { retry_after_secs } => Self::new(
                ErrorCode::TooManyCredentials,
                "This client address has reported more credentials than it may for now; send \
                 the report again after the number of seconds in the `Retry-After` header.",
            )
            .with_retry_after(retry_after_secs),
            ReportLeakError::QueueFull => Self::new(
                ErrorCode::ReportQueueFull,
                "Too many reported credentials wait to be verified; send the report again \
                 after the number of seconds in the `Retry-After` header.",
            )
            .with_retry_after(REPORT_QUEUE_RETRY_AFTER_SECS),
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
    fn every_code_has_a_one_sentence_description_that_names_no_other_code() {
        for code in ErrorCode::ALL {
            let description = code.description();
            assert!(
                description.starts_with(|c: char| c.is_ascii_uppercase() || c == '`')
                    && description.ends_with('.'),
                "{code}: {description}"
            );
            // The OpenAPI document joins descriptions with `; ` and tells codes by backticks.
            let body = &description[..description.len() - 1];
            assert!(
                !body.contains(". ") && !body.contains(';'),
                "{code}: {description}"
            );
            for quoted in description.split('`').skip(1).step_by(2) {
                assert!(
                    ErrorCode::ALL.iter().all(|other| other.as_str() != quoted),
                    "{code}'s description names `{quoted}`"
                );
            }
        }
    }

    /// Every `StoreError` variant.
    fn store_errors() -> [StoreError; 3] {
        [
            StoreError::Unavailable("x".into()),
            StoreError::Corrupt("x".into()),
            StoreError::Failed("x".into()),
        ]
    }

    /// Samples of an error type, listed per pattern. The patterns must cover every variant (the
    /// `match` fails to compile otherwise) and each must match at least one sample, so every
    /// variant is built.
    macro_rules! samples {
        ($ty:ty { $($pat:pat => $samples:expr,)+ }) => {{
            let _exhaustive = |e: &$ty| match e {
                $($pat => (),)+
            };
            let mut all: Vec<$ty> = Vec::new();
            $(
                let before = all.len();
                all.extend($samples);
                assert!(
                    all.len() > before && all[before..].iter().all(|e| matches!(e, $pat)),
                    "{}: the samples for `{}` do not all match it",
                    stringify!($ty),
                    stringify!($pat),
                );
            )+
            all
        }};
    }

    /// Maps every sample and checks the codes produced are exactly those `T` declares.
    fn assert_declared<T: ErrorCodes + fmt::Debug>(samples: Vec<T>)
    where
        ApiError: From<T>,
    {
        let name = std::any::type_name::<T>();
        let mut produced = HashSet::new();
        for sample in samples {
            let shown = format!("{sample:?}");
            let code = ApiError::from(sample).code();
            assert!(
                T::CODES.contains(&code),
                "{name}: {shown} maps to {code}, which its CODES lack"
            );
            produced.insert(code);
        }
        for code in T::CODES {
            assert!(
                produced.contains(code),
                "{name}: CODES lists {code}, which no variant maps to"
            );
        }
    }

    #[test]
    fn every_application_error_maps_to_exactly_the_codes_it_declares() {
        assert_declared(samples!(StoreError {
            StoreError::Unavailable(_) => [StoreError::Unavailable("x".into())],
            StoreError::Corrupt(_) => [StoreError::Corrupt("x".into())],
            StoreError::Failed(_) => [StoreError::Failed("x".into())],
        }));
        assert_declared(vec![HashError("x".into())]);
        assert_declared(samples!(NameError {
            NameError::Empty => [NameError::Empty],
            NameError::TooLong { .. } => [NameError::TooLong { max_chars: 100, max_bytes: 400 }],
            NameError::ControlCharacter => [NameError::ControlCharacter],
            NameError::BidiControl => [NameError::BidiControl],
            NameError::LineSeparator => [NameError::LineSeparator],
            NameError::NoVisibleCharacter => [NameError::NoVisibleCharacter],
        }));
        assert_declared(vec![TokenLevelError]);
        assert_declared(vec![PageLimitError]);
        assert_declared(vec![CursorError]);
        assert_declared(samples!(CreateSpaceError {
            CreateSpaceError::Forbidden => [CreateSpaceError::Forbidden],
            CreateSpaceError::Store(_) => store_errors().map(CreateSpaceError::Store),
        }));
        assert_declared(samples!(GetSpaceError {
            GetSpaceError::NotFound => [GetSpaceError::NotFound],
            GetSpaceError::Store(_) => store_errors().map(GetSpaceError::Store),
        }));
        assert_declared(samples!(ListSpacesError {
            ListSpacesError::InvalidCursor(_) => [ListSpacesError::InvalidCursor(CursorError)],
            ListSpacesError::Store(_) => store_errors().map(ListSpacesError::Store),
        }));
        assert_declared(samples!(CreateTokenError {
            CreateTokenError::SpaceNotFound => [CreateTokenError::SpaceNotFound],
            CreateTokenError::Forbidden(_) => TokenLevel::ALL.map(CreateTokenError::Forbidden),
            CreateTokenError::ExpiryNotInFuture => [CreateTokenError::ExpiryNotInFuture],
            CreateTokenError::ExpiryBeyondMaximum { .. } =>
                [CreateTokenError::ExpiryBeyondMaximum { max_days: 90 }],
            CreateTokenError::Hash(_) => [CreateTokenError::Hash(HashError("x".into()))],
            CreateTokenError::Store(_) => store_errors().map(CreateTokenError::Store),
        }));
        assert_declared(samples!(ListTokensError {
            ListTokensError::SpaceNotFound => [ListTokensError::SpaceNotFound],
            ListTokensError::Forbidden => [ListTokensError::Forbidden],
            ListTokensError::InvalidCursor(_) => [ListTokensError::InvalidCursor(CursorError)],
            ListTokensError::Store(_) => store_errors().map(ListTokensError::Store),
        }));
        assert_declared(samples!(GetTokenError {
            GetTokenError::SpaceNotFound => [GetTokenError::SpaceNotFound],
            GetTokenError::NotFound => [GetTokenError::NotFound],
            GetTokenError::Store(_) => store_errors().map(GetTokenError::Store),
        }));
        assert_declared(samples!(RevokeTokenError {
            RevokeTokenError::SpaceNotFound => [RevokeTokenError::SpaceNotFound],
            RevokeTokenError::NotFound => [RevokeTokenError::NotFound],
            RevokeTokenError::Forbidden => [RevokeTokenError::Forbidden],
            RevokeTokenError::LastInstanceAdmin => [RevokeTokenError::LastInstanceAdmin],
            RevokeTokenError::Store(_) => store_errors().map(RevokeTokenError::Store),
        }));
        assert_declared(samples!(DescriptionError {
            DescriptionError(_) => [
                DescriptionError(NameError::Empty),
                DescriptionError(NameError::NoVisibleCharacter),
            ],
        }));
        assert_declared(samples!(UpdateTokenError {
            UpdateTokenError::SpaceNotFound => [UpdateTokenError::SpaceNotFound],
            UpdateTokenError::NotFound => [UpdateTokenError::NotFound],
            UpdateTokenError::Forbidden(_) => TokenLevel::ALL.map(UpdateTokenError::Forbidden),
            UpdateTokenError::Ended(_) => TokenStatus::ALL.map(UpdateTokenError::Ended),
            UpdateTokenError::ExpiryNotInFuture => [UpdateTokenError::ExpiryNotInFuture],
            UpdateTokenError::ExpiryBeyondMaximum { .. } =>
                [UpdateTokenError::ExpiryBeyondMaximum { max_days: 90 }],
            UpdateTokenError::NeverBeyondMaximum { .. } =>
                [UpdateTokenError::NeverBeyondMaximum { max_days: 90 }],
            UpdateTokenError::Store(_) => store_errors().map(UpdateTokenError::Store),
        }));
        assert_declared(samples!(SuspendTokenError {
            SuspendTokenError::SpaceNotFound => [SuspendTokenError::SpaceNotFound],
            SuspendTokenError::NotFound => [SuspendTokenError::NotFound],
            SuspendTokenError::Forbidden => [SuspendTokenError::Forbidden],
            SuspendTokenError::Ended(_) => TokenStatus::ALL.map(SuspendTokenError::Ended),
            SuspendTokenError::Store(_) => store_errors().map(SuspendTokenError::Store),
        }));
        assert_declared(samples!(ResumeTokenError {
            ResumeTokenError::SpaceNotFound => [ResumeTokenError::SpaceNotFound],
            ResumeTokenError::NotFound => [ResumeTokenError::NotFound],
            ResumeTokenError::Forbidden => [ResumeTokenError::Forbidden],
            ResumeTokenError::Ended(_) => TokenStatus::ALL.map(ResumeTokenError::Ended),
            ResumeTokenError::Store(_) => store_errors().map(ResumeTokenError::Store),
        }));
        assert_declared(samples!(RotateTokenError {
            RotateTokenError::SpaceNotFound => [RotateTokenError::SpaceNotFound],
            RotateTokenError::NotFound => [RotateTokenError::NotFound],
            RotateTokenError::Forbidden(_) => TokenLevel::ALL.map(RotateTokenError::Forbidden),
            RotateTokenError::NotActive(_) => TokenStatus::ALL.map(RotateTokenError::NotActive),
            RotateTokenError::Hash(_) => [RotateTokenError::Hash(HashError("x".into()))],
            RotateTokenError::Store(_) => store_errors().map(RotateTokenError::Store),
        }));
        assert_declared(samples!(ListEventsError {
            ListEventsError::SpaceNotFound => [ListEventsError::SpaceNotFound],
            ListEventsError::Forbidden => [ListEventsError::Forbidden],
            ListEventsError::InvalidCursor(_) => [ListEventsError::InvalidCursor(CursorError)],
            ListEventsError::Store(_) => store_errors().map(ListEventsError::Store),
        }));
        assert_declared(samples!(IntrospectError {
            IntrospectError::Forbidden => [IntrospectError::Forbidden],
            IntrospectError::TooManyFailures { .. } =>
                [IntrospectError::TooManyFailures { retry_after_secs: 3 }],
            IntrospectError::Store(_) => store_errors().map(IntrospectError::Store),
        }));
        assert_declared(samples!(ReportLeakError {
            ReportLeakError::CredentialCount { .. } =>
                [ReportLeakError::CredentialCount { max: 1000 }],
            ReportLeakError::TooManyCredentials { .. } =>
                [ReportLeakError::TooManyCredentials { retry_after_secs: 3 }],
            ReportLeakError::QueueFull => [ReportLeakError::QueueFull],
        }));
        assert_declared(samples!(VerifyTokenError {
            VerifyTokenError::Invalid => [VerifyTokenError::Invalid],
            VerifyTokenError::Store(_) => store_errors().map(VerifyTokenError::Store),
        }));
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
    fn every_kind_of_token_is_redacted() {
        for kind in TokenKind::ALL {
            let text = format!("name {}A1b2c3, then more", kind.prefix());
            assert_eq!(
                redact_tokens(&text),
                "name <redacted>, then more",
                "{kind:?}"
            );
        }
        assert_eq!(redact_tokens("tgx_abc tg_"), "tgx_abc tg_");
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
    fn a_refused_leak_report_says_when_to_send_it_again_up_to_an_hour_later() {
        let limited = ApiError::from(ReportLeakError::TooManyCredentials {
            retry_after_secs: 1800,
        })
        .into_response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "1800");
        let full = ApiError::from(ReportLeakError::QueueFull).into_response();
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(full.headers()[header::RETRY_AFTER], "10");
        let count = ApiError::from(ReportLeakError::CredentialCount { max: 1000 });
        assert_eq!(count.detail(), "`credentials` must hold 1 to 1000 strings.");
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
