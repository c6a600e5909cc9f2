//! The OpenAPI document's frame: title, tags, the two security schemes and the shared
//! `Problem` schema, plus the error responses each operation documents. The operations
//! themselves come from the handlers' `#[utoipa::path]` attributes.

use std::collections::BTreeMap;

use tollgate_domain::TokenKind;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorCode, Problem, PROBLEM_JSON};
use crate::TOKEN_HEADER;

/// The name of the `x-undb-api-token` security scheme.
pub(crate) const API_TOKEN_SCHEME: &str = "api_token";
/// The name of the `Authorization: Bearer` security scheme.
pub(crate) const BEARER_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tollgate",
        description = "Issues, lists, verifies and revokes space-scoped API tokens. Errors are \
                       `application/problem+json` (RFC 9457) with a stable `code` member."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Problem, ErrorCode)),
    tags(
        (name = "meta", description = "Health, readiness and this document."),
        (name = "tokens", description = "API tokens: whoami, create, list, read, rotate, revoke."),
        (name = "spaces", description = "Spaces (workspaces, tenants) that own tokens."),
        (name = "events", description = "The audit trail of a space's tokens."),
    )
)]
pub(crate) struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_TOKEN_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                TOKEN_HEADER.to_owned(),
                format!(
                    "The token, e.g. `{}...`, in the platform's token header.",
                    TokenKind::Client.prefix()
                ),
            ))),
        );
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The same token as `Authorization: Bearer <token>`."))
                    .build(),
            ),
        );
    }
}

/// One problem+json response, with the `WWW-Authenticate` header where RFC 6750 asks for it.
fn problem(status: u16, description: &str) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if status == 401 || status == 403 {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .description(Some(
                    "`Bearer realm=\"tollgate\"`, with `error=\"invalid_token\"` for a rejected \
                     token and `error=\"insufficient_scope\"` for a missing permission.",
                ))
                .build(),
        );
    }
    RefOr::T(response.build())
}

fn problems(entries: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, description)| (status.to_string(), problem(*status, description)))
        .collect()
}

/// Declares a type whose `IntoResponses` lists an operation's error responses.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident { $($status:literal => $description:expr,)+ })+) => {$(
        $(#[$doc])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$(($status, $description)),+])
            }
        }
    )+};
}

const E401: &str = "`unauthenticated`: no token was sent; `invalid_token`: the token is \
                    malformed, unknown, expired, revoked, or rotated and past its grace period \
                    (one answer for all).";
const E429: &str = "`too_many_requests`: too many failed authentications from this client \
                    address or for this token id; retry after `Retry-After` seconds. The token \
                    was not verified.";
const E500: &str = "`internal`: the server failed; the cause is logged, the body is opaque.";
const E503: &str = "`store_unavailable`: the token store cannot be reached; `timeout`: the \
                    request took too long.";
const E413: &str = "`payload_too_large`: the body is over 64 KiB.";
const E415: &str = "`unsupported_media_type`: the body is not `application/json`.";

error_responses! {
    /// `GET /healthz`.
    HealthErrors {
        400 => "`token_in_query`: a token was sent in the query string.",
        503 => "`timeout`: the request took too long.",
    }
    /// `GET /readyz`.
    ReadyErrors {
        400 => "`token_in_query`: a token was sent in the query string.",
        503 => "`store_unavailable`: the store does not answer; `timeout`.",
    }
    /// `GET /openapi.json`.
    OpenApiErrors {
        400 => "`token_in_query`: a token was sent in the query string.",
        503 => "`timeout`: the request took too long.",
    }
    /// `GET /v1/whoami`.
    WhoamiErrors {
        400 => "`token_in_query`; `conflicting_tokens`: the two headers carry different tokens.",
        401 => E401,
        429 => E429,
        500 => E500,
        503 => E503,
    }
    /// `POST /v1/spaces`.
    CreateSpaceErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `malformed_json`: the body is not JSON.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: creating spaces needs MANAGE_SPACES (instance admin tokens).",
        413 => E413,
        415 => E415,
        422 => "`invalid_body`: unknown, missing or mistyped field; `invalid_name`: empty, \
                longer than 100 characters or holding control characters.",
        500 => E500,
        503 => E503,
    }
    /// `GET /v1/spaces`.
    ListSpacesErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_limit`; `invalid_cursor`; \
                `invalid_query`.",
        401 => E401,
        429 => E429,
        500 => E500,
        503 => E503,
    }
    /// `GET /v1/spaces/{space_id}`.
    GetSpaceErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`: `space_id` is no UUID.",
        401 => E401,
        429 => E429,
        404 => "`space_not_found`: no such space, or not one this token may see.",
        500 => E500,
        503 => E503,
    }
    /// `POST /v1/spaces/{space_id}/tokens`.
    CreateTokenErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`; `malformed_json`.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: needs CREATE_API_TOKEN in the space, and CREATE_ADMIN_API_TOKEN \
                for `level: admin` (which no space token holds).",
        404 => "`space_not_found`: no such space, or not one this token may see.",
        413 => E413,
        415 => E415,
        422 => "`invalid_body`; `invalid_name`; `invalid_level`: not `client` or `admin`; \
                `expires_at_not_in_future`; `expires_at_beyond_maximum`: further away than \
                the server's maximum token lifetime (the detail names it in days).",
        500 => E500,
        503 => E503,
    }
    /// `GET /v1/spaces/{space_id}/tokens`.
    ListTokensErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`; `invalid_limit`; \
                `invalid_cursor`; `invalid_query`: `level` is not `client` or `admin`, or \
                `status` is not `all` or a comma-separated list of `active`, `expired`, \
                `revoked`, `rotated`.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: needs READ_API_TOKEN in the space.",
        404 => "`space_not_found`: no such space, or not one this token may see.",
        500 => E500,
        503 => E503,
    }
    /// `GET /v1/spaces/{space_id}/tokens/{token_id}`.
    GetTokenErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`.",
        401 => E401,
        429 => E429,
        404 => "`space_not_found`; `token_not_found`: no such token in the space, or one this \
                token may not see (a client token never sees admin tokens).",
        500 => E500,
        503 => E503,
    }
    /// `POST /v1/spaces/{space_id}/tokens/{token_id}/rotate`.
    RotateTokenErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`; `malformed_json`.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: rotating needs the permission to create a token of that level \
                (CREATE_API_TOKEN for a client token, CREATE_ADMIN_API_TOKEN for an admin \
                token, which no space token holds).",
        404 => "`space_not_found`; `token_not_found`.",
        409 => "`token_not_active`: the token is revoked, expired or already rotated (the \
                detail says which); only an active token can be rotated.",
        413 => E413,
        415 => E415,
        422 => "`invalid_body`: an unknown field or a value of the wrong type; \
                `invalid_grace_period`: `grace_period_seconds` is not a whole number from 0 \
                to 604800.",
        500 => E500,
        503 => E503,
    }
    /// `GET /v1/spaces/{space_id}/events`.
    ListEventsErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`; `invalid_limit`; \
                `invalid_cursor`; `invalid_query`.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: needs READ_ADMIN_API_TOKEN in the space.",
        404 => "`space_not_found`: no such space, or not one this token may see.",
        500 => E500,
        503 => E503,
    }
    /// `DELETE /v1/spaces/{space_id}/tokens/{token_id}`.
    RevokeTokenErrors {
        400 => "`token_in_query`; `conflicting_tokens`; `invalid_id`.",
        401 => E401,
        429 => E429,
        403 => "`forbidden`: needs REVOKE_API_TOKEN in the space.",
        404 => "`space_not_found`; `token_not_found`.",
        500 => E500,
        503 => E503,
    }
}
