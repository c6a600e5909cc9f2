//! The JSON shapes of the API: request bodies and query parameters (converted into the
//! application's commands, with validation errors as [`ApiError`]s), and responses (built from
//! domain values with `From`). Every serde attribute of tollgate lives here; the domain knows
//! nothing of serde.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize};
use time::{OffsetDateTime, UtcOffset};
use tollgate_app::ports::{ListOrder, StatusFilter};
use tollgate_app::{
    Cursor, IssuedToken, ListTokens, NewSpace, NewToken, Page, PageLimit, PageRequest, RotateToken,
    TokenView, VerifiedToken,
};
use tollgate_domain::{
    hint, permissions_in_own_space, AuditAction, AuditEvent, GracePeriod, NameError, NameSearch,
    Permission, Space, SpaceName, TokenDescription, TokenId, TokenKind, TokenLevel, TokenName,
    TokenStatus, TokenUpdate,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode, ErrorCodes};

mod instance;
mod text;

pub use instance::{CreateInstanceTokenRequest, InstanceTokenPath, ListInstanceTokensParams};

// --- requests --------------------------------------------------------------------------------

/// `POST /v1/spaces`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpaceRequest {
    /// 1 to 100 characters (Unicode code points; at most 400 bytes of UTF-8), counted after
    /// trimming white space at both ends, at least one of them visible (not white space, not a
    /// format, control or default-ignorable character such as U+200B, not U+2800). Refused
    /// anywhere in it: control characters, bidirectional controls (U+202A to U+202E, U+2066 to
    /// U+2069) and line or paragraph separators (U+2028, U+2029). See docs/api.md, "Names".
    #[schema(schema_with = text::name)]
    pub name: String,
}

/// Converting it into a command refuses a bad name.
impl ErrorCodes for CreateSpaceRequest {
    const CODES: &'static [ErrorCode] = <NameError as ErrorCodes>::CODES;
}

impl TryFrom<CreateSpaceRequest> for NewSpace {
    type Error = ApiError;

    fn try_from(req: CreateSpaceRequest) -> Result<Self, ApiError> {
        Ok(Self {
            name: SpaceName::parse(&req.name)?,
        })
    }
}

/// `PATCH /v1/spaces/{space_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameSpaceRequest {
    /// The new name, under the same rule as at creation: 1 to 100 characters after trimming,
    /// at least one of them visible; no control characters, bidirectional controls or line or
    /// paragraph separators. See docs/api.md, "Names".
    #[schema(schema_with = text::name)]
    pub name: String,
}

/// Converting it into a name refuses a bad one.
impl ErrorCodes for RenameSpaceRequest {
    const CODES: &'static [ErrorCode] = <NameError as ErrorCodes>::CODES;
}

impl TryFrom<RenameSpaceRequest> for SpaceName {
    type Error = ApiError;

    fn try_from(req: RenameSpaceRequest) -> Result<Self, ApiError> {
        Ok(Self::parse(&req.name)?)
    }
}

/// `POST /v1/spaces/{space_id}/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1 to 100 characters (Unicode code points; at most 400 bytes of UTF-8), counted after
    /// trimming white space at both ends, at least one of them visible (not white space, not a
    /// format, control or default-ignorable character such as U+200B, not U+2800). Refused
    /// anywhere in it: control characters, bidirectional controls (U+202A to U+202E, U+2066 to
    /// U+2069) and line or paragraph separators (U+2028, U+2029). See docs/api.md, "Names".
    #[schema(schema_with = text::name)]
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

/// Converting it into a command refuses a bad name or level, and a time with no UTC equivalent.
impl ErrorCodes for CreateTokenRequest {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidName,
        ErrorCode::InvalidLevel,
        ErrorCode::InvalidBody,
    ];
}

impl TryFrom<CreateTokenRequest> for NewToken {
    type Error = ApiError;

    fn try_from(req: CreateTokenRequest) -> Result<Self, ApiError> {
        Ok(Self {
            name: TokenName::parse(&req.name)?,
            level: req.level.parse()?,
            expires_at: req.expires_at.map(in_utc).transpose()?,
        })
    }
}

/// A field that may be absent (`None`), null (`Some(None)`) or a value: the value itself goes
/// through `inner`.
fn present<'de, D, T>(
    deserializer: D,
    inner: impl FnOnce(D) -> Result<Option<T>, D::Error>,
) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
{
    inner(deserializer).map(Some)
}

fn present_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    present(d, Option::<String>::deserialize)
}

fn present_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    present(d, time::serde::rfc3339::option::deserialize)
}

/// A time as stored and shown: in UTC, whatever offset the caller wrote. A time near the end of
/// the representable range may not exist in UTC (9999-12-31T23:30:00-01:00).
fn in_utc(at: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
    at.checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidBody, "expires_at is out of range."))
}

/// `PATCH /v1/spaces/{space_id}/tokens/{token_id}`: each field changes only when it is sent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTokenRequest {
    /// A new name, under the name rule (not null: a token always has a name).
    #[serde(default, deserialize_with = "present_text")]
    #[schema(schema_with = text::name)]
    pub name: Option<Option<String>>,
    /// A new description: the name rule with room for 500 characters; null removes it.
    #[serde(default, deserialize_with = "present_text")]
    #[schema(schema_with = text::description)]
    pub description: Option<Option<String>>,
    /// A new RFC 3339 expiry, in the future. Shortening is always allowed; extending only
    /// within the server's maximum lifetime (counted from now); null means never, and is
    /// allowed only where there is no maximum.
    #[serde(default, deserialize_with = "present_time")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2031-01-01T00:00:00Z")]
    pub expires_at: Option<Option<OffsetDateTime>>,
}

/// Converting it into a command refuses a bad name or description, and a time with no UTC
/// equivalent.
impl ErrorCodes for UpdateTokenRequest {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidName,
        ErrorCode::InvalidDescription,
        ErrorCode::InvalidBody,
    ];
}

impl TryFrom<UpdateTokenRequest> for TokenUpdate {
    type Error = ApiError;

    fn try_from(req: UpdateTokenRequest) -> Result<Self, ApiError> {
        Ok(Self {
            name: match req.name {
                None => None,
                Some(None) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidBody,
                        "`name` cannot be null: a token always has a name.",
                    ))
                }
                Some(Some(name)) => Some(TokenName::parse(&name)?),
            },
            description: req
                .description
                .map(|d| d.as_deref().map(TokenDescription::parse).transpose())
                .transpose()?,
            expires_at: req
                .expires_at
                .map(|at| at.map(in_utc).transpose())
                .transpose()?,
        })
    }
}

/// `POST /v1/spaces/{space_id}/tokens/{token_id}/rotate`. The whole body is optional: no body,
/// an empty body and `{}` all mean a grace period of 0.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateTokenRequest {
    /// How long the old token keeps working next to the new one, in whole seconds: 0 (the
    /// default: it stops at once) to 604800 (seven days).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 604_800, example = 3600)]
    pub grace_period_seconds: Option<serde_json::Number>,
}

/// Converting it into a command refuses a grace period out of range.
impl ErrorCodes for RotateTokenRequest {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidGracePeriod];
}

impl TryFrom<RotateTokenRequest> for RotateToken {
    type Error = ApiError;

    fn try_from(req: RotateTokenRequest) -> Result<Self, ApiError> {
        let Some(seconds) = req.grace_period_seconds else {
            return Ok(Self::default());
        };
        let grace_period = whole_number(&seconds)
            .and_then(|seconds| GracePeriod::from_seconds(seconds).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidGracePeriod,
                    format!(
                        "`grace_period_seconds` must be a whole number of seconds from 0 to {} \
                         (seven days).",
                        GracePeriod::MAX_SECONDS
                    ),
                )
            })?;
        Ok(Self { grace_period })
    }
}

/// `number` if it is a whole number from 0 to `u64::MAX`, written as an integer or not: JSON
/// (and the document's `type: integer`) makes no difference between `3600` and `3600.0`.
fn whole_number(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let whole = (float.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&float))
            .then_some(float as u64);
        whole
    })
}

/// `POST /v1/credentials/revoke`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakReportRequest {
    /// 1 to 1000 strings found where they should not be. Any string may be sent: those that
    /// are not well-formed tollgate tokens are dropped unchecked.
    #[schema(min_items = 1, max_items = 1000, example = json!(["tgc_..."]))]
    pub credentials: Vec<String>,
}

/// The answer to every accepted leak report, always the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LeakReportAccepted {
    /// What happens now.
    #[schema(example = "Every credential that is a valid tollgate token will be revoked.")]
    pub message: &'static str,
}

impl Default for LeakReportAccepted {
    fn default() -> Self {
        Self {
            message: "Every credential that is a valid tollgate token will be revoked.",
        }
    }
}

/// `limit` and `cursor`, as every list takes them.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page of the same listing (same route, space and
    /// filters); absent for the first page. Opaque and sealed by the server: any other value is
    /// 400 `invalid_cursor`.
    #[param(pattern = "^c2[0-9a-fA-F]{64}$")]
    pub cursor: Option<String>,
}

/// Converting them into a page request refuses a bad `limit` or `cursor`.
impl ErrorCodes for PageParams {
    const CODES: &'static [ErrorCode] = &[ErrorCode::InvalidLimit, ErrorCode::InvalidCursor];
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
    /// The `next_cursor` of the previous page of the same listing (same route, space and
    /// filters); absent for the first page. Opaque and sealed by the server: any other value is
    /// 400 `invalid_cursor`.
    #[param(pattern = "^c2[0-9a-fA-F]{64}$")]
    pub cursor: Option<String>,
    /// Only tokens of this level. A token that may not read admin tokens gets an empty list
    /// for `admin`.
    #[param(value_type = Option<TokenLevelDto>)]
    pub level: Option<String>,
    /// Only tokens in these statuses (`active`, `suspended`, `expired`, `revoked`,
    /// `rotated`), or `all`: one, or several separated by commas (`status=revoked,expired`;
    /// repeating the parameter adds to the list too). Default: `active`.
    #[param(value_type = Option<Vec<TokenStatusFilterDto>>, style = Form, explode = false, min_items = 1,
        example = json!(["revoked", "expired"]))]
    pub status: Option<String>,
    /// Only tokens whose name contains this, ignoring case: 3 to 100 characters after
    /// trimming, no control characters (`%` and `_` are characters like any other).
    #[param(schema_with = text::search)]
    pub q: Option<String>,
}

/// A value of the `status` filter: a status, or `all` for every one. The words are
/// [`TokenStatus`]'s own, which the filter parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = TokenStatusFilter)]
#[allow(dead_code)] // Never built: it only writes the filter's words into the document.
pub(crate) enum TokenStatusFilterDto {
    /// Active tokens (the default).
    Active,
    /// Suspended tokens.
    Suspended,
    /// Expired tokens.
    Expired,
    /// Revoked tokens.
    Revoked,
    /// Rotated tokens, in their grace period or past it.
    Rotated,
    /// Every status.
    All,
}

/// Converting them into a query refuses a bad `level` or `status` filter, and what
/// [`PageParams`] refuses.
impl ErrorCodes for ListTokensParams {
    const CODES: &'static [ErrorCode] = &[
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidLimit,
        ErrorCode::InvalidCursor,
    ];
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
        let statuses = parse_statuses(params.status.as_deref())?;
        let name = params
            .q
            .as_deref()
            .map(NameSearch::parse)
            .transpose()
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("`q` {e}.")))?;
        let page = PageRequest::try_from(PageParams {
            limit: params.limit,
            cursor: params.cursor,
        })?;
        Ok(Self {
            level,
            name,
            statuses,
            page,
            order: ListOrder::OldestFirst,
        })
    }
}

/// The `status` filter: absent for active tokens only; `all`; or statuses separated by commas.
pub(crate) fn parse_statuses(raw: Option<&str>) -> Result<StatusFilter, ApiError> {
    let Some(raw) = raw else {
        return Ok(StatusFilter::ACTIVE);
    };
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidQuery,
            "`status` must be `all`, or one or more of `active`, `suspended`, `expired`, \
             `revoked` and `rotated` separated by commas.",
        )
    };
    let mut statuses = Vec::with_capacity(TokenStatus::ALL.len());
    let mut all = false;
    for item in raw.split(',').map(str::trim) {
        if item == "all" {
            all = true;
        } else {
            statuses.push(item.parse::<TokenStatus>().map_err(|_| invalid())?);
        }
    }
    Ok(if all {
        StatusFilter::ALL
    } else {
        StatusFilter::of(&statuses)
    })
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

/// Where a token is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = TokenStatus)]
pub enum TokenStatusDto {
    /// It verifies.
    Active,
    /// Past its `expires_at`.
    Expired,
    /// Revoked.
    Revoked,
    /// Replaced by a newer token (`replaced_by`); it verifies until its grace period ends
    /// (its `expires_at`), then fails like a revoked token.
    Rotated,
    /// Suspended (`suspended_at`): fails like a revoked token until resumed.
    Suspended,
}

impl From<TokenStatus> for TokenStatusDto {
    fn from(status: TokenStatus) -> Self {
        match status {
            TokenStatus::Active => Self::Active,
            TokenStatus::Expired => Self::Expired,
            TokenStatus::Revoked => Self::Revoked,
            TokenStatus::Rotated => Self::Rotated,
            TokenStatus::Suspended => Self::Suspended,
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
    /// Its name: 1 to 100 characters, at least one visible, as the name rule of the request
    /// that set it says.
    #[schema(example = "acme", min_length = 1, max_length = 100)]
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
    /// Its name: 1 to 100 characters, at least one visible, as the name rule of the request
    /// that set it says.
    #[schema(example = "ci deploy", min_length = 1, max_length = 100)]
    pub name: String,
    /// What it is for; null if nobody said.
    #[schema(required = true, example = "Deploys the EU cluster from CI.")]
    pub description: Option<String>,
    /// Its level.
    pub level: TokenLevelDto,
    /// The non-secret start of the token string (kind prefix and the start of the id), to
    /// recognise a token one holds.
    #[schema(example = hint_example)]
    pub hint: String,
    /// When it was issued (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Who issued it: `token:<uuid>`, `user:<id>`, `system` or `cli`; `instance` (an instance
    /// admin token, without its id) to a reader in a space, and `token` (a token, without its
    /// id) to a reader without READ_ADMIN_API_TOKEN.
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
    /// The client address of that last use (after the trusted-proxy rules), IPv4 or IPv6;
    /// null if never used, if the address was not known, and always for a reader without
    /// READ_ADMIN_API_TOKEN (an address says where the holder is). Written in the same batches
    /// as `last_used_at`.
    #[schema(value_type = Option<String>, required = true, example = "203.0.113.7")]
    pub last_used_ip: Option<IpAddr>,
    /// When it was revoked; null while it is not.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub revoked_at: Option<OffsetDateTime>,
    /// When it was suspended; null while it is not (resuming sets it back to null).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub suspended_at: Option<OffsetDateTime>,
    /// Where it is in its life now.
    pub status: TokenStatusDto,
    /// The token this one replaced by rotation; null if it was not issued by a rotation.
    #[schema(required = true)]
    pub replaces: Option<Uuid>,
    /// The token that replaced this one by rotation; null while it is not rotated.
    #[schema(required = true)]
    pub replaced_by: Option<Uuid>,
    /// When it was rotated (its `expires_at` then became the end of the grace period); null
    /// while it is not.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub rotated_at: Option<OffsetDateTime>,
}

impl From<&TokenView> for TokenResponse {
    fn from(view: &TokenView) -> Self {
        let (token, status) = (&view.token, view.status);
        Self {
            id: token.id().as_uuid(),
            space_id: token.space_id().map(|s| s.as_uuid()),
            name: token.name().as_str().to_owned(),
            description: token.description().map(|d| d.as_str().to_owned()),
            level: token.level().into(),
            hint: token.hint(),
            created_at: token.created_at(),
            created_by: token.created_by().to_string(),
            expires_at: token.expires_at(),
            last_used_at: token.last_used_at(),
            last_used_ip: token.last_used_ip(),
            revoked_at: token.revoked_at(),
            suspended_at: token.suspended_at(),
            status: status.into(),
            replaces: token.replaces().map(|id| id.as_uuid()),
            replaced_by: token.replaced_by().map(|id| id.as_uuid()),
            rotated_at: token.rotated_at(),
        }
    }
}

/// The example `hint`: a client token's, as the domain writes it.
fn hint_example() -> String {
    hint(
        TokenKind::Client,
        TokenId::from_uuid(Uuid::from_u128(0x0190_c6c4_8f1e_7b7a_9a6e_0c8a_5d3e_2f11)),
    )
}

/// The example `token`: a client token's prefix, the rest left out.
fn token_example() -> String {
    format!("{}...", TokenKind::Client.prefix())
}

/// A token just issued: its metadata and the token string, shown this once.
#[derive(Clone, Serialize, ToSchema)]
#[schema(as = CreatedToken)]
pub struct CreatedTokenResponse {
    /// The metadata.
    #[serde(flatten)]
    pub metadata: TokenResponse,
    /// The token string. It is shown only in this response; store it now.
    #[schema(example = token_example)]
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

impl From<IssuedToken> for CreatedTokenResponse {
    /// The answer for a token just issued (by creation or rotation).
    fn from(issued: IssuedToken) -> Self {
        let (view, secret) = issued.into_parts();
        Self {
            metadata: TokenResponse::from(&view),
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

impl From<&Page<TokenView>> for TokenPageResponse {
    fn from(page: &Page<TokenView>) -> Self {
        Self {
            items: page.items.iter().map(TokenResponse::from).collect(),
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        }
    }
}

/// What happened to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = AuditAction)]
pub enum AuditActionDto {
    /// The token was issued (by creation or rotation).
    #[serde(rename = "token.created")]
    TokenCreated,
    /// The token was replaced by a new one.
    #[serde(rename = "token.rotated")]
    TokenRotated,
    /// The token was revoked.
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    /// The token was presented while revoked, suspended or expired (recorded at most once a
    /// minute per token).
    #[serde(rename = "token.rejected")]
    TokenRejected,
    /// The token was suspended.
    #[serde(rename = "token.suspended")]
    TokenSuspended,
    /// The suspended token was resumed.
    #[serde(rename = "token.resumed")]
    TokenResumed,
    /// The token's name, description or expiry changed (`changed` says which).
    #[serde(rename = "token.updated")]
    TokenUpdated,
    /// The space was renamed (`token_id` is null).
    #[serde(rename = "space.renamed")]
    SpaceRenamed,
    /// The space was deleted, and every token of it revoked with it (`token_id` is null).
    #[serde(rename = "space.deleted")]
    SpaceDeleted,
}

impl From<AuditAction> for AuditActionDto {
    fn from(action: AuditAction) -> Self {
        match action {
            AuditAction::TokenCreated => Self::TokenCreated,
            AuditAction::TokenRotated => Self::TokenRotated,
            AuditAction::TokenRevoked => Self::TokenRevoked,
            AuditAction::TokenRejected => Self::TokenRejected,
            AuditAction::TokenSuspended => Self::TokenSuspended,
            AuditAction::TokenResumed => Self::TokenResumed,
            AuditAction::TokenUpdated => Self::TokenUpdated,
            AuditAction::SpaceRenamed => Self::SpaceRenamed,
            AuditAction::SpaceDeleted => Self::SpaceDeleted,
        }
    }
}

/// One audit event. Never a secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct EventResponse {
    /// UUID v7: events sort by time.
    pub id: Uuid,
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// What happened.
    pub action: AuditActionDto,
    /// Who did it: `token:<uuid>`, `user:<id>`, `system`, `cli`, or `leak_report` (a
    /// revocation because someone reported the token as leaked); for `token.rejected`, the
    /// token that was presented. A reader in a space sees an instance admin token as
    /// `instance`, without its id.
    #[schema(example = "token:0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10")]
    pub actor: String,
    /// The token it happened to; null for the space's own events (`space.renamed`,
    /// `space.deleted`).
    #[schema(required = true)]
    pub token_id: Option<Uuid>,
    /// The token's space; null for an instance admin token.
    #[schema(required = true)]
    pub space_id: Option<Uuid>,
    /// The instance admin token a platform acted with for the member in `actor`
    /// (`X-Tollgate-Act-As`). Present only for an instance admin reader, and only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_token_id: Option<Uuid>,
    /// `token.updated` only: the fields that changed (`name`, `description`, `expires_at`).
    /// Absent for every other action.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["name", "expires_at"]))]
    pub changed: Option<Vec<String>>,
}

impl From<&AuditEvent> for EventResponse {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.as_uuid(),
            at: event.at,
            action: event.action.into(),
            actor: event.actor.to_string(),
            token_id: event.token_id.map(|t| t.as_uuid()),
            space_id: event.space_id.map(|s| s.as_uuid()),
            via_token_id: event.via_token_id.map(|t| t.as_uuid()),
            changed: (!event.changed.is_empty()).then(|| {
                event
                    .changed
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect()
            }),
        }
    }
}

/// A page of audit events.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventPage)]
pub struct EventPageResponse {
    /// The events, newest first.
    pub items: Vec<EventResponse>,
    /// Pass it back as `cursor` for the next (older) page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl From<&Page<AuditEvent>> for EventPageResponse {
    fn from(page: &Page<AuditEvent>) -> Self {
        Self {
            items: page.items.iter().map(EventResponse::from).collect(),
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
    /// Its name: 1 to 100 characters, at least one visible, as the name rule of the request
    /// that set it says.
    #[schema(min_length = 1, max_length = 100)]
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
            token_id: token.id().as_uuid(),
            name: token.name().as_str().to_owned(),
            level: token.level().into(),
            space_id: token.space_id().map(|s| s.as_uuid()),
            expires_at: token.expires_at(),
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
    fn status_and_action_names_on_the_wire_are_the_domain_names() {
        for status in TokenStatus::ALL {
            let json = serde_json::to_value(TokenStatusDto::from(status)).unwrap();
            assert_eq!(json, status.as_str());
        }
        for action in AuditAction::ALL {
            let json = serde_json::to_value(AuditActionDto::from(action)).unwrap();
            assert_eq!(json, action.as_str());
        }
    }

    #[test]
    fn status_filters_take_one_status_a_list_or_all() {
        use TokenStatus::{Active, Expired, Revoked, Rotated};
        let cases = [
            (None, StatusFilter::ACTIVE),
            (Some("active"), StatusFilter::ACTIVE),
            (Some("revoked"), StatusFilter::of(&[Revoked])),
            (
                Some("revoked,expired"),
                StatusFilter::of(&[Revoked, Expired]),
            ),
            (
                Some("rotated, revoked ,rotated"),
                StatusFilter::of(&[Rotated, Revoked]),
            ),
            (Some("all"), StatusFilter::ALL),
            (Some("expired,all"), StatusFilter::ALL),
            (
                Some("active,expired,revoked,rotated"),
                StatusFilter::of(&[Active, Expired, Revoked, Rotated]),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_statuses(raw).unwrap(), expected, "{raw:?}");
        }
        for bad in [
            "",
            ",",
            "revoked,",
            "Revoked",
            "deleted",
            "all,nope",
            "active;expired",
        ] {
            let err = parse_statuses(Some(bad)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidQuery, "{bad:?}");
        }
    }

    #[test]
    fn grace_periods_are_whole_seconds_up_to_seven_days() {
        let grace = |raw: &str| {
            let req: RotateTokenRequest = serde_json::from_str(raw).unwrap();
            RotateToken::try_from(req).map(|cmd| cmd.grace_period)
        };
        assert_eq!(grace("{}").unwrap(), GracePeriod::default());
        assert_eq!(
            grace(r#"{"grace_period_seconds": null}"#).unwrap(),
            GracePeriod::default()
        );
        assert_eq!(
            grace(r#"{"grace_period_seconds": 604800}"#).unwrap(),
            GracePeriod::from_seconds(604_800).unwrap()
        );
        // JSON Schema's `integer` is any number with no fraction, however it is written.
        for (whole, seconds) in [("1e3", 1000), ("3600.0", 3600), ("0.0", 0)] {
            assert_eq!(
                grace(&format!(r#"{{"grace_period_seconds": {whole}}}"#)).unwrap(),
                GracePeriod::from_seconds(seconds).unwrap(),
                "{whole}"
            );
        }
        for bad in ["-1", "604801", "1.5", "604800.5", "18446744073709551616"] {
            let err = grace(&format!(r#"{{"grace_period_seconds": {bad}}}"#)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidGracePeriod, "{bad}");
        }
    }

    /// The codes of refused conversions are exactly the codes `T` declares.
    fn assert_declared<T: ErrorCodes, C>(refusals: impl IntoIterator<Item = Result<C, ApiError>>) {
        let name = std::any::type_name::<T>();
        let mut produced = Vec::new();
        for refusal in refusals {
            let code = refusal.err().expect("the conversion refuses").code();
            assert!(T::CODES.contains(&code), "{name}: {code} is not declared");
            produced.push(code);
        }
        for code in T::CODES {
            assert!(
                produced.contains(code),
                "{name}: no sample is refused as {code}"
            );
        }
    }

    fn body<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn request_conversions_refuse_with_exactly_the_codes_they_declare() {
        assert_declared::<CreateSpaceRequest, _>([NewSpace::try_from(body::<CreateSpaceRequest>(
            r#"{"name": " "}"#,
        ))]);
        assert_declared::<RenameSpaceRequest, _>([SpaceName::try_from(
            body::<RenameSpaceRequest>(r#"{"name": " "}"#),
        )]);
        assert_declared::<CreateTokenRequest, _>(
            [
                r#"{"name": "", "level": "client"}"#,
                r#"{"name": "ci", "level": "root"}"#,
                r#"{"name": "ci", "level": "client", "expires_at": "9999-12-31T23:30:00-01:00"}"#,
            ]
            .map(|json| NewToken::try_from(body::<CreateTokenRequest>(json))),
        );
        assert_declared::<RotateTokenRequest, _>([RotateToken::try_from(
            body::<RotateTokenRequest>(r#"{"grace_period_seconds": -1}"#),
        )]);
        let page = |limit: Option<&str>, cursor: Option<&str>| PageParams {
            limit: limit.map(str::to_owned),
            cursor: cursor.map(str::to_owned),
        };
        assert_declared::<PageParams, _>(
            [page(Some("0"), None), page(None, Some("nope"))].map(PageRequest::try_from),
        );
        let list = |level: Option<&str>, status: Option<&str>, paging: PageParams| {
            ListTokens::try_from(ListTokensParams {
                limit: paging.limit,
                cursor: paging.cursor,
                level: level.map(str::to_owned),
                status: status.map(str::to_owned),
                q: None,
            })
        };
        assert_declared::<ListTokensParams, _>([
            list(Some("root"), None, page(None, None)),
            list(None, Some("deleted"), page(None, None)),
            list(None, None, page(Some("ten"), None)),
            list(None, None, page(None, Some("nope"))),
        ]);
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
