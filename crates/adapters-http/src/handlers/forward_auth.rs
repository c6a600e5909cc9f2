//! Forward auth: `/v1/auth` and every path below it, any method, as nginx `auth_request`,
//! Traefik `ForwardAuth`, Caddy `forward_auth` and Envoy `ext_authz` (HTTP) ask it
//! (docs/gateways.md).
//!
//! The token is verified by [`Authenticated`], as on every other route: the same verifier, cache
//! and brute-force limits. The answers are only these, because a gateway understands no others
//! (nginx turns anything but 2xx, 401 and 403 into a 500):
//!
//! - 200 with the identity headers, for a valid token that meets the auth URL's requirements;
//! - 401 with `WWW-Authenticate`, for a missing, invalid or conflicting token, a token in the
//!   original request's query string, a request tollgate cannot read (a body over the limit,
//!   say), and a rate-limited client (then with `Retry-After`, never 429);
//! - 403 with `WWW-Authenticate`, for a requirement that is not met or is malformed;
//! - 503, when tollgate cannot decide (the store is down, the request timed out, a bug).
//!
//! [`confine_statuses`] holds the route to these for the shared middleware too (the token-in-query
//! guard, the body limit, a panic), which answers before any handler runs.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::any;
use tollgate_app::VerifiedToken;
use tollgate_domain::{
    permissions_in_own_space, query_carries_token, AccessRequirement, SpaceId, TokenLevel,
    UnmetRequirement,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::extract::Authenticated;
use crate::openapi::ForwardAuthResponses;
use crate::RouterState;

/// Where forward auth lives; every path below it answers the same.
pub(crate) const AUTH_PATH: &str = "/v1/auth";

/// The token's id.
pub(crate) const TOKEN_ID_HEADER: &str = "x-tollgate-token-id";
/// The token's space, or `*` for an instance admin (never empty: nginx drops empty headers).
pub(crate) const SPACE_ID_HEADER: &str = "x-tollgate-space-id";
/// The token's level: `client` or `admin` (an instance admin is `admin`).
pub(crate) const LEVEL_HEADER: &str = "x-tollgate-level";
/// What the token may do in its own space, comma-separated (`READ_API_TOKEN,CREATE_API_TOKEN`).
pub(crate) const PERMISSIONS_HEADER: &str = "x-tollgate-permissions";

/// The separator of [`PERMISSIONS_HEADER`]'s list: HTTP's own list separator.
pub(crate) const PERMISSIONS_SEPARATOR: &str = ",";

/// The headers in which gateways pass the original request's URI (Traefik and Caddy send
/// `X-Forwarded-Uri`; nginx configurations conventionally set `X-Original-URI`).
const ORIGINAL_URI_HEADERS: [&str; 2] = ["x-forwarded-uri", "x-original-uri"];

/// The only statuses this route answers.
const ANSWERS: [StatusCode; 4] = [
    StatusCode::OK,
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::SERVICE_UNAVAILABLE,
];

/// The challenge of a request that could not be read as an authentication (RFC 6750's
/// `invalid_request`).
const INVALID_REQUEST_CHALLENGE: &str = "Bearer realm=\"tollgate\", error=\"invalid_request\"";

/// The challenge of a rate-limited client: try again after `Retry-After`.
const RATE_LIMITED_CHALLENGE: &str = "Bearer realm=\"tollgate\"";

/// The most of an error body [`confine_statuses`] reads to restate its status; ours are a few
/// hundred bytes.
const PROBLEM_BODY_LIMIT: usize = 16 * 1024;

const ORIGINAL_QUERY_DETAIL: &str = "The original request carries a token in its query string \
    (`X-Forwarded-Uri` or `X-Original-URI`), where logs and browser history keep it; send it in \
    the `x-undb-api-token` header or as `Authorization: Bearer <token>`, and if it was a real \
    token, consider revoking it.";

/// Adds forward auth to `api`: `/v1/auth` and `/v1/auth/{rest}` in the document, every method,
/// and in the router `/v1/auth`, `/v1/auth/` and every path below.
pub(crate) fn routes(api: OpenApiRouter<RouterState>) -> OpenApiRouter<RouterState> {
    // The document's operations come from the attributes; the router takes any method, which
    // no list of methods can say.
    let (schemas, paths, _) = routes!(forward_auth);
    let (_, below, _) = routes!(forward_auth_below);
    let mut api = api
        .routes((schemas, paths, any(forward_auth)))
        .route("/v1/auth/", any(forward_auth))
        .route("/v1/auth/{*rest}", any(forward_auth));
    api.get_openapi_mut().paths.paths.extend(below.paths);
    api
}

/// Forward auth: may this request through?
///
/// For gateways (docs/gateways.md). Any method. The token comes in the `x-undb-api-token` or
/// `Authorization: Bearer` header of the original request, which the gateway passes on. 200
/// names the token in `X-Tollgate-Token-Id`, `X-Tollgate-Space-Id` (`*` for an instance admin),
/// `X-Tollgate-Level` and `X-Tollgate-Permissions` (comma-separated), for the gateway to pass to
/// its upstream. The query may require `space=ID` (the token belongs to that space; an instance
/// admin passes) and `level=admin`; other parameters are ignored; a malformed requirement
/// refuses every request (403 `invalid_requirement`). A token in the original request's query
/// (`X-Forwarded-Uri`, `X-Original-URI`) is refused. Only 200, 401, 403 and 503 are ever
/// answered: the problem's `code` says what happened.
#[utoipa::path(
    method(get, post, put, delete, patch, head, options, trace),
    path = "/v1/auth",
    tag = "gateways",
    params(
        ("space" = Option<uuid::Uuid>, Query, description = "Require a token of this space (an instance admin passes)."),
        ("level" = Option<String>, Query, description = "`admin`: require an admin-level token; `client`: any token."),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The original request's URI (Traefik, Caddy); a token in its query is refused."),
        ("X-Original-URI" = Option<String>, Header, description = "The original request's URI (nginx); a token in its query is refused."),
    ),
    responses(ForwardAuthResponses),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn forward_auth(
    State(state): State<RouterState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, _body) = request.into_parts();
    if original_uri_carries_token(&parts.headers) {
        return Err(ApiError::new(
            ErrorCode::TokenInQuery,
            ORIGINAL_QUERY_DETAIL,
        ));
    }
    // Read before the token is verified, reported after: a bad token is a 401 whatever the
    // gateway's configuration.
    let requirement = requirement(parts.uri.query());
    let auth = Authenticated::from_request_parts(&mut parts, &state).await?;
    requirement?
        .check(auth.actor())
        .map_err(requirement_not_met)?;
    identity(auth.verified())
}

/// Forward auth below `/v1/auth`.
///
/// The same as `/v1/auth`, for gateways that append the original path (Envoy appends the
/// original path and query to its `path_prefix`; the query is then checked for tokens like
/// the rest, and its unknown parameters are ignored).
#[utoipa::path(
    method(get, post, put, delete, patch, head, options, trace),
    path = "/v1/auth/{rest}",
    tag = "gateways",
    params(
        ("rest" = String, Path, description = "Any path, ignored."),
        ("space" = Option<uuid::Uuid>, Query, description = "Require a token of this space (an instance admin passes)."),
        ("level" = Option<String>, Query, description = "`admin`: require an admin-level token; `client`: any token."),
    ),
    responses(ForwardAuthResponses),
    security(("api_token" = []), ("bearer" = []))
)]
#[allow(dead_code)] // Only its attribute is used: the router serves `forward_auth` there.
pub(crate) async fn forward_auth_below(
    state: State<RouterState>,
    request: Request,
) -> Result<Response, ApiError> {
    forward_auth(state, request).await
}

/// Whether the original request, as the gateway reports it, carries a token in its query
/// string: the same rule as for requests to tollgate itself.
fn original_uri_carries_token(headers: &HeaderMap) -> bool {
    ORIGINAL_URI_HEADERS
        .iter()
        .flat_map(|name| headers.get_all(*name))
        .any(|value| {
            // A value that is not visible ASCII is read byte by byte: percent-decoding does
            // not need it to be text, and a token is ASCII.
            let uri = String::from_utf8_lossy(value.as_bytes());
            let without_fragment = uri.split('#').next().unwrap_or_default();
            without_fragment
                .split_once('?')
                .is_some_and(|(_, query)| query_carries_token(query))
        })
}

/// The requirements of the auth URL's query: `space=ID` and `level=client|admin`, each at
/// most once. Other parameters are ignored (Envoy appends the original request's own).
fn requirement(query: Option<&str>) -> Result<AccessRequirement, ApiError> {
    let mut requirement = AccessRequirement::NONE;
    let Some(query) = query else {
        return Ok(requirement);
    };
    let (mut space, mut level) = (None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*name {
            "space" => &mut space,
            "level" => &mut level,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(invalid_requirement(&format!(
                "`{name}` is given more than once"
            )));
        }
    }
    if let Some(space) = space {
        let space = space
            .parse::<SpaceId>()
            .map_err(|_| invalid_requirement("`space` is not a UUID"))?;
        requirement = requirement.in_space(space);
    }
    if let Some(level) = level {
        let level = level
            .parse::<TokenLevel>()
            .map_err(|_| invalid_requirement("`level` is not `client` or `admin`"))?;
        requirement = requirement.at_level(level);
    }
    Ok(requirement)
}

fn invalid_requirement(why: &str) -> ApiError {
    tracing::warn!(%why, "forward auth: the auth URL's requirements are malformed");
    ApiError::new(
        ErrorCode::InvalidRequirement,
        format!(
            "The gateway's auth URL is misconfigured ({why}), so no request passes; its \
             operator must fix it."
        ),
    )
}

fn requirement_not_met(unmet: UnmetRequirement) -> ApiError {
    let detail = match unmet {
        UnmetRequirement::Space => "The token does not belong to the space this route requires.",
        UnmetRequirement::Level(_) => "This route requires an admin-level token.",
    };
    ApiError::new(ErrorCode::RequirementNotMet, detail)
}

/// 200 with the identity headers, and no body.
fn identity(verified: &VerifiedToken) -> Result<Response, ApiError> {
    let token = &verified.token;
    let permissions: Vec<&str> = permissions_in_own_space(&verified.actor)
        .into_iter()
        .map(|permission| permission.as_str())
        .collect();
    let space = token
        .space_id()
        .map_or_else(|| "*".to_owned(), |space| space.to_string());
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    for (name, value) in [
        (TOKEN_ID_HEADER, token.id().to_string()),
        (SPACE_ID_HEADER, space),
        (LEVEL_HEADER, token.level().as_str().to_owned()),
        (PERMISSIONS_HEADER, permissions.join(PERMISSIONS_SEPARATOR)),
    ] {
        let value = HeaderValue::try_from(value).map_err(ApiError::internal)?;
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(response)
}

/// Whether `path` is forward auth's.
fn is_forward_auth(path: &str) -> bool {
    path.strip_prefix(AUTH_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Holds forward auth's answers to 200, 401, 403 and 503, whatever answered: the shared
/// middleware (token-in-query guard 400, body limit 413, a panic's 500) as much as the handler
/// (conflicting tokens 400, rate limit 429). A client error becomes 401 (`Retry-After` kept for
/// a rate limit), a server error 503; the problem's `code` is kept, so the cause is still told.
/// Every other route passes through untouched.
pub(crate) async fn confine_statuses(request: Request, next: Next) -> Response {
    if !is_forward_auth(request.uri().path()) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if ANSWERS.contains(&response.status()) {
        return response;
    }
    confine(response).await
}

async fn confine(response: Response) -> Response {
    let original = response.status();
    let (status, challenge) = if original == StatusCode::TOO_MANY_REQUESTS {
        (StatusCode::UNAUTHORIZED, Some(RATE_LIMITED_CHALLENGE))
    } else if original.is_client_error() {
        (StatusCode::UNAUTHORIZED, Some(INVALID_REQUEST_CHALLENGE))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, None)
    };
    let (mut parts, body) = response.into_parts();
    let body = to_bytes(body, PROBLEM_BODY_LIMIT).await.unwrap_or_default();
    let body = restate(&body, status);
    parts.status = status;
    let headers = &mut parts.headers;
    headers.remove(CONTENT_LENGTH);
    headers.remove(ALLOW);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    match challenge {
        Some(challenge) => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        None => {
            headers.remove(WWW_AUTHENTICATE);
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// The problem document `body` with `status` as its status. A body that is no problem (none of
/// ours) is replaced by one.
fn restate(body: &[u8], status: StatusCode) -> Vec<u8> {
    let problem = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(problem)) if problem.contains_key("code") => problem,
        _ => {
            let replacement = if status == StatusCode::UNAUTHORIZED {
                ApiError::new(ErrorCode::BadRequest, "The auth request could not be read.")
            } else {
                ApiError::new(
                    ErrorCode::Internal,
                    "The server failed to answer this request; the cause has been logged.",
                )
            };
            match serde_json::to_value(replacement.problem()) {
                Ok(serde_json::Value::Object(problem)) => problem,
                _ => serde_json::Map::new(),
            }
        }
    };
    let mut problem = problem;
    problem.insert("status".to_owned(), status.as_u16().into());
    serde_json::to_vec(&problem).unwrap_or_default()
}

/// What a forward-auth answer can be: the codes of every part of the stack, by the status
/// this route answers them with (for the OpenAPI document).
pub(crate) fn confined_codes() -> [(u16, Vec<ErrorCode>); 3] {
    use crate::extract::AUTH_CODES;
    use crate::middleware::EVERY_ROUTE_CODES;
    let mut by_status: [(u16, Vec<ErrorCode>); 3] = [(401, vec![]), (403, vec![]), (503, vec![])];
    let route_codes = [
        ErrorCode::TokenInQuery,
        ErrorCode::RequirementNotMet,
        ErrorCode::InvalidRequirement,
    ];
    for &code in ErrorCode::ALL {
        let answered = EVERY_ROUTE_CODES.contains(&code)
            || AUTH_CODES.contains(&code)
            || route_codes.contains(&code);
        if !answered {
            continue;
        }
        let status = confined_status(code.status());
        if let Some((_, codes)) = by_status.iter_mut().find(|(s, _)| *s == status.as_u16()) {
            codes.push(code);
        }
    }
    by_status
}

/// The status forward auth answers in place of `status`.
fn confined_status(status: StatusCode) -> StatusCode {
    if ANSWERS.contains(&status) {
        status
    } else if status.is_client_error() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_route_is_auth_and_below_it_only() {
        for path in ["/v1/auth", "/v1/auth/", "/v1/auth/api/x", "/v1/auth//"] {
            assert!(is_forward_auth(path), "{path}");
        }
        for path in ["/v1/authz", "/v1/whoami", "/v1", "/v1/auth-x", "/auth"] {
            assert!(!is_forward_auth(path), "{path}");
        }
    }

    #[test]
    fn requirements_are_read_and_malformed_ones_fail_closed() {
        let space = "0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10";
        let id: SpaceId = space.parse().unwrap();
        assert_eq!(requirement(None).unwrap(), AccessRequirement::NONE);
        assert_eq!(requirement(Some("")).unwrap(), AccessRequirement::NONE);
        assert_eq!(
            requirement(Some(&format!("space={space}&level=admin"))).unwrap(),
            AccessRequirement::NONE
                .in_space(id)
                .at_level(TokenLevel::Admin)
        );
        assert_eq!(
            requirement(Some("level=client&page=2")).unwrap(),
            AccessRequirement::NONE.at_level(TokenLevel::Client)
        );
        for malformed in [
            "space=acme",
            "space=",
            &format!("space={space}&space={space}"),
            "level=owner",
            "level=Admin",
            "level=admin&level=admin",
        ] {
            let error = requirement(Some(malformed)).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidRequirement, "{malformed}");
            assert_eq!(error.status(), StatusCode::FORBIDDEN);
        }
    }

    #[test]
    fn a_token_in_the_original_query_is_found_in_either_header() {
        let check = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            original_uri_carries_token(&headers)
        };
        for name in ORIGINAL_URI_HEADERS {
            assert!(check(name, "/api/x?token=abc"));
            assert!(check(name, "/api/x?q=%74gc%5Fabc"));
            assert!(check(
                name,
                "https://api.example.com/x?access_token=abc#frag"
            ));
            assert!(!check(name, "/api/x?page=2"));
            assert!(!check(name, "/api/x#token=abc"));
            assert!(!check(name, "/api/token"));
        }
        assert!(!check("x-other-uri", "/api/x?token=abc"));
    }

    #[test]
    fn a_confined_answer_keeps_its_code_and_states_its_new_status() {
        let problem =
            br#"{"type":"t","title":"x","status":429,"detail":"d","code":"too_many_requests"}"#;
        let restated: serde_json::Value =
            serde_json::from_slice(&restate(problem, StatusCode::UNAUTHORIZED)).unwrap();
        assert_eq!(restated["status"], 401);
        assert_eq!(restated["code"], "too_many_requests");
        let restated: serde_json::Value =
            serde_json::from_slice(&restate(b"not json", StatusCode::SERVICE_UNAVAILABLE)).unwrap();
        assert_eq!(restated["status"], 503);
        assert_eq!(restated["code"], "internal");
    }

    #[test]
    fn every_code_the_route_can_meet_is_answered_with_one_of_its_statuses() {
        let codes = confined_codes();
        let all: Vec<ErrorCode> = codes.iter().flat_map(|(_, c)| c.clone()).collect();
        for code in [
            ErrorCode::TokenInQuery,
            ErrorCode::PayloadTooLarge,
            ErrorCode::ConflictingTokens,
            ErrorCode::TooManyRequests,
            ErrorCode::Internal,
            ErrorCode::Timeout,
            ErrorCode::StoreUnavailable,
            ErrorCode::Unauthenticated,
            ErrorCode::InvalidToken,
            ErrorCode::RequirementNotMet,
            ErrorCode::InvalidRequirement,
        ] {
            assert!(all.contains(&code), "{code}");
        }
        for (status, codes) in &codes {
            for code in codes {
                assert_eq!(confined_status(code.status()).as_u16(), *status, "{code}");
            }
        }
    }
}
