//! `/v1/whoami` and `/v1/spaces/{space_id}/tokens`: who a token is, and issuing, listing,
//! reading, updating, rotating, suspending, resuming and revoking a space's tokens.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use tollgate_app::{IssuedToken, ListTokens, NewToken, RotateToken};
use tollgate_domain::{SpaceId, TokenId, TokenUpdate};

use crate::dto::{
    CreateTokenRequest, CreatedTokenResponse, ListTokensParams, RotateTokenRequest, SpacePath,
    TokenPageResponse, TokenPath, TokenResponse, UpdateTokenRequest, WhoamiResponse,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::openapi::{
    CreateTokenErrors, GetTokenErrors, ListTokensErrors, ResumeTokenErrors, RevokeTokenErrors,
    RotateTokenErrors, SuspendTokenErrors, UpdateTokenErrors, WhoamiErrors,
};
use crate::AppState;

/// 201 with the token's URL and its metadata plus the token string.
type Issued = (
    StatusCode,
    [(HeaderName, String); 1],
    Json<CreatedTokenResponse>,
);

fn issued(space_id: SpaceId, issued: IssuedToken) -> Issued {
    let location = format!("/v1/spaces/{space_id}/tokens/{}", issued.token().id());
    (
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(CreatedTokenResponse::from(issued)),
    )
}

/// Describe the presented token.
///
/// Who the token is and what it may do in its own space (everything, everywhere, for an
/// instance admin token).
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "tokens",
    responses(
        (status = 200, description = "The presented token.", body = WhoamiResponse),
        WhoamiErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn whoami(auth: Authenticated) -> Json<WhoamiResponse> {
    Json(WhoamiResponse::from(auth.verified()))
}

/// Issue a token.
///
/// The answer carries the token string in `token`: the only time it is shown. Needs
/// CREATE_API_TOKEN in the space, and CREATE_ADMIN_API_TOKEN for `level: admin`, which no space
/// token holds: a token never mints an admin token. Without `expires_at`, the server's default
/// lifetime applies (if it has one); an `expires_at` beyond its maximum lifetime is refused.
#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/tokens",
    tag = "tokens",
    params(SpacePath),
    request_body(content = CreateTokenRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The token was issued; `token` is its secret, shown once.",
            body = CreatedTokenResponse,
            headers(("Location" = String, description = "The token's metadata URL."))),
        CreateTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<Issued, ApiError> {
    let cmd = NewToken::try_from(body)?;
    let space_id = SpaceId::from_uuid(path.space_id);
    let token = state.tokens.create(auth.actor(), space_id, cmd).await?;
    Ok(issued(space_id, token))
}

/// Rotate a token.
///
/// Issues its replacement (new id and secret; same name, level and space; `replaces` names the
/// old token) and answers it as creation does, the token string shown this once. The old token
/// keeps working for `grace_period_seconds` (default 0), then fails like a revoked one. Needs
/// the permission to create a token of that level; only an active token can be rotated. The
/// body is optional: no body, an empty body, `{}` and `null` all mean no grace period.
#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/tokens/{token_id}/rotate",
    tag = "tokens",
    params(TokenPath),
    request_body(content = Option<RotateTokenRequest>, content_type = "application/json",
        description = "Optional. None, an empty body, `{}` or `null`: no grace period."),
    responses(
        (status = 201, description = "The replacement was issued; `token` is its secret, \
            shown once.",
            body = CreatedTokenResponse,
            headers(("Location" = String, description = "The new token's metadata URL."))),
        RotateTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn rotate_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
    body: Option<ApiJson<RotateTokenRequest>>,
) -> Result<Issued, ApiError> {
    let cmd = match body {
        Some(ApiJson(body)) => RotateToken::try_from(body)?,
        None => RotateToken::default(),
    };
    let space_id = SpaceId::from_uuid(path.space_id);
    let token = state
        .tokens
        .rotate(
            auth.actor(),
            space_id,
            TokenId::from_uuid(path.token_id),
            cmd,
        )
        .await?;
    Ok(issued(space_id, token))
}

/// List a space's tokens.
///
/// Metadata only, oldest first; active tokens unless `status` asks for others; admin-level
/// tokens only for callers with READ_ADMIN_API_TOKEN.
#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/tokens",
    tag = "tokens",
    params(SpacePath, ListTokensParams),
    responses(
        (status = 200, description = "A page of token metadata.", body = TokenPageResponse),
        ListTokensErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
    ApiQuery(params): ApiQuery<ListTokensParams>,
) -> Result<Json<TokenPageResponse>, ApiError> {
    let query = ListTokens::try_from(params)?;
    let page = state
        .tokens
        .list(auth.actor(), SpaceId::from_uuid(path.space_id), query)
        .await?;
    Ok(Json(TokenPageResponse::from(&page)))
}

/// Read a token's metadata.
///
/// Whatever its status; 404 where the caller may not see the token.
#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/tokens/{token_id}",
    tag = "tokens",
    params(TokenPath),
    responses(
        (status = 200, description = "The token's metadata.", body = TokenResponse),
        GetTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn get_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Json<TokenResponse>, ApiError> {
    let view = state
        .tokens
        .get(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
        )
        .await?;
    Ok(Json(TokenResponse::from(&view)))
}

/// Revoke a token.
///
/// The token fails verification from this moment. Revoking it again answers 204 again.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{space_id}/tokens/{token_id}",
    tag = "tokens",
    params(TokenPath),
    responses(
        (status = 204, description = "The token is revoked."),
        RevokeTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<StatusCode, ApiError> {
    state
        .tokens
        .revoke(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend a token.
///
/// Switches the token off without destroying it: from this moment it fails verification with
/// the same 401 as a revoked token, on every node within revocation's bound, until it is
/// resumed. Console sessions signed in with it end. Suspending a suspended token answers 200
/// again and keeps the first `suspended_at`. Needs REVOKE_API_TOKEN on the token; a revoked,
/// expired or rotated token answers 409. No body.
#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/tokens/{token_id}/suspend",
    tag = "tokens",
    params(TokenPath),
    responses(
        (status = 200, description = "The token is suspended; its metadata.",
            body = TokenResponse),
        SuspendTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn suspend_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Json<TokenResponse>, ApiError> {
    let view = state
        .tokens
        .suspend(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
        )
        .await?;
    Ok(Json(TokenResponse::from(&view)))
}

/// Resume a suspended token.
///
/// The token verifies again, on every node. Resuming an active token answers 200 and changes
/// nothing. Needs REVOKE_API_TOKEN on the token; a revoked, expired or rotated token answers
/// 409. No body.
#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/tokens/{token_id}/resume",
    tag = "tokens",
    params(TokenPath),
    responses(
        (status = 200, description = "The token is active again; its metadata.",
            body = TokenResponse),
        ResumeTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn resume_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Json<TokenResponse>, ApiError> {
    let view = state
        .tokens
        .resume(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
        )
        .await?;
    Ok(Json(TokenResponse::from(&view)))
}

/// Update a token.
///
/// Renames it, describes it, or shortens or extends its expiry; each field changes only when
/// it is sent, and `description: null` removes the description. An expiry may be shortened at
/// any time and extended only within the server's maximum lifetime (422 naming it);
/// `expires_at: null` (never) only where there is no maximum. Needs what rotation needs: the
/// permission to create a token of that level and REVOKE_API_TOKEN on this one. A revoked,
/// expired or rotated token (in its grace period or not) answers 409. A shortened expiry holds
/// on every node as a revocation does. The change is recorded as `token.updated` with the
/// fields that changed.
#[utoipa::path(
    patch,
    path = "/v1/spaces/{space_id}/tokens/{token_id}",
    tag = "tokens",
    params(TokenPath),
    request_body(content = UpdateTokenRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The token as updated; its metadata.", body = TokenResponse),
        UpdateTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn update_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
    ApiJson(body): ApiJson<UpdateTokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let changes = TokenUpdate::try_from(body)?;
    let view = state
        .tokens
        .update(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
            changes,
        )
        .await?;
    Ok(Json(TokenResponse::from(&view)))
}
