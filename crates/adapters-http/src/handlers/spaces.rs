//! `/v1/spaces`: create (instance admins), list and read spaces.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::Json;
use tollgate_app::{NewSpace, PageRequest};
use tollgate_domain::SpaceId;

use crate::dto::{CreateSpaceRequest, PageParams, SpacePageResponse, SpacePath, SpaceResponse};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::openapi::{CreateSpaceErrors, GetSpaceErrors, ListSpacesErrors};
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
