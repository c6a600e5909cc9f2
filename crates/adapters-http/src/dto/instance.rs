//! The requests of `/v1/instance/tokens`: creating an instance admin token, its path, and the
//! query of the listing. The answers are the space tokens' own (`Token`, `CreatedToken`,
//! `TokenPage`).

use serde::Deserialize;
use time::OffsetDateTime;
use tollgate_app::{ListInstanceTokens, PageRequest};
use tollgate_domain::TokenName;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{in_utc, parse_statuses, PageParams, TokenStatusFilterDto};
use crate::error::{ApiError, ErrorCode, ErrorCodes};

/// `POST /v1/instance/tokens`: another instance admin token (level `admin`, no space).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstanceTokenRequest {
    /// 1 to 100 characters (Unicode code points; at most 400 bytes of UTF-8), counted after
    /// trimming white space at both ends, at least one of them visible. The name rule of every
    /// token; see docs/api.md, "Names".
    #[schema(schema_with = super::text::name)]
    pub name: String,
    /// RFC 3339 time after which the token stops working; must be in the future. Absent or
    /// null: the server's default lifetime, if it has one, else never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2031-01-01T00:00:00Z")]
    pub expires_at: Option<OffsetDateTime>,
}

/// Converting it refuses a bad name, and a time with no UTC equivalent.
impl ErrorCodes for CreateInstanceTokenRequest {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidName, ErrorCode::InvalidBody];
}

impl CreateInstanceTokenRequest {
    /// Its name and expiry, validated.
    ///
    /// # Errors
    /// [`ApiError`] for a bad name or an expiry with no UTC equivalent.
    pub fn into_parts(self) -> Result<(TokenName, Option<OffsetDateTime>), ApiError> {
        Ok((
            TokenName::parse(&self.name)?,
            self.expires_at.map(in_utc).transpose()?,
        ))
    }
}

/// The path of `/v1/instance/tokens/{token_id}` and below.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InstanceTokenPath {
    /// The instance admin token's id (a UUID).
    pub token_id: Uuid,
}

/// The query of `GET /v1/instance/tokens`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListInstanceTokensParams {
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page of the same listing (same filters); absent for
    /// the first page. Opaque and sealed by the server: any other value is 400
    /// `invalid_cursor`.
    #[param(pattern = "^c2[0-9a-fA-F]{64}$")]
    pub cursor: Option<String>,
    /// Only tokens in these statuses, or `all`, as for a space's tokens. Default: `active`.
    #[param(value_type = Option<Vec<TokenStatusFilterDto>>, style = Form, explode = false, min_items = 1,
        example = json!(["all"]))]
    pub status: Option<String>,
}

/// Converting them refuses a bad `status`, and what [`PageParams`] refuses.
impl ErrorCodes for ListInstanceTokensParams {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidLimit,
        ErrorCode::InvalidCursor,
    ];
}

impl TryFrom<ListInstanceTokensParams> for ListInstanceTokens {
    type Error = ApiError;

    fn try_from(params: ListInstanceTokensParams) -> Result<Self, ApiError> {
        Ok(Self {
            statuses: parse_statuses(params.status.as_deref())?,
            page: PageRequest::try_from(PageParams {
                limit: params.limit,
                cursor: params.cursor,
            })?,
        })
    }
}
