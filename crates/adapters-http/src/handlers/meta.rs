//! Routes outside `/v1`: liveness, readiness and the OpenAPI document, plus the fallbacks for
//! unknown paths (404) and methods (405).

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::dto::HealthResponse;
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{HealthErrors, OpenApiErrors, ReadyErrors};
use crate::AppState;

/// Liveness probe.
///
/// 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "The process runs.", body = HealthResponse),
        HealthErrors,
    )
)]
pub(crate) async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

/// Readiness probe.
///
/// 200 when the store answers, 503 `store_unavailable` otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    responses(
        (status = 200, description = "The store answers.", body = HealthResponse),
        ReadyErrors,
    )
)]
pub(crate) async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<HealthResponse>, ApiError> {
    // Whatever the store's failure, the probe's answer is "not ready"; the cause is logged.
    state
        .health
        .check()
        .await
        .map_err(ApiError::store_unavailable)?;
    Ok(Json(HealthResponse { status: "ready" }))
}

/// The OpenAPI document, serialized once per process: it depends on the code alone.
static OPENAPI_JSON: LazyLock<Bytes> = LazyLock::new(|| {
    // A document that fails to serialize is a bug in our annotations; an empty object keeps
    // the route answering rather than panicking.
    Bytes::from(
        crate::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned()),
    )
});

/// This document.
///
/// The OpenAPI 3.1 document of this API, generated from the code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object,
            content_type = "application/json"),
        OpenApiErrors,
    )
)]
pub(crate) async fn openapi_json() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        Bytes::clone(&OPENAPI_JSON),
    )
        .into_response()
}

/// No route has this path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No route matches this path; see /openapi.json.",
    )
}

/// The path exists, the method does not (axum adds the `Allow` header).
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "This path does not support this method; the `Allow` header lists those it does.",
    )
}
