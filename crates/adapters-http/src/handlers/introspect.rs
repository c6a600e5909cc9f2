//! `POST /v1/introspect`: token introspection as RFC 7662 has it, for a platform's backend that
//! holds a token string and asks what it is. The caller authenticates with its own token.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tollgate_app::{Introspection, VerifiedToken};
use tollgate_domain::permissions_in_own_space;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::TokenLevelDto;
use crate::error::ApiError;
use crate::extract::{AuthState, Authenticated, RequestAddress};
use crate::form::ApiForm;
use crate::openapi::IntrospectErrors;
use crate::RouterState;

/// The form of `POST /v1/introspect`. Other parameters are ignored, as RFC 7662 allows.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IntrospectRequest {
    /// The token string to introspect.
    #[schema(example = "tgc_...")]
    pub token: String,
    /// A hint of the token's type (`access_token`, say). Accepted and ignored: tollgate has
    /// one kind of token, and the string's prefix says which level it is.
    #[allow(dead_code)] // read by no one, on purpose: the hint is only documented and accepted
    pub token_type_hint: Option<String>,
}

/// What introspection says of a token. Inactive: exactly `{"active": false}`, whatever the
/// reason. Active: every other member set, but `exp` (absent when the token never expires)
/// and `space_id` (absent for an instance admin token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Introspection)]
pub struct IntrospectionResponse {
    /// Whether the token is active: well formed, known, not revoked, not expired, not rotated
    /// past its grace period, and one the caller may know of.
    pub active: bool,
    /// Always `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Bearer")]
    pub token_type: Option<&'static str>,
    /// The token's kind, its prefix without the `_`: `tgc` (client), `tga` (space admin) or
    /// `tgi` (instance admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tgc")]
    pub kind: Option<&'static str>,
    /// Its permissions in its own space, space-separated (every permission for an instance
    /// admin token).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "READ_API_TOKEN")]
    pub scope: Option<String>,
    /// The token's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<Uuid>,
    /// Its space; absent for an instance admin token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_id: Option<Uuid>,
    /// Its level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<TokenLevelDto>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it stops working, in Unix seconds; absent when it never expires. For a rotated
    /// token in its grace period, the end of the grace period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// When it was issued, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

impl IntrospectionResponse {
    /// `{"active": false}`.
    #[must_use]
    pub const fn inactive() -> Self {
        Self {
            active: false,
            token_type: None,
            kind: None,
            scope: None,
            sub: None,
            space_id: None,
            level: None,
            name: None,
            exp: None,
            iat: None,
        }
    }
}

impl From<&VerifiedToken> for IntrospectionResponse {
    fn from(verified: &VerifiedToken) -> Self {
        let token = &verified.token;
        let scope = permissions_in_own_space(&verified.actor)
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let prefix = token.scope().kind().prefix();
        Self {
            active: true,
            token_type: Some("Bearer"),
            kind: Some(prefix.strip_suffix('_').unwrap_or(prefix)),
            scope: Some(scope),
            sub: Some(token.id().as_uuid()),
            space_id: token.space_id().map(|s| s.as_uuid()),
            level: Some(token.level().into()),
            name: Some(token.name().as_str().to_owned()),
            exp: token.expires_at().map(|at| at.unix_timestamp()),
            iat: Some(token.created_at().unix_timestamp()),
        }
    }
}

impl From<&Introspection> for IntrospectionResponse {
    fn from(outcome: &Introspection) -> Self {
        match outcome {
            Introspection::Active(verified) => Self::from(&**verified),
            Introspection::Inactive => Self::inactive(),
        }
    }
}

/// Introspect a token (RFC 7662).
///
/// The caller authenticates with its own token in the header; the token to introspect is the
/// form's `token`. An instance admin token introspects any token, a space admin token (or an
/// owner or admin member) the tokens of its own space; any other caller gets 403. The token is
/// verified exactly as a request's token is, under the same brute-force limits (its failures
/// count against the caller's address and its id, and a blocked one is answered 429), and a
/// success counts as a use of it (`last_used_at`). Anything but an active token the caller may
/// know of is answered `{"active": false}`.
#[utoipa::path(
    post,
    path = "/v1/introspect",
    tag = "tokens",
    request_body(content = IntrospectRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is; `{\"active\": false}` for anything \
            but an active token the caller may know of.", body = IntrospectionResponse),
        IntrospectErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn introspect(
    State(state): State<RouterState>,
    auth: Authenticated,
    RequestAddress(address): RequestAddress,
    ApiForm(form): ApiForm<IntrospectRequest>,
) -> Result<Json<IntrospectionResponse>, ApiError> {
    let outcome = state
        .token_service()
        .introspect(auth.actor(), &form.token, state.auth_limits(), address)
        .await?;
    Ok(Json(IntrospectionResponse::from(&outcome)))
}
