//! `POST /v1/credentials/revoke`: the leak report, as GitHub's credential revocation API has it.
//! Anyone who finds tollgate tokens where they should not be reports them here, without
//! authentication; every reported string that is a valid token is revoked. The answer comes
//! once the strings have been checked offline, and is the same whatever they were.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::dto::{LeakReportAccepted, LeakReportRequest};
use crate::error::ApiError;
use crate::extract::{ApiJson, RequestAddress};
use crate::openapi::ReportLeaksErrors;
use crate::RouterState;

/// Where leak reports are sent.
pub(crate) const LEAK_REPORT_PATH: &str = "/v1/credentials/revoke";

/// Report leaked tokens.
///
/// No authentication: whoever finds a tollgate token in a commit, a paste or a log sends it
/// here, as secret scanners do (docs/security.md gives the pattern they match). `credentials`
/// holds 1 to 1000 strings of any kind. The answer, 202 with always the same body, comes once
/// each string has been checked offline (format and checksum), so it tells nothing of whether
/// any was a token; the well-formed ones are then verified in the background, at low priority,
/// and every one that is a valid token is revoked, with a `token.revoked` event by
/// `leak_report`: instance admin tokens too, the last one included. A wrong secret for a real
/// token id revokes nothing. Each client address may report 1000 credentials at once, then 1000
/// an hour (every string counts, junk included); verifying a candidate counts against the
/// brute-force limits as a request's token does.
#[utoipa::path(
    post,
    path = "/v1/credentials/revoke",
    tag = "credentials",
    request_body(content = LeakReportRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: every credential that is a valid token will \
            be revoked. The same answer whatever the strings were.", body = LeakReportAccepted),
        ReportLeaksErrors,
    )
)]
pub(crate) async fn report_leaked(
    State(state): State<RouterState>,
    RequestAddress(address): RequestAddress,
    ApiJson(body): ApiJson<LeakReportRequest>,
) -> Result<(StatusCode, Json<LeakReportAccepted>), ApiError> {
    state.leaks.report(&body.credentials, address)?;
    Ok((StatusCode::ACCEPTED, Json(LeakReportAccepted::default())))
}
