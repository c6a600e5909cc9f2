//! `/v1/spaces/{space_id}/events`: a space's audit trail.

use axum::extract::State;
use axum::Json;
use tollgate_app::PageRequest;
use tollgate_domain::SpaceId;

use crate::dto::{EventPageResponse, PageParams, SpacePath};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, Authenticated};
use crate::openapi::ListEventsErrors;
use crate::AppState;

/// List a space's audit events.
///
/// Newest first: tokens created, rotated, revoked, and revoked or expired tokens presented
/// (`token.rejected`, at most once a minute per token). Needs READ_ADMIN_API_TOKEN in the
/// space. Never a secret.
#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/events",
    tag = "events",
    params(SpacePath, PageParams),
    responses(
        (status = 200, description = "A page of events, newest first.", body = EventPageResponse),
        ListEventsErrors,
    ),
    security(("api_token" = []), ("bearer" = []))
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(path): ApiPath<SpacePath>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<EventPageResponse>, ApiError> {
    let page = PageRequest::try_from(params)?;
    let events = state
        .tokens
        .list_events(auth.actor(), SpaceId::from_uuid(path.space_id), page)
        .await?;
    Ok(Json(EventPageResponse::from(&events)))
}
