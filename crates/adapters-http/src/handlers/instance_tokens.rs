//! `/v1/instance/tokens`: the instance admin tokens (level `admin`, no space), managed by
//! instance admins: listing, issuing, reading, updating, rotating and revoking them. The last
//! active one is never revoked here (409 `last_instance_admin_token`). A token of a space, or
//! a member acted for, gets 403 on the listing and on creation, and 404 for any one instance
//! token, which it may not know of. The use cases are the space tokens' own, at
//! [`TokenHome::Instance`].

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use tollgate_app::{IssuedToken, ListInstanceTokens, RotateToken, TokenHome};
use tollgate_domain::{TokenId, TokenUpdate};

use crate::dto::{
    CreateInstanceTokenRequest, CreatedTokenResponse, InstanceTokenPath, ListInstanceTokensParams,
    RotateTokenRequest, TokenPageResponse, TokenResponse, UpdateTokenRequest,
};
use crate::error::{at_instance, ApiError};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::openapi::{
    CreateInstanceTokenErrors, GetInstanceTokenErrors, ListInstanceTokensErrors,
    RevokeInstanceTokenErrors, RotateInstanceTokenErrors, UpdateInstanceTokenErrors,
};
use crate::AppState;

/// 201 with the token's URL and its metadata plus the token string.
type Issued = (
    StatusCode,
    [(HeaderName, String); 1],
    Json<CreatedTokenResponse>,
);

fn issued(issued: IssuedToken) -> Issued {
    let location = format!("/v1/instance/tokens/{}", issued.token().id());
    (
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(CreatedTokenResponse::from(issued)),
    )
}

/// List the instance admin tokens.
///
/// Metadata only, oldest first; active tokens unless `status` asks for others. Instance admin
/// tokens only (403 for any other caller).
#[utoipa::path(
    get,
    path = "/v1/instance/tokens",
    tag = "instance",
    params(ListInstanceTokensParams),
    responses(
        (status = 200, description = "A page of instance admin token metadata.",
            body = TokenPageResponse),
        ListInstanceTokensErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn list_instance_tokens(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ListInstanceTokensParams>,
) -> Result<Json<TokenPageResponse>, ApiError> {
    let query = ListInstanceTokens::try_from(params)?;
    let page = state
        .tokens
        .list_instance_admins(auth.actor(), query)
        .await
        .map_err(at_instance)?;
    Ok(Json(TokenPageResponse::from(&page)))
}

/// Issue another instance admin token.
///
/// Level `admin`, no space: it manages spaces and acts in every space. The answer carries the
/// token string in `token`, the only time it is shown. Instance admin tokens only (403 for any
/// other caller). Without `expires_at`, the server's default lifetime applies (if it has one);
/// an `expires_at` beyond its maximum lifetime is refused.
#[utoipa::path(
    post,
    path = "/v1/instance/tokens",
    tag = "instance",
    request_body(content = CreateInstanceTokenRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The token was issued; `token` is its secret, shown once.",
            body = CreatedTokenResponse,
            headers(("Location" = String, description = "The token's metadata URL."))),
        CreateInstanceTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn create_instance_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateInstanceTokenRequest>,
) -> Result<Issued, ApiError> {
    let (name, expires_at) = body.into_parts()?;
    let token = state
        .tokens
        .create_instance_admin(auth.actor(), name, expires_at)
        .await
        .map_err(at_instance)?;
    Ok(issued(token))
}

/// Read an instance admin token's metadata.
///
/// Whatever its status; 404 for a caller that is not an instance admin.
#[utoipa::path(
    get,
    path = "/v1/instance/tokens/{token_id}",
    tag = "instance",
    params(InstanceTokenPath),
    responses(
        (status = 200, description = "The token's metadata.", body = TokenResponse),
        GetInstanceTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn get_instance_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<InstanceTokenPath>,
) -> Result<Json<TokenResponse>, ApiError> {
    let view = state
        .tokens
        .get(
            auth.actor(),
            TokenHome::Instance,
            TokenId::from_uuid(path.token_id),
        )
        .await
        .map_err(at_instance)?;
    Ok(Json(TokenResponse::from(&view)))
}

/// Revoke an instance admin token.
///
/// The token fails verification from this moment, on every node as any revocation. Revoking
/// it again answers 204 again. The last active instance admin token is not revoked: 409
/// `last_instance_admin_token`, whose detail says how to go on.
#[utoipa::path(
    delete,
    path = "/v1/instance/tokens/{token_id}",
    tag = "instance",
    params(InstanceTokenPath),
    responses(
        (status = 204, description = "The token is revoked."),
        RevokeInstanceTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn revoke_instance_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<InstanceTokenPath>,
) -> Result<StatusCode, ApiError> {
    state
        .tokens
        .revoke(
            auth.actor(),
            TokenHome::Instance,
            TokenId::from_uuid(path.token_id),
        )
        .await
        .map_err(at_instance)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate an instance admin token.
///
/// Issues its replacement (new id and secret, same name; `replaces` names the old token) and
/// answers it as creation does, the token string shown this once. The old token keeps working
/// for `grace_period_seconds` (default 0), then fails like a revoked one. Only an active token
/// can be rotated. The body is optional: no body, an empty body, `{}` and `null` all mean no
/// grace period.
#[utoipa::path(
    post,
    path = "/v1/instance/tokens/{token_id}/rotate",
    tag = "instance",
    params(InstanceTokenPath),
    request_body(content = Option<RotateTokenRequest>, content_type = "application/json",
        description = "Optional. None, an empty body, `{}` or `null`: no grace period."),
    responses(
        (status = 201, description = "The replacement was issued; `token` is its secret, \
            shown once.",
            body = CreatedTokenResponse,
            headers(("Location" = String, description = "The new token's metadata URL."))),
        RotateInstanceTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn rotate_instance_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<InstanceTokenPath>,
    body: Option<ApiJson<RotateTokenRequest>>,
) -> Result<Issued, ApiError> {
    let cmd = match body {
        Some(ApiJson(body)) => RotateToken::try_from(body)?,
        None => RotateToken::default(),
    };
    let token = state
        .tokens
        .rotate(
            auth.actor(),
            TokenHome::Instance,
            TokenId::from_uuid(path.token_id),
            cmd,
        )
        .await
        .map_err(at_instance)?;
    Ok(issued(token))
}

/// Update an instance admin token.
///
/// Renames it, describes it, or shortens or extends its expiry, as for a space's token; each
/// field changes only when it is sent. A revoked, expired or rotated token answers 409. The
/// change is recorded as `token.updated`.
#[utoipa::path(
    patch,
    path = "/v1/instance/tokens/{token_id}",
    tag = "instance",
    params(InstanceTokenPath),
    request_body(content = UpdateTokenRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The token as updated; its metadata.", body = TokenResponse),
        UpdateInstanceTokenErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn update_instance_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<InstanceTokenPath>,
    ApiJson(body): ApiJson<UpdateTokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let changes = TokenUpdate::try_from(body)?;
    let view = state
        .tokens
        .update(
            auth.actor(),
            TokenHome::Instance,
            TokenId::from_uuid(path.token_id),
            changes,
        )
        .await
        .map_err(at_instance)?;
    Ok(Json(TokenResponse::from(&view)))
}
