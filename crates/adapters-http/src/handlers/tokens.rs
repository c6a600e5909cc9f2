//! `/v1/whoami` and `/v1/spaces/{space_id}/tokens`: who a token is, and issuing, listing,
//! reading and revoking a space's tokens.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use tollgate_app::{ListTokens, NewToken};
use tollgate_domain::{SpaceId, TokenId};

use crate::dto::{
    CreateTokenRequest, CreatedTokenResponse, ListTokensParams, SpacePath, TokenPageResponse,
    TokenPath, TokenResponse, WhoamiResponse,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::openapi::{
    CreateTokenErrors, GetTokenErrors, ListTokensErrors, RevokeTokenErrors, WhoamiErrors,
};
use crate::AppState;

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
/// token holds: a token never mints an admin token.
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
) -> Result<
    (
        StatusCode,
        [(HeaderName, String); 1],
        Json<CreatedTokenResponse>,
    ),
    ApiError,
> {
    let cmd = NewToken::try_from(body)?;
    let space_id = SpaceId::from_uuid(path.space_id);
    let issued = state.tokens.create(auth.actor(), space_id, cmd).await?;
    let location = format!("/v1/spaces/{space_id}/tokens/{}", issued.token.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(CreatedTokenResponse::from(issued)),
    ))
}

/// List a space's tokens.
///
/// Metadata only, oldest first, revoked tokens left out; admin-level tokens only for callers
/// with READ_ADMIN_API_TOKEN.
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
/// Revoked tokens too; 404 where the caller may not see the token.
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
    let token = state
        .tokens
        .get(
            auth.actor(),
            SpaceId::from_uuid(path.space_id),
            TokenId::from_uuid(path.token_id),
        )
        .await?;
    Ok(Json(TokenResponse::from(&token)))
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
