//! Rows as a storage adapter reads them, before they are domain values: plain ids, strings and
//! instants in the store's own encoding. Every SQL adapter fills these from its rows and calls
//! `into_*`, so that the domain's constructors (`TokenName::parse`, `CreatedBy::from_str`,
//! [`ApiToken::restore`], ...) and the "stored trimmed" rule are applied in one place for every
//! store. A row that breaks a domain rule (edited by hand, or written by a buggy build) becomes
//! [`StoreError::Corrupt`] naming the table, the row and the rule, never a panic, and never
//! quoting the secret hash.

use std::fmt::Display;
use std::net::IpAddr;

use time::OffsetDateTime;
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, ChangedFields, ConsoleSession, CreatedBy, EventId,
    NameSearch, SecretHash, SessionDigest, Space, SpaceId, SpaceName, TokenDescription, TokenId,
    TokenLevel, TokenName, TokenRecord, TokenScope, TokenStatus,
};
use uuid::Uuid;

use crate::error::StoreError;
use crate::ports::{StatusFilter, TokenUse};

/// An instant in a store's own encoding (Postgres microseconds since 2000, SQLite Unix
/// microseconds, ...).
pub trait StoredInstant: Copy {
    /// The instant, or `None` if the `time` crate cannot represent it.
    fn to_datetime(self) -> Option<OffsetDateTime>;
}

impl StoredInstant for OffsetDateTime {
    fn to_datetime(self) -> Option<OffsetDateTime> {
        Some(self)
    }
}

/// A corrupt-row error for row `id` of `table`, breaking `rule`: every store reads its rows back
/// through here, so here a corrupt row is counted (`tollgate_store_errors_total`).
fn corrupt(table: &str, id: &dyn Display, rule: &dyn Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {id} breaks a domain rule: {rule}")).counted()
}

/// Reads `column` of a row whose errors `corrupt` builds.
fn instant<T: StoredInstant>(
    corrupt: &impl Fn(&dyn Display) -> StoreError,
    column: &str,
    value: T,
) -> Result<OffsetDateTime, StoreError> {
    value
        .to_datetime()
        .ok_or_else(|| corrupt(&format_args!("{column} is out of the supported range")))
}

fn optional_instant<T: StoredInstant>(
    corrupt: &impl Fn(&dyn Display) -> StoreError,
    column: &str,
    value: Option<T>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    value.map(|v| instant(corrupt, column, v)).transpose()
}

/// A row of `spaces`.
#[derive(Debug, Clone)]
pub struct StoredSpace<T> {
    /// `id`.
    pub id: Uuid,
    /// `name`, stored trimmed.
    pub name: String,
    /// `created_at`.
    pub created_at: T,
    /// `deleted_at`; `None` while the space lives.
    pub deleted_at: Option<T>,
}

impl<T: StoredInstant> StoredSpace<T> {
    /// The space this row holds.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row breaks a domain rule.
    pub fn into_space(self) -> Result<Space, StoreError> {
        let id = SpaceId::from_uuid(self.id);
        let corrupt = |rule: &dyn Display| corrupt("spaces", &id, rule);
        let name = SpaceName::parse(&self.name).map_err(|e| corrupt(&format_args!("name {e}")))?;
        if name.as_str() != self.name {
            return Err(corrupt(&"name must be stored trimmed"));
        }
        Ok(Space {
            id,
            name,
            created_at: instant(&corrupt, "created_at", self.created_at)?,
            deleted_at: optional_instant(&corrupt, "deleted_at", self.deleted_at)?,
        })
    }
}

/// A row of `api_tokens`. No `Debug`: it holds the secret hash.
#[derive(Clone)]
pub struct StoredToken<T> {
    /// `id`.
    pub id: Uuid,
    /// `space_id`; `None` for an instance admin token.
    pub space_id: Option<Uuid>,
    /// `level`: `client` or `admin`.
    pub level: String,
    /// `name`, stored trimmed.
    pub name: String,
    /// `created_at`.
    pub created_at: T,
    /// `created_by`, as the domain's `CreatedBy` prints it.
    pub created_by: String,
    /// `expires_at`.
    pub expires_at: Option<T>,
    /// `last_used_at`.
    pub last_used_at: Option<T>,
    /// `last_used_ip`, as text (`192.0.2.1`, `2001:db8::1`).
    pub last_used_ip: Option<String>,
    /// `revoked_at`.
    pub revoked_at: Option<T>,
    /// `replaces`.
    pub replaces: Option<Uuid>,
    /// `replaced_by`.
    pub replaced_by: Option<Uuid>,
    /// `rotated_at`.
    pub rotated_at: Option<T>,
    /// `secret_hash`: the argon2id PHC string.
    pub secret_hash: String,
    /// `suspended_at`.
    pub suspended_at: Option<T>,
    /// `description`, stored trimmed.
    pub description: Option<String>,
}

impl<T> std::fmt::Debug for StoredToken<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<T: StoredInstant> StoredToken<T> {
    /// The token this row holds, through [`ApiToken::restore`].
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row breaks a domain rule.
    pub fn into_token(self) -> Result<ApiToken, StoreError> {
        let id = TokenId::from_uuid(self.id);
        let corrupt = |rule: &dyn Display| corrupt("api_tokens", &id, rule);
        let level: TokenLevel = self.level.parse().map_err(|e| corrupt(&e))?;
        let scope = TokenScope::from_parts(self.space_id.map(SpaceId::from_uuid), level)
            .map_err(|e| corrupt(&e))?;
        let name = TokenName::parse(&self.name).map_err(|e| corrupt(&format_args!("name {e}")))?;
        if name.as_str() != self.name {
            return Err(corrupt(&"name must be stored trimmed"));
        }
        let description = self
            .description
            .as_deref()
            .map(|raw| {
                let description = TokenDescription::parse(raw).map_err(|e| corrupt(&e))?;
                if description.as_str() == raw {
                    Ok(description)
                } else {
                    Err(corrupt(&"description must be stored trimmed"))
                }
            })
            .transpose()?;
        let created_by: CreatedBy = self.created_by.parse().map_err(|e| corrupt(&e))?;
        ApiToken::restore(TokenRecord {
            id,
            scope,
            name,
            description,
            created_at: instant(&corrupt, "created_at", self.created_at)?,
            created_by,
            expires_at: optional_instant(&corrupt, "expires_at", self.expires_at)?,
            last_used_at: optional_instant(&corrupt, "last_used_at", self.last_used_at)?,
            last_used_ip: self
                .last_used_ip
                .as_deref()
                .map(|text| {
                    text.parse::<IpAddr>()
                        .map_err(|_| corrupt(&"last_used_ip must be one address"))
                })
                .transpose()?,
            revoked_at: optional_instant(&corrupt, "revoked_at", self.revoked_at)?,
            suspended_at: optional_instant(&corrupt, "suspended_at", self.suspended_at)?,
            replaces: self.replaces.map(TokenId::from_uuid),
            replaced_by: self.replaced_by.map(TokenId::from_uuid),
            rotated_at: optional_instant(&corrupt, "rotated_at", self.rotated_at)?,
            secret_hash: SecretHash::new(self.secret_hash),
        })
        .map_err(|e| corrupt(&e))
    }
}

/// A row of `audit_events`.
#[derive(Debug, Clone)]
pub struct StoredEvent<T> {
    /// `id`.
    pub id: Uuid,
    /// `at`.
    pub at: T,
    /// `action`, as the domain's `AuditAction` prints it.
    pub action: String,
    /// `actor`, as the domain's `CreatedBy` prints it.
    pub actor: String,
    /// `token_id`; `None` for a space's own event (`space.renamed`, `space.deleted`).
    pub token_id: Option<Uuid>,
    /// `space_id`; `None` for an instance admin token's event.
    pub space_id: Option<Uuid>,
    /// `via_token_id`: the instance admin token a platform acted with for a member; `None`
    /// otherwise.
    pub via_token_id: Option<Uuid>,
    /// `changed_fields`: for `token.updated`, the fields that changed, comma-separated;
    /// `None` for every other event.
    pub changed_fields: Option<String>,
}

impl<T: StoredInstant> StoredEvent<T> {
    /// The event this row holds.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row breaks a domain rule.
    pub fn into_event(self) -> Result<AuditEvent, StoreError> {
        let id = EventId::from_uuid(self.id);
        let corrupt = |rule: &dyn Display| corrupt("audit_events", &id, rule);
        let action: AuditAction = self
            .action
            .parse()
            .map_err(|e| corrupt(&format_args!("action: {e}")))?;
        let actor: CreatedBy = self
            .actor
            .parse()
            .map_err(|e| corrupt(&format_args!("actor: {e}")))?;
        let event = AuditEvent {
            id,
            at: instant(&corrupt, "at", self.at)?,
            action,
            actor,
            token_id: self.token_id.map(TokenId::from_uuid),
            space_id: self.space_id.map(SpaceId::from_uuid),
            via_token_id: self.via_token_id.map(TokenId::from_uuid),
            changed: self
                .changed_fields
                .as_deref()
                .map(ChangedFields::parse)
                .transpose()
                .map_err(|e| corrupt(&format_args!("changed_fields: {e}")))?
                .unwrap_or_default(),
        };
        event.check_subject().map_err(|e| corrupt(&e))?;
        Ok(event)
    }
}

/// The SQL `LIKE` pattern of a name search: the term between `%`s, its own `\`, `%` and `_`
/// escaped with `\` (Postgres's default escape character; SQLite's with `ESCAPE '\'`), so
/// they match themselves.
#[must_use]
pub fn like_pattern(search: &NameSearch) -> String {
    let mut pattern = String::with_capacity(search.as_str().len() + 2);
    pattern.push('%');
    for c in search.as_str().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A row of `console_sessions`. No `Debug`: the digest is what finds a session.
#[derive(Clone)]
pub struct StoredSession<T> {
    /// `digest`: the SHA-256 of the session id, 32 bytes.
    pub digest: Vec<u8>,
    /// `token_id`: the token that signed in.
    pub token_id: Uuid,
    /// `created_at`.
    pub created_at: T,
    /// `last_seen_at`.
    pub last_seen_at: T,
}

impl<T> std::fmt::Debug for StoredSession<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("token_id", &self.token_id)
            .finish_non_exhaustive()
    }
}

impl<T: StoredInstant> StoredSession<T> {
    /// The session this row holds, through [`ConsoleSession::restore`]. An error names the row
    /// by its token, never by its digest.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row breaks a domain rule.
    pub fn into_session(self) -> Result<ConsoleSession, StoreError> {
        let token_id = TokenId::from_uuid(self.token_id);
        let corrupt = |rule: &dyn Display| {
            corrupt(
                "console_sessions",
                &format_args!("of token {token_id}"),
                rule,
            )
        };
        let digest = <[u8; 32]>::try_from(self.digest.as_slice())
            .map_err(|_| corrupt(&"digest must be 32 bytes"))?;
        Ok(ConsoleSession::restore(
            SessionDigest::from_bytes(digest),
            token_id,
            instant(&corrupt, "created_at", self.created_at)?,
            instant(&corrupt, "last_seen_at", self.last_seen_at)?,
        ))
    }
}

/// A batch of uses as a SQL store writes it: one entry per token (several uses of one token
/// folded by [`TokenUse::merge`]), in ascending id order (the order both SQL stores lock or
/// write rows in).
#[must_use]
pub fn latest_uses(uses: &[TokenUse]) -> std::collections::BTreeMap<Uuid, TokenUse> {
    let mut latest = std::collections::BTreeMap::<Uuid, TokenUse>::new();
    for used in uses {
        match latest.entry(used.id.as_uuid()) {
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().merge(used.clone());
            }
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(used.clone());
            }
        }
    }
    latest
}

/// The SQL condition on `api_tokens` that keeps exactly the tokens whose
/// [`status_at(now)`](ApiToken::status_at) is in a status set, as every SQL store writes it:
/// `" AND "` followed by the condition, in text that Postgres and SQLite both read. Where expiry
/// matters, the adapter binds `now` between [`StatusCondition::WithNow`]'s two halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusCondition {
    /// The whole condition (possibly empty: every status).
    Fixed(String),
    /// The condition around one `now` parameter: `head`, the parameter, `tail`.
    WithNow {
        /// The text before the parameter.
        head: String,
        /// The text after it.
        tail: String,
    },
}

impl StatusCondition {
    /// The condition for `statuses`, following [`ApiToken::status_at`]'s precedence: revoked
    /// (`revoked_at` set), else rotated (`replaced_by` set), else expired (`expires_at <= now`),
    /// else suspended (`suspended_at` set), else active. Each set has one text, always the same
    /// (so each is prepared once per connection), with `revoked_at IS NULL AND replaced_by IS
    /// NULL` written literally for the tokens that are neither revoked nor rotated, so that both
    /// stores' partial indexes on live tokens apply. The empty set keeps nothing (and a store may
    /// answer it without a query).
    #[must_use]
    pub fn of(statuses: StatusFilter) -> Self {
        let revoked = statuses.contains(TokenStatus::Revoked);
        let rotated = statuses.contains(TokenStatus::Rotated);
        // Of the tokens neither revoked nor rotated, which the set keeps: `None` for none,
        // `Some(None)` for all, else the condition around `now`.
        let live: Option<Option<(&str, &str)>> = match (
            statuses.contains(TokenStatus::Active),
            statuses.contains(TokenStatus::Suspended),
            statuses.contains(TokenStatus::Expired),
        ) {
            (false, false, false) => None,
            (true, true, true) => Some(None),
            (true, true, false) => Some(Some(("(expires_at IS NULL OR expires_at > ", ")"))),
            (false, false, true) => Some(Some(("expires_at <= ", ""))),
            (true, false, false) => Some(Some((
                "(expires_at IS NULL OR expires_at > ",
                ") AND suspended_at IS NULL",
            ))),
            (false, true, false) => Some(Some((
                "(expires_at IS NULL OR expires_at > ",
                ") AND suspended_at IS NOT NULL",
            ))),
            (true, false, true) => Some(Some(("(suspended_at IS NULL OR expires_at <= ", ")"))),
            (false, true, true) => Some(Some(("(suspended_at IS NOT NULL OR expires_at <= ", ")"))),
        };
        let ended = match (revoked, rotated) {
            (false, false) => None,
            (true, false) => Some("revoked_at IS NOT NULL"),
            (false, true) => Some("(revoked_at IS NULL AND replaced_by IS NOT NULL)"),
            (true, true) => Some("(revoked_at IS NOT NULL OR replaced_by IS NOT NULL)"),
        };
        const LIVE: &str = "revoked_at IS NULL AND replaced_by IS NULL";
        match (ended, live) {
            (None, None) => Self::Fixed(" AND FALSE".to_owned()),
            (Some(ended), None) => Self::Fixed(format!(" AND {ended}")),
            (None, Some(None)) => Self::Fixed(format!(" AND {LIVE}")),
            (None, Some(Some((head, tail)))) => Self::WithNow {
                head: format!(" AND {LIVE} AND {head}"),
                tail: tail.to_owned(),
            },
            (Some(_), Some(None)) if revoked && rotated => Self::Fixed(String::new()),
            (Some(ended), Some(None)) => Self::Fixed(format!(" AND ({ended} OR ({LIVE}))")),
            (Some(ended), Some(Some((head, tail)))) => Self::WithNow {
                head: format!(" AND ({ended} OR ({LIVE} AND {head}"),
                tail: format!("{tail}))"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_like_pattern_escapes_the_wildcards_of_the_term() {
        let search = |t: &str| NameSearch::parse(t).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(like_pattern(&search("dep")), "%dep%");
        assert_eq!(like_pattern(&search("5%_a\\b")), "%5\\%\\_a\\\\b%");
    }

    #[test]
    fn a_session_row_with_a_short_digest_is_corrupt_and_named_by_its_token() {
        let row = StoredSession {
            digest: vec![7; 31],
            token_id: Uuid::from_u128(5),
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_seen_at: OffsetDateTime::UNIX_EPOCH,
        };
        match row.into_session() {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains("console_sessions row of token"),
                    "{message}"
                );
                assert!(
                    message.contains("00000000-0000-0000-0000-000000000005"),
                    "{message}"
                );
                assert!(message.contains("digest must be 32 bytes"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn each_status_set_has_its_own_condition_and_binds_now_only_for_expiry() {
        let mut texts = std::collections::BTreeSet::new();
        for bits in 0u8..32 {
            let statuses: Vec<TokenStatus> = TokenStatus::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, s)| s)
                .collect();
            let filter = StatusFilter::of(&statuses);
            let condition = StatusCondition::of(filter);
            let live = [
                TokenStatus::Active,
                TokenStatus::Suspended,
                TokenStatus::Expired,
            ]
            .map(|s| filter.contains(s));
            let expiry_matters = live.contains(&true) && live.contains(&false);
            let text = match condition {
                StatusCondition::Fixed(text) => {
                    assert!(!expiry_matters, "{statuses:?}: {text}");
                    text
                }
                StatusCondition::WithNow { head, tail } => {
                    assert!(expiry_matters, "{statuses:?}: {head}");
                    format!("{head}?{tail}")
                }
            };
            assert_eq!(
                text.matches('(').count(),
                text.matches(')').count(),
                "{text}"
            );
            assert!(texts.insert(text), "{statuses:?} shares its SQL");
        }
        // Active only, the default: the partial index's predicate, literally.
        let StatusCondition::WithNow { head, .. } = StatusCondition::of(StatusFilter::ACTIVE)
        else {
            panic!("active tokens depend on now");
        };
        assert!(head.starts_with(" AND revoked_at IS NULL AND replaced_by IS NULL AND "));
    }
}
