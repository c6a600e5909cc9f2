//! The OpenAPI document's frame: title, tags, the two security schemes and the shared
//! `Problem` schema, plus the error responses each operation documents, built from the lists
//! of codes that `error.rs`, the extractors, the DTOs and the middleware declare (the words
//! are each code's own description). The operations themselves come from the handlers'
//! `#[utoipa::path]` attributes.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use tollgate_app::{
    CreateSpaceError, CreateTokenError, DeleteSpaceError, GetSpaceError, GetTokenError,
    IntrospectError, ListEventsError, ListSpacesError, ListTokensError, RenameSpaceError,
    ReportLeakError, ResumeTokenError, RevokeTokenError, RotateTokenError, SuspendTokenError,
    UpdateTokenError,
};
use tollgate_domain::TokenKind;

use crate::dto::{
    CreateInstanceTokenRequest, CreateSpaceRequest, CreateTokenRequest, ListInstanceTokensParams,
    ListTokensParams, PageParams, RenameSpaceRequest, RotateTokenRequest, TokenStatusFilterDto,
    UpdateTokenRequest,
};
use crate::error::{ErrorCode, ErrorCodes, Problem, PROBLEM_JSON};
use crate::extract::{AUTH_CODES, BODY_CODES, PATH_CODES, QUERY_CODES};
use crate::form::FORM_CODES;
use crate::middleware::EVERY_ROUTE_CODES;
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
    components(schemas(Problem, ErrorCode, TokenStatusFilterDto)),
    tags(
        (name = "meta", description = "Health, readiness and this document."),
        (name = "tokens", description = "API tokens: whoami, create, list, read, update, rotate, \
            suspend, resume, revoke."),
        (name = "spaces", description = "Spaces (workspaces, tenants) that own tokens: create, \
            list, read, rename, delete."),
        (name = "instance", description = "Instance admin tokens (level `admin`, no space), \
            managed by instance admins: list, create, read, update, rotate, revoke."),
        (name = "events", description = "The audit trail of a space's tokens."),
        (name = "gateways", description = "Forward auth for gateways in front of an API."),
        (name = "credentials", description = "Reporting leaked tokens, without authentication."),
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

/// `document` with the optional `X-Tollgate-Act-As` header parameter on every operation that
/// takes a token (those with a security requirement): [`Authenticated`](crate::Authenticated)
/// reads it on all of them. Its 400 and 403 codes are among the authentication codes.
pub(crate) fn with_act_as_header(
    mut document: utoipa::openapi::OpenApi,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;

    let parameter = ParameterBuilder::new()
        .name("X-Tollgate-Act-As")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Only with an instance admin token (else 403 `act_as_forbidden`): act for a \
             platform's member, `user=<id>; space=<uuid>; role=<owner|admin|editor|viewer>`, \
             the user id 1 to 128 characters of `[A-Za-z0-9._:@-]`. The request is then decided \
             by that member's permissions, `created_by` records `user:<id>` and the events \
             record the instance admin token as `via_token_id`. Malformed: 400 \
             `invalid_act_as`. The `pattern` gives the parameters in this order; the server \
             takes them in any order too.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(crate::act_as::canonical_pattern()))
                .examples(["user=42; space=0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f00; role=editor"]),
        ))
        .build();
    for operation in operations_mut(&mut document) {
        if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(parameter.clone());
        }
    }
    document
}

/// Every operation of `document` that the API serves with a body or a token (forward auth's
/// other methods have neither).
fn operations_mut(
    document: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// `document` with every optional body (`Option<T>` in a handler's `request_body`, which utoipa
/// writes as `oneOf: [{type: null}, T]`) written as `T` with `required: false`: the server
/// takes no body, an empty one, `{}` and `null` alike, and a generator given the null
/// alternative builds a client that cannot send "no body" (openapi-python-client serialises
/// its `Unset` marker).
pub(crate) fn with_optional_bodies(
    mut document: utoipa::openapi::OpenApi,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::Required;

    for operation in operations_mut(&mut document) {
        let Some(body) = operation.request_body.as_mut() else {
            continue;
        };
        let mut optional = false;
        for content in body.content.values_mut() {
            if let Some(target) = content.schema.as_ref().and_then(nullable_ref) {
                content.schema = Some(RefOr::Ref(Ref::new(target)));
                optional = true;
            }
        }
        if optional {
            body.required = Some(Required::False);
        }
    }
    document
}

/// The reference `X` of a schema `oneOf: [{type: null}, {$ref: X}]`, if it is one.
fn nullable_ref(schema: &RefOr<utoipa::openapi::schema::Schema>) -> Option<String> {
    let value = serde_json::to_value(schema).ok()?;
    let object = value.as_object()?;
    let items = object.get("oneOf")?.as_array()?;
    if object.len() != 1 || items.len() != 2 {
        return None;
    }
    let null = serde_json::json!({ "type": "null" });
    let (first, second) = (&items[0], &items[1]);
    let reference = if *first == null {
        second
    } else if *second == null {
        first
    } else {
        return None;
    };
    reference
        .as_object()
        .filter(|r| r.len() == 1)?
        .get("$ref")?
        .as_str()
        .map(str::to_owned)
}

/// The codes whose answers carry `Retry-After`: every 429, and a leak report refused for want
/// of room in its queue.
const RETRY_AFTER_CODES: &[ErrorCode] = &[
    ErrorCode::TooManyRequests,
    ErrorCode::TooManyCredentials,
    ErrorCode::ReportQueueFull,
];

/// One problem+json response for `codes`, all of `status`, with the `WWW-Authenticate` header
/// where RFC 6750 asks for it and `Retry-After` where one of them sends it.
fn problem(status: u16, codes: &[ErrorCode]) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(describe(codes)).content(
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
    let waits: Vec<String> = codes
        .iter()
        .filter(|code| RETRY_AFTER_CODES.contains(code) && code.status().as_u16() == status)
        .map(|code| format!("`{code}`"))
        .collect();
    if !waits.is_empty() {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    utoipa::openapi::schema::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some(format!(
                    "How many whole seconds to wait before trying again; sent with {}.",
                    waits.join(" and ")
                )))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// An operation's error responses: the codes of its lists but those of `except` (which the
/// operation cannot meet though a list it shares holds them), grouped by status, each status
/// described by its codes' own descriptions (in the order of [`ErrorCode::ALL`]).
fn problems(lists: &[&[ErrorCode]], except: &[ErrorCode]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for &code in ErrorCode::ALL {
        if lists.iter().any(|list| list.contains(&code)) && !except.contains(&code) {
            by_status
                .entry(code.status().as_u16())
                .or_default()
                .push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), problem(status, &codes)))
        .collect()
}

/// "`forbidden`: the token is valid but ...; `...`: ...": each code with its description, as
/// one sentence.
fn describe(codes: &[ErrorCode]) -> String {
    let clauses: Vec<String> = codes
        .iter()
        .map(|code| {
            let description = code.description();
            let description = description.strip_suffix('.').unwrap_or(description);
            format!("`{code}`: {}", lowercase_first_word(description))
        })
        .collect();
    format!("{}.", clauses.join("; "))
}

/// `description` with its first letter lowercased, unless its first word is a constant's name
/// (`MANAGE_SPACES`) or starts with a backtick.
fn lowercase_first_word(description: &str) -> String {
    let mut chars = description.chars();
    let first = chars.next();
    let constant = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
    match first {
        Some(first) if first.is_ascii_uppercase() && !constant => {
            let mut out = String::with_capacity(description.len());
            out.push(first.to_ascii_lowercase());
            out.push_str(&description[first.len_utf8()..]);
            out
        }
        _ => description.to_owned(),
    }
}

/// Declares a type whose `IntoResponses` lists an operation's error responses, from the lists
/// of codes that the machinery the operation runs through can answer.
/// A list may be followed by `except [codes]`: codes a shared list holds that this operation
/// cannot meet (a space's `space_not_found` at the instance's routes, say).
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident = [$($codes:expr),+ $(,)?]
        $(except [$($except:expr),+ $(,)?])?;)+) => {$(
        $(#[$doc])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$($codes),+], &[$($($except),+)?])
            }
        }
    )+};
}

// Each operation is its route's middleware, then its extractors in the handler's order, then
// the conversion of its body or query into a command, then its service call.
error_responses! {
    /// `GET /healthz`.
    HealthErrors = [EVERY_ROUTE_CODES];
    /// `GET /readyz`: a failed check is `store_unavailable`, whatever the store's failure.
    ReadyErrors = [EVERY_ROUTE_CODES, &[ErrorCode::StoreUnavailable]];
    /// `GET /openapi.json`.
    OpenApiErrors = [EVERY_ROUTE_CODES];
    /// `GET /v1/whoami`.
    WhoamiErrors = [EVERY_ROUTE_CODES, AUTH_CODES];
    /// `POST /v1/spaces`.
    CreateSpaceErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        BODY_CODES,
        CreateSpaceRequest::CODES,
        CreateSpaceError::CODES,
    ];
    /// `GET /v1/spaces`.
    ListSpacesErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        QUERY_CODES,
        PageParams::CODES,
        ListSpacesError::CODES,
    ];
    /// `GET /v1/spaces/{space_id}`.
    GetSpaceErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, GetSpaceError::CODES];
    /// `PATCH /v1/spaces/{space_id}`.
    RenameSpaceErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        RenameSpaceRequest::CODES,
        RenameSpaceError::CODES,
    ];
    /// `DELETE /v1/spaces/{space_id}`.
    DeleteSpaceErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, DeleteSpaceError::CODES];
    /// `POST /v1/spaces/{space_id}/tokens`.
    CreateTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        CreateTokenRequest::CODES,
        CreateTokenError::CODES,
    ];
    /// `GET /v1/spaces/{space_id}/tokens`.
    ListTokensErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        QUERY_CODES,
        ListTokensParams::CODES,
        ListTokensError::CODES,
    ];
    /// `GET /v1/spaces/{space_id}/tokens/{token_id}`.
    GetTokenErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, GetTokenError::CODES];
    /// `POST /v1/spaces/{space_id}/tokens/{token_id}/rotate`.
    RotateTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        RotateTokenRequest::CODES,
        RotateTokenError::CODES,
    ];
    /// `PATCH /v1/spaces/{space_id}/tokens/{token_id}`.
    UpdateTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        UpdateTokenRequest::CODES,
        UpdateTokenError::CODES,
    ];
    /// `POST /v1/spaces/{space_id}/tokens/{token_id}/suspend`.
    SuspendTokenErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, SuspendTokenError::CODES];
    /// `POST /v1/spaces/{space_id}/tokens/{token_id}/resume`.
    ResumeTokenErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, ResumeTokenError::CODES];
    /// `GET /v1/spaces/{space_id}/events`.
    ListEventsErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        QUERY_CODES,
        PageParams::CODES,
        ListEventsError::CODES,
    ];
    /// `POST /v1/introspect`.
    IntrospectErrors = [EVERY_ROUTE_CODES, AUTH_CODES, FORM_CODES, IntrospectError::CODES];
    /// `DELETE /v1/spaces/{space_id}/tokens/{token_id}`: a space token is never the last
    /// instance admin token.
    RevokeTokenErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, RevokeTokenError::CODES]
        except [ErrorCode::LastInstanceAdminToken];
    /// `GET /v1/instance/tokens`: no space, so no `space_not_found`.
    ListInstanceTokensErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        QUERY_CODES,
        ListInstanceTokensParams::CODES,
        ListTokensError::CODES,
    ] except [ErrorCode::SpaceNotFound];
    /// `POST /v1/instance/tokens`.
    CreateInstanceTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        BODY_CODES,
        CreateInstanceTokenRequest::CODES,
        CreateTokenError::CODES,
    ] except [ErrorCode::SpaceNotFound];
    /// `GET /v1/instance/tokens/{token_id}`.
    GetInstanceTokenErrors = [EVERY_ROUTE_CODES, AUTH_CODES, PATH_CODES, GetTokenError::CODES]
        except [ErrorCode::SpaceNotFound];
    /// `DELETE /v1/instance/tokens/{token_id}`.
    RevokeInstanceTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        RevokeTokenError::CODES,
    ] except [ErrorCode::SpaceNotFound];
    /// `POST /v1/instance/tokens/{token_id}/rotate`.
    RotateInstanceTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        RotateTokenRequest::CODES,
        RotateTokenError::CODES,
    ] except [ErrorCode::SpaceNotFound];
    /// `PATCH /v1/instance/tokens/{token_id}`.
    UpdateInstanceTokenErrors = [
        EVERY_ROUTE_CODES,
        AUTH_CODES,
        PATH_CODES,
        BODY_CODES,
        UpdateTokenRequest::CODES,
        UpdateTokenError::CODES,
    ] except [ErrorCode::SpaceNotFound];
    /// `POST /v1/credentials/revoke`: no token, so none of the authentication codes.
    ReportLeaksErrors = [EVERY_ROUTE_CODES, BODY_CODES, ReportLeakError::CODES];
}

/// `/v1/auth` and below: 200 with the identity headers, and every code the stack can answer,
/// under the status forward auth answers it with.
pub(crate) struct ForwardAuthResponses;

impl utoipa::IntoResponses for ForwardAuthResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses: BTreeMap<String, RefOr<Response>> =
            crate::handlers::forward_auth::confined_codes()
                .into_iter()
                .map(|(status, codes)| (status.to_string(), problem(status, &codes)))
                .collect();
        let header =
            |description: &str| HeaderBuilder::new().description(Some(description)).build();
        let ok = ResponseBuilder::new()
            .description("The token is valid and meets the requirements. No body.")
            .header("X-Tollgate-Token-Id", header("The token's id."))
            .header(
                "X-Tollgate-Space-Id",
                header("The token's space; `*` for an instance admin, never empty."),
            )
            .header(
                "X-Tollgate-Level",
                header("`client` or `admin` (an instance admin is `admin`)."),
            )
            .header(
                "X-Tollgate-Permissions",
                header("What the token may do in its own space, comma-separated."),
            )
            .build();
        responses.insert("200".to_owned(), RefOr::T(ok));
        responses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_described_by_its_codes_in_one_sentence() {
        assert_eq!(
            describe(&[ErrorCode::Unauthenticated, ErrorCode::InvalidLimit]),
            "`unauthenticated`: no token was sent; `invalid_limit`: `limit` is not a whole \
             number from 1 to 100."
        );
        assert_eq!(lowercase_first_word("A path id"), "a path id");
        assert_eq!(lowercase_first_word("MANAGE_SPACES is"), "MANAGE_SPACES is");
        assert_eq!(lowercase_first_word("X"), "x");
        assert_eq!(lowercase_first_word(""), "");
    }

    #[test]
    fn codes_are_grouped_by_status_once_each_whatever_the_lists_repeat() {
        let responses = problems(
            &[
                &[ErrorCode::Timeout, ErrorCode::Internal],
                &[ErrorCode::StoreUnavailable, ErrorCode::Internal],
            ],
            &[],
        );
        assert_eq!(responses.keys().collect::<Vec<_>>(), ["500", "503"]);
        let RefOr::T(unavailable) = &responses["503"] else {
            panic!("an inline response");
        };
        assert!(unavailable
            .description
            .starts_with("`store_unavailable`: the token store"));
        assert_eq!(unavailable.description.matches("`timeout`").count(), 1);
    }
}
