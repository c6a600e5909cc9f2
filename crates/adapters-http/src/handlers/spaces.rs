//! `/v1/spaces`: create, rename and delete (instance admins), list and read spaces.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::Json;
use tollgate_app::{NewSpace, PageRequest};
use tollgate_domain::{SpaceId, SpaceName};

use crate::dto::{
    CreateSpaceRequest, PageParams, RenameSpaceRequest, SpacePageResponse, SpacePath, SpaceResponse,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::openapi::{
    CreateSpaceErrors, DeleteSpaceErrors, GetSpaceErrors, ListSpacesErrors, RenameSpaceErrors,
};
use crate::AppState;

/// Create a space.
///
/// Needs MANAGE_SPACES, which only instance admin tokens hold.
#[utoipa::path(
    post,
    path = "/v1/spaces",
    tag = "spaces",
    request_body(content = CreateSpaceRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The space was created.", body = SpaceResponse,
            headers(("Location" = String, description = "The space's URL."))),
        CreateSpaceErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn create_space(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateSpaceRequest>,
) -> Result<
    (
        StatusCode,
        [(axum::http::HeaderName, String); 1],
        Json<SpaceResponse>,
    ),
    ApiError,
> {
    let cmd = NewSpace::try_from(body)?;
    let space = state.spaces.create(auth.actor(), cmd).await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/v1/spaces/{}", space.id))],
        Json(SpaceResponse::from(&space)),
    ))
}

/// List spaces.
///
/// Every space for an instance admin token, its own for a space token; oldest first.
#[utoipa::path(
    get,
    path = "/v1/spaces",
    tag = "spaces",
    params(PageParams),
    responses(
        (status = 200, description = "A page of spaces.", body = SpacePageResponse),
        ListSpacesErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn list_spaces(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SpacePageResponse>, ApiError> {
    let page = PageRequest::try_from(params)?;
    let spaces = state.spaces.list(auth.actor(), page).await?;
    Ok(Json(SpacePageResponse::from(&spaces)))
}

/// Read a space.
///
/// A space the token may not see answers 404, exactly as one that exists nowhere.
#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "The space.", body = SpaceResponse),
        GetSpaceErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn get_space(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
) -> Result<Json<SpaceResponse>, ApiError> {
    let space = state
        .spaces
        .get(auth.actor(), SpaceId::from_uuid(path.space_id))
        .await?;
    Ok(Json(SpaceResponse::from(&space)))
}

/// Rename a space.
///
/// Needs MANAGE_SPACES, which only instance admin tokens hold. Records a `space.renamed` event
/// when the name changes; the same name again changes nothing. A deleted space answers 404.
#[utoipa::path(
    patch,
    path = "/v1/spaces/{space_id}",
    tag = "spaces",
    params(SpacePath),
    request_body(content = RenameSpaceRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The space, renamed.", body = SpaceResponse),
        RenameSpaceErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn rename_space(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
    ApiJson(body): ApiJson<RenameSpaceRequest>,
) -> Result<Json<SpaceResponse>, ApiError> {
    let name = SpaceName::try_from(body)?;
    let space = state
        .spaces
        .rename(auth.actor(), SpaceId::from_uuid(path.space_id), name)
        .await?;
    Ok(Json(SpaceResponse::from(&space)))
}

/// Delete a space.
///
/// Needs MANAGE_SPACES, which only instance admin tokens hold. Every token of the space is
/// revoked with it and fails verification from this moment, on every node; console sessions
/// signed in with them end. The space then answers 404 everywhere, except that instance admins
/// still read its events (`GET /v1/spaces/{space_id}/events`, ending with `space.deleted`).
/// Deletion is final. Deleting it again answers 204 again.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{space_id}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 204, description = "The space is deleted, and every token of it revoked."),
        DeleteSpaceErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn delete_space(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
) -> Result<StatusCode, ApiError> {
    state
        .spaces
        .delete(auth.actor(), SpaceId::from_uuid(path.space_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
