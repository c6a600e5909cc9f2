//! What API tokens are made of: levels, names, scope, creators, the secret's hash and the
//! statuses of a token's life. The entity itself is [`ApiToken`](crate::ApiToken).

use std::fmt;
use std::str::FromStr;

use crate::ids::{SpaceId, TokenId, UserId};
use crate::name::{validate, NameError};
use crate::token_format::TokenKind;

/// How much a space token may do. Instance admin tokens are always `Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenLevel {
    /// Reads client-level token metadata in its space; the level handed to programs.
    Client,
    /// Manages the tokens of its space (but never mints another admin token).
    Admin,
}

/// A level name other than `client` or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token level must be `client` or `admin`")]
pub struct TokenLevelError;

impl TokenLevel {
    /// Every level, in order.
    pub const ALL: [Self; 2] = [Self::Client, Self::Admin];

    /// The level's wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for TokenLevel {
    type Err = TokenLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client" => Ok(Self::Client),
            "admin" => Ok(Self::Admin),
            _ => Err(TokenLevelError),
        }
    }
}

impl fmt::Display for TokenLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's human-given name, under the name rule (crates/domain/src/name.rs): 1 to 100
/// characters after trimming, at least one of them visible, no control, bidirectional control
/// or separator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenName(String);

impl TokenName {
    /// Trims and validates a token name.
    ///
    /// # Errors
    /// [`NameError`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        validate(raw).map(Self)
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TokenName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a token acts. An instance admin token belongs to no space and is always admin-level,
/// so "an instance token of client level" cannot be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenScope {
    /// Manages spaces and acts in every space.
    Instance,
    /// Belongs to one space, at one level.
    Space {
        /// The space it belongs to.
        space_id: SpaceId,
        /// Its level there.
        level: TokenLevel,
    },
}

/// A stored row that names no space but a level other than admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an instance token must be admin-level")]
pub struct InvalidScope;

impl TokenScope {
    /// Rebuilds a scope from its stored columns.
    ///
    /// # Errors
    /// [`InvalidScope`] for a token without space that is not admin-level.
    pub fn from_parts(space_id: Option<SpaceId>, level: TokenLevel) -> Result<Self, InvalidScope> {
        match (space_id, level) {
            (None, TokenLevel::Admin) => Ok(Self::Instance),
            (None, TokenLevel::Client) => Err(InvalidScope),
            (Some(space_id), level) => Ok(Self::Space { space_id, level }),
        }
    }

    /// The space, or `None` for an instance token.
    #[must_use]
    pub const fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::Instance => None,
            Self::Space { space_id, .. } => Some(*space_id),
        }
    }

    /// The level (admin for an instance token).
    #[must_use]
    pub const fn level(&self) -> TokenLevel {
        match self {
            Self::Instance => TokenLevel::Admin,
            Self::Space { level, .. } => *level,
        }
    }

    /// The kind written in the token string's prefix.
    #[must_use]
    pub const fn kind(&self) -> TokenKind {
        match self {
            Self::Instance => TokenKind::InstanceAdmin,
            Self::Space {
                level: TokenLevel::Admin,
                ..
            } => TokenKind::SpaceAdmin,
            Self::Space {
                level: TokenLevel::Client,
                ..
            } => TokenKind::Client,
        }
    }
}

/// Who created a token, as recorded on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CreatedBy {
    /// tollgate itself (the bootstrap instance admin token).
    System,
    /// Another token.
    Token(TokenId),
    /// A space member of the embedding platform.
    Member(UserId),
    /// The operator, with `tollgate`'s command line on the store ([`Actor::Operator`](crate::Actor::Operator)).
    Cli,
    /// Someone who reported the token as leaked (`POST /v1/credentials/revoke`): anyone who
    /// holds the token string, unauthenticated. Records revocations only; it creates nothing.
    LeakReport,
    /// A token whose id the reader may not learn: an admin-level token, shown to a reader
    /// without READ_ADMIN_API_TOKEN (see [`CreatedBy::as_seen_by`]). Never stored.
    UndisclosedToken,
    /// An instance admin token, shown to a reader in a space, which never learns an instance
    /// admin token's id (see [`CreatedBy::disclosed`]). Never stored.
    UndisclosedInstance,
}

impl CreatedBy {
    /// This creator as a reader may see it: a reader without READ_ADMIN_API_TOKEN learns that a
    /// token created the token, not which one, since only admin-level tokens create tokens and
    /// such a reader must never learn that one exists.
    #[must_use]
    pub fn as_seen_by(&self, reads_admin_tokens: bool) -> Self {
        match self {
            Self::Token(_) | Self::UndisclosedInstance if !reads_admin_tokens => {
                Self::UndisclosedToken
            }
            other => other.clone(),
        }
    }

    /// This actor with a token's id kept only if `discloses_token` (the reader may learn which
    /// token it is): else an instance-level actor without its id, [`CreatedBy::UndisclosedInstance`].
    /// The policy decides ([`actor_as_seen_by`](crate::policy::actor_as_seen_by)).
    #[must_use]
    pub fn disclosed(self, discloses_token: bool) -> Self {
        match self {
            Self::Token(_) if !discloses_token => Self::UndisclosedInstance,
            other => other,
        }
    }

    /// The token id this actor names, if it is a token.
    #[must_use]
    pub const fn token_id(&self) -> Option<TokenId> {
        match self {
            Self::Token(id) => Some(*id),
            _ => None,
        }
    }
}

/// A stored `created_by` value that is not `system`, `cli`, `leak_report`, `token:<uuid>` or
/// `user:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("created_by must be `system`, `cli`, `leak_report`, `token:<uuid>` or `user:<id>`")]
pub struct CreatedByError;

/// How [`CreatedBy::LeakReport`] is written and stored.
const LEAK_REPORT: &str = "leak_report";

impl fmt::Display for CreatedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("system"),
            Self::Cli => f.write_str("cli"),
            Self::Token(id) => write!(f, "token:{id}"),
            Self::Member(user) => write!(f, "user:{user}"),
            Self::LeakReport => f.write_str(LEAK_REPORT),
            Self::UndisclosedToken => f.write_str("token"),
            Self::UndisclosedInstance => f.write_str("instance"),
        }
    }
}

impl FromStr for CreatedBy {
    type Err = CreatedByError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "system" => return Ok(Self::System),
            "cli" => return Ok(Self::Cli),
            LEAK_REPORT => return Ok(Self::LeakReport),
            _ => {}
        }
        if let Some(id) = s.strip_prefix("token:") {
            return id.parse().map(Self::Token).map_err(|_| CreatedByError);
        }
        if let Some(user) = s.strip_prefix("user:") {
            return UserId::parse(user)
                .map(Self::Member)
                .map_err(|_| CreatedByError);
        }
        Err(CreatedByError)
    }
}

/// The argon2id hash of a token's secret, as a PHC string. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Wraps a PHC string produced by the hasher (or read back from the store).
    #[must_use]
    pub const fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for the hasher and the store only.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// Where a token is in its life, at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenStatus {
    /// Verifies.
    Active,
    /// Past its `expires_at`.
    Expired,
    /// Revoked; revocation wins over everything else.
    Revoked,
    /// Replaced by a newer token. It keeps working until its `expires_at`, which rotation set
    /// to the end of the grace period, and then fails like a revoked token.
    Rotated,
    /// Switched off: fails like a revoked token until resumed. Revoked, rotated and expired
    /// win over it (see `ApiToken::status_at`).
    Suspended,
}

impl TokenStatus {
    /// The status's wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Rotated => "rotated",
            Self::Suspended => "suspended",
        }
    }

    /// Every status, in order.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Expired,
        Self::Revoked,
        Self::Rotated,
        Self::Suspended,
    ];
}

impl FromStr for TokenStatus {
    type Err = TokenStatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(TokenStatusError)
    }
}

/// A status name other than `active`, `expired`, `revoked`, `rotated` or `suspended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token status must be `active`, `expired`, `revoked`, `rotated` or `suspended`")]
pub struct TokenStatusError;

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn statuses_parse_only_their_wire_names() {
        for status in TokenStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!("Active".parse::<TokenStatus>(), Err(TokenStatusError));
    }

    #[test]
    fn instance_scope_exists_only_at_admin_level() {
        assert_eq!(
            TokenScope::from_parts(None, TokenLevel::Admin),
            Ok(TokenScope::Instance)
        );
        assert_eq!(
            TokenScope::from_parts(None, TokenLevel::Client),
            Err(InvalidScope)
        );
        assert_eq!(TokenScope::Instance.kind(), TokenKind::InstanceAdmin);
    }

    #[test]
    fn created_by_round_trips_through_text() {
        for by in [
            CreatedBy::System,
            CreatedBy::Cli,
            CreatedBy::Token(TokenId::from_uuid(Uuid::from_u128(9))),
            CreatedBy::Member(UserId::parse("u-1").unwrap_or_else(|_| unreachable!())),
            CreatedBy::LeakReport,
        ] {
            assert_eq!(by.to_string().parse::<CreatedBy>(), Ok(by));
        }
        assert_eq!("robot".parse::<CreatedBy>(), Err(CreatedByError));
        // The undisclosed form is for display only: it never reads back from a store.
        assert_eq!(CreatedBy::UndisclosedToken.to_string(), "token");
        assert_eq!(CreatedBy::UndisclosedInstance.to_string(), "instance");
        assert_eq!("instance".parse::<CreatedBy>(), Err(CreatedByError));
        assert_eq!(
            CreatedBy::UndisclosedInstance.as_seen_by(false),
            CreatedBy::UndisclosedToken
        );
        assert_eq!("token".parse::<CreatedBy>(), Err(CreatedByError));
        let by_token = CreatedBy::Token(TokenId::from_uuid(Uuid::from_u128(9)));
        assert_eq!(by_token.as_seen_by(false), CreatedBy::UndisclosedToken);
        assert_eq!(by_token.as_seen_by(true), by_token);
        assert_eq!(CreatedBy::System.as_seen_by(false), CreatedBy::System);
        assert_eq!(CreatedBy::LeakReport.to_string(), "leak_report");
        assert_eq!(
            CreatedBy::LeakReport.as_seen_by(false),
            CreatedBy::LeakReport
        );
        assert_eq!("leak-report".parse::<CreatedBy>(), Err(CreatedByError));
        assert_eq!("token:xyz".parse::<CreatedBy>(), Err(CreatedByError));
    }

    #[test]
    fn levels_parse_only_their_wire_names() {
        assert_eq!("client".parse(), Ok(TokenLevel::Client));
        assert_eq!("admin".parse(), Ok(TokenLevel::Admin));
        assert_eq!("Admin".parse::<TokenLevel>(), Err(TokenLevelError));
    }
}
