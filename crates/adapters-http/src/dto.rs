//! The JSON shapes of the API: request bodies and query parameters (converted into the
//! application's commands, with validation errors as [`ApiError`]s), and responses (built from
//! domain values with `From`). Every serde attribute of tollgate lives here; the domain knows
//! nothing of serde.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};
use tollgate_app::{
    Cursor, ListTokens, NewSpace, NewToken, Page, PageLimit, PageRequest, VerifiedToken,
};
use tollgate_domain::{
    permissions_in_own_space, ApiToken, Permission, Space, SpaceName, TokenLevel, TokenName,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

// --- requests --------------------------------------------------------------------------------

/// `POST /v1/spaces`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpaceRequest {
    /// 1 to 100 characters after trimming, no control characters.
    #[schema(example = "acme")]
    pub name: String,
}

impl TryFrom<CreateSpaceRequest> for NewSpace {
    type Error = ApiError;

    fn try_from(req: CreateSpaceRequest) -> Result<Self, ApiError> {
        Ok(Self {
            name: SpaceName::parse(&req.name)?,
        })
    }
}

/// `POST /v1/spaces/{space_id}/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1 to 100 characters after trimming, no control characters.
    #[schema(example = "ci deploy")]
    pub name: String,
    /// `client` or `admin` (an admin token needs CREATE_ADMIN_API_TOKEN, which no space token
    /// holds).
    #[schema(value_type = TokenLevelDto)]
    pub level: String,
    /// RFC 3339 time after which the token stops working; must be in the future. Absent or
    /// null: it never expires.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2031-01-01T00:00:00Z")]
    pub expires_at: Option<OffsetDateTime>,
}

impl TryFrom<CreateTokenRequest> for NewToken {
    type Error = ApiError;

    fn try_from(req: CreateTokenRequest) -> Result<Self, ApiError> {
        Ok(Self {
            name: TokenName::parse(&req.name)?,
            level: req.level.parse()?,
            // Stored and shown in UTC, whatever offset the caller wrote.
            expires_at: req.expires_at.map(|at| at.to_offset(UtcOffset::UTC)),
        })
    }
}

/// `limit` and `cursor`, as every list takes them.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

impl TryFrom<PageParams> for PageRequest {
    type Error = ApiError;

    fn try_from(params: PageParams) -> Result<Self, ApiError> {
        Ok(Self {
            limit: parse_limit(params.limit.as_deref())?,
            cursor: params.cursor.as_deref().map(Cursor::parse).transpose()?,
        })
    }
}

fn parse_limit(raw: Option<&str>) -> Result<PageLimit, ApiError> {
    let Some(raw) = raw else {
        return Ok(PageLimit::DEFAULT);
    };
    let limit = raw.parse::<u32>().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidLimit,
            format!(
                "`limit` must be a whole number between {} and {}.",
                PageLimit::MIN,
                PageLimit::MAX
            ),
        )
    })?;
    Ok(PageLimit::new(limit)?)
}

/// The query of `GET /v1/spaces/{space_id}/tokens`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTokensParams {
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
    /// Only tokens of this level. A token that may not read admin tokens gets an empty list
    /// for `admin`.
    #[param(value_type = Option<TokenLevelDto>)]
    pub level: Option<String>,
}

impl TryFrom<ListTokensParams> for ListTokens {
    type Error = ApiError;

    fn try_from(params: ListTokensParams) -> Result<Self, ApiError> {
        let level = params
            .level
            .as_deref()
            .map(str::parse::<TokenLevel>)
            .transpose()
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    "`level` must be `client` or `admin`.",
                )
            })?;
        let page = PageRequest::try_from(PageParams {
            limit: params.limit,
            cursor: params.cursor,
        })?;
        Ok(Self { level, page })
    }
}

/// The path of `/v1/spaces/{space_id}` and everything under it.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SpacePath {
    /// The space's id (a UUID).
    pub space_id: Uuid,
}

/// The path of `/v1/spaces/{space_id}/tokens/{token_id}`.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The space's id (a UUID).
    pub space_id: Uuid,
    /// The token's id (a UUID).
    pub token_id: Uuid,
}

// --- responses -------------------------------------------------------------------------------

/// A token's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = TokenLevel)]
pub enum TokenLevelDto {
    /// Reads client-level token metadata in its space.
    Client,
    /// Manages the tokens of its space (or, without a space, the whole instance).
    Admin,
}

impl From<TokenLevel> for TokenLevelDto {
    fn from(level: TokenLevel) -> Self {
        match level {
            TokenLevel::Client => Self::Client,
            TokenLevel::Admin => Self::Admin,
        }
    }
}

/// A permission name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = Permission)]
pub enum PermissionDto {
    /// Create, list and read every space.
    ManageSpaces,
    /// Create client-level tokens.
    CreateApiToken,
    /// Create admin-level tokens.
    CreateAdminApiToken,
    /// Read client-level token metadata.
    ReadApiToken,
    /// Read admin-level token metadata.
    ReadAdminApiToken,
    /// Revoke tokens.
    RevokeApiToken,
}

impl From<Permission> for PermissionDto {
    fn from(permission: Permission) -> Self {
        match permission {
            Permission::ManageSpaces => Self::ManageSpaces,
            Permission::CreateApiToken => Self::CreateApiToken,
            Permission::CreateAdminApiToken => Self::CreateAdminApiToken,
            Permission::ReadApiToken => Self::ReadApiToken,
            Permission::ReadAdminApiToken => Self::ReadAdminApiToken,
            Permission::RevokeApiToken => Self::RevokeApiToken,
        }
    }
}

/// A space.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Space)]
pub struct SpaceResponse {
    /// UUID v7.
    pub id: Uuid,
    /// Its name.
    #[schema(example = "acme")]
    pub name: String,
    /// When it was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Space> for SpaceResponse {
    fn from(space: &Space) -> Self {
        Self {
            id: space.id.as_uuid(),
            name: space.name.as_str().to_owned(),
            created_at: space.created_at,
        }
    }
}

/// A page of spaces.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SpacePage)]
pub struct SpacePageResponse {
    /// The spaces, oldest first.
    pub items: Vec<SpaceResponse>,
    /// Pass it back as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl From<&Page<Space>> for SpacePageResponse {
    fn from(page: &Page<Space>) -> Self {
        Self {
            items: page.items.iter().map(SpaceResponse::from).collect(),
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        }
    }
}

/// A token's metadata. Never its secret or hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenResponse {
    /// UUID v7, also carried inside the token string.
    pub id: Uuid,
    /// Its space; null for an instance admin token.
    #[schema(required = true)]
    pub space_id: Option<Uuid>,
    /// Its name.
    #[schema(example = "ci deploy")]
    pub name: String,
    /// Its level.
    pub level: TokenLevelDto,
    /// The non-secret start of the token string (kind prefix and the start of the id), to
    /// recognise a token one holds.
    #[schema(example = "tgc_01J8ZkQx3Tb2")]
    pub hint: String,
    /// When it was issued (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Who issued it: `token:<uuid>`, `user:<id>` or `system`.
    #[schema(example = "token:0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10")]
    pub created_by: String,
    /// When it stops working; null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub expires_at: Option<OffsetDateTime>,
    /// Its last successful use, as far as the store knows; null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked; null while it is not.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&ApiToken> for TokenResponse {
    fn from(token: &ApiToken) -> Self {
        Self {
            id: token.id.as_uuid(),
            space_id: token.space_id().map(|s| s.as_uuid()),
            name: token.name.as_str().to_owned(),
            level: token.level().into(),
            hint: token.hint(),
            created_at: token.created_at,
            created_by: token.created_by.to_string(),
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

/// A token just issued: its metadata and the token string, shown this once.
#[derive(Clone, Serialize, ToSchema)]
#[schema(as = CreatedToken)]
pub struct CreatedTokenResponse {
    /// The metadata.
    #[serde(flatten)]
    pub metadata: TokenResponse,
    /// The token string. It is shown only in this response; store it now.
    #[schema(example = "tgc_...")]
    pub token: String,
}

impl fmt::Debug for CreatedTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedTokenResponse")
            .field("metadata", &self.metadata)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl From<tollgate_app::IssuedToken> for CreatedTokenResponse {
    fn from(issued: tollgate_app::IssuedToken) -> Self {
        let (token, secret) = issued.into_parts();
        Self {
            metadata: TokenResponse::from(&token),
            token: secret.into_exposed(),
        }
    }
}

/// A page of tokens.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TokenPage)]
pub struct TokenPageResponse {
    /// The tokens, oldest first.
    pub items: Vec<TokenResponse>,
    /// Pass it back as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl From<&Page<ApiToken>> for TokenPageResponse {
    fn from(page: &Page<ApiToken>) -> Self {
        Self {
            items: page.items.iter().map(TokenResponse::from).collect(),
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        }
    }
}

/// Who the presented token is, and what it may do in its own space.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Whoami)]
pub struct WhoamiResponse {
    /// The token's id.
    pub token_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: TokenLevelDto,
    /// Its space; null for an instance admin token.
    #[schema(required = true)]
    pub space_id: Option<Uuid>,
    /// When it stops working; null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub expires_at: Option<OffsetDateTime>,
    /// What it may do in its own space (everything, everywhere, for an instance admin).
    pub permissions: Vec<PermissionDto>,
}

impl From<&VerifiedToken> for WhoamiResponse {
    fn from(verified: &VerifiedToken) -> Self {
        let token = &verified.token;
        Self {
            token_id: token.id.as_uuid(),
            name: token.name.as_str().to_owned(),
            level: token.level().into(),
            space_id: token.space_id().map(|s| s.as_uuid()),
            expires_at: token.expires_at,
            permissions: permissions_in_own_space(&verified.actor)
                .into_iter()
                .map(PermissionDto::from)
                .collect(),
        }
    }
}

/// The answer of the health probes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Health)]
pub struct HealthResponse {
    /// `ok` (process alive) or `ready` (store answers).
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_on_the_wire_are_the_domain_names() {
        for permission in Permission::ALL {
            let json = serde_json::to_value(PermissionDto::from(permission)).unwrap();
            assert_eq!(json, permission.as_str());
        }
    }

    #[test]
    fn level_names_on_the_wire_are_the_domain_names() {
        for level in TokenLevel::ALL {
            let json = serde_json::to_value(TokenLevelDto::from(level)).unwrap();
            assert_eq!(json, level.as_str());
        }
    }

    #[test]
    fn limits_outside_one_to_a_hundred_or_not_numbers_are_invalid_limits() {
        for bad in ["0", "101", "-1", "ten", "", "1.5", "99999999999"] {
            let err = parse_limit(Some(bad)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidLimit, "{bad:?}");
        }
        assert_eq!(parse_limit(None).unwrap().get(), 50);
        assert_eq!(parse_limit(Some("100")).unwrap().get(), 100);
    }
}
