//! Updating a token: renaming it, describing it, and shortening or extending its expiry within
//! the lifetime policy. Only a token that has not ended can be updated, so an update never
//! brings a token back or stretches a grace period.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{ApiToken, Ended};
use crate::description::TokenDescription;
use crate::lifecycle::{LifetimeError, LifetimePolicy};
use crate::token::{TokenName, TokenStatus};

/// A field an update can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenField {
    /// `name`.
    Name,
    /// `description`.
    Description,
    /// `expires_at`.
    ExpiresAt,
}

/// A field name other than `name`, `description` or `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a changed field must be `name`, `description` or `expires_at`")]
pub struct TokenFieldError;

impl TokenField {
    /// Every field, in order.
    pub const ALL: [Self; 3] = [Self::Name, Self::Description, Self::ExpiresAt];

    /// The field's wire name, as the API spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Description => "description",
            Self::ExpiresAt => "expires_at",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Name => 1,
            Self::Description => 2,
            Self::ExpiresAt => 4,
        }
    }
}

impl FromStr for TokenField {
    type Err = TokenFieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(TokenFieldError)
    }
}

/// The fields an update changed: what a `token.updated` event records.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChangedFields(u8);

impl ChangedFields {
    /// No field.
    pub const NONE: Self = Self(0);

    /// This set with `field` in it.
    #[must_use]
    pub const fn with(self, field: TokenField) -> Self {
        Self(self.0 | field.bit())
    }

    /// Whether `field` is in the set.
    #[must_use]
    pub const fn contains(self, field: TokenField) -> bool {
        self.0 & field.bit() != 0
    }

    /// Whether no field is in the set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The fields, in [`TokenField::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = TokenField> {
        TokenField::ALL
            .into_iter()
            .filter(move |f| self.contains(*f))
    }

    /// The fields' names separated by commas (`name,expires_at`), as stores keep them; empty
    /// for no field.
    #[must_use]
    pub fn to_text(self) -> String {
        self.iter()
            .map(TokenField::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads [`Self::to_text`]'s form back.
    ///
    /// # Errors
    /// [`TokenFieldError`] for a name that is no field.
    pub fn parse(text: &str) -> Result<Self, TokenFieldError> {
        if text.is_empty() {
            return Ok(Self::NONE);
        }
        text.split(',')
            .try_fold(Self::NONE, |set, name| Ok(set.with(name.parse()?)))
    }
}

impl fmt::Debug for ChangedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(TokenField::as_str))
            .finish()
    }
}

impl FromIterator<TokenField> for ChangedFields {
    fn from_iter<I: IntoIterator<Item = TokenField>>(fields: I) -> Self {
        fields.into_iter().fold(Self::NONE, Self::with)
    }
}

/// What to change in a token: each field only when it is given. `description: Some(None)`
/// removes the description; `expires_at: Some(None)` means "never".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenUpdate {
    /// A new name.
    pub name: Option<TokenName>,
    /// A new description, or `Some(None)` to remove it.
    pub description: Option<Option<TokenDescription>>,
    /// A new expiry, or `Some(None)` for never.
    pub expires_at: Option<Option<OffsetDateTime>>,
}

/// Why an update was refused. The token is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefused {
    /// The token has ended (revoked, expired or rotated); this is its status.
    #[error("the token has ended; it is {}", .0.as_str())]
    Ended(TokenStatus),
    /// The new expiry breaks the lifetime policy ([`LifetimePolicy::for_update`]).
    #[error(transparent)]
    Expiry(LifetimeError),
}

impl ApiToken {
    /// Applies `update` at `now`, the expiry checked against `policy` and the token's own
    /// current expiry: shortening is always allowed, extending only within the maximum. Returns
    /// the fields that changed (a field set to what it holds is no change).
    ///
    /// # Errors
    /// [`UpdateRefused`], changing nothing, for a token that has ended or an expiry the policy
    /// refuses.
    pub fn update(
        &mut self,
        update: &TokenUpdate,
        policy: &LifetimePolicy,
        now: OffsetDateTime,
    ) -> Result<ChangedFields, UpdateRefused> {
        self.check_not_ended_at(now)
            .map_err(|Ended(status)| UpdateRefused::Ended(status))?;
        let expires_at = update
            .expires_at
            .map(|requested| policy.for_update(self.expires_at, requested, now))
            .transpose()
            .map_err(UpdateRefused::Expiry)?;
        let mut changed = ChangedFields::NONE;
        if let Some(name) = update.name.as_ref().filter(|n| **n != self.name) {
            self.name = name.clone();
            changed = changed.with(TokenField::Name);
        }
        if let Some(description) = update
            .description
            .as_ref()
            .filter(|d| **d != self.description)
        {
            self.description.clone_from(description);
            changed = changed.with(TokenField::Description);
        }
        if let Some(expires_at) = expires_at.filter(|at| *at != self.expires_at) {
            self.expires_at = expires_at;
            changed = changed.with(TokenField::ExpiresAt);
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::api_token::test_token;
    use crate::ids::{SpaceId, TokenId};
    use crate::lifecycle::GracePeriod;
    use crate::token::{CreatedBy, TokenLevel, TokenScope};

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn token(expires_in: Option<Duration>) -> ApiToken {
        let scope = TokenScope::Space {
            space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
            level: TokenLevel::Client,
        };
        test_token(
            scope,
            CreatedBy::System,
            now(),
            expires_in.map(|d| now() + d),
        )
    }

    fn name(raw: &str) -> TokenName {
        TokenName::parse(raw).unwrap_or_else(|_| unreachable!())
    }

    fn description(raw: &str) -> TokenDescription {
        TokenDescription::parse(raw).unwrap_or_else(|_| unreachable!())
    }

    fn max_days(days: u32) -> LifetimePolicy {
        LifetimePolicy::from_days(Some(days), None).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn an_update_changes_only_the_fields_given_and_says_which_changed() {
        let mut t = token(Some(Duration::days(10)));
        let update = TokenUpdate {
            name: Some(name("renamed")),
            description: Some(Some(description("for CI"))),
            expires_at: None,
        };
        let changed = t.update(&update, &LifetimePolicy::UNLIMITED, now());
        assert_eq!(
            changed,
            Ok([TokenField::Name, TokenField::Description]
                .into_iter()
                .collect())
        );
        assert_eq!(t.name().as_str(), "renamed");
        assert_eq!(
            t.description().map(TokenDescription::as_str),
            Some("for CI")
        );
        assert_eq!(t.expires_at(), Some(now() + Duration::days(10)));
        // The same again changes nothing; removing the description changes it alone.
        assert_eq!(
            t.update(&update, &LifetimePolicy::UNLIMITED, now()),
            Ok(ChangedFields::NONE)
        );
        let remove = TokenUpdate {
            description: Some(None),
            ..TokenUpdate::default()
        };
        assert_eq!(
            t.update(&remove, &LifetimePolicy::UNLIMITED, now()),
            Ok(ChangedFields::NONE.with(TokenField::Description))
        );
        assert_eq!(t.description(), None);
    }

    #[test]
    fn an_expiry_is_shortened_at_any_time_and_extended_only_within_the_maximum() {
        let mut t = token(Some(Duration::days(10)));
        let to = |days: i64| TokenUpdate {
            expires_at: Some(Some(now() + Duration::days(days))),
            ..TokenUpdate::default()
        };
        let before = t.clone();
        assert_eq!(
            t.update(&to(31), &max_days(30), now()),
            Err(UpdateRefused::Expiry(LifetimeError::BeyondMaximum {
                max_days: 30
            }))
        );
        assert_eq!(t, before, "a refused update changes nothing");
        assert_eq!(
            t.update(&to(30), &max_days(30), now()),
            Ok(ChangedFields::NONE.with(TokenField::ExpiresAt))
        );
        assert_eq!(
            t.update(&to(1), &max_days(30), now()),
            Ok(ChangedFields::NONE.with(TokenField::ExpiresAt))
        );
        let never = TokenUpdate {
            expires_at: Some(None),
            ..TokenUpdate::default()
        };
        assert!(matches!(
            t.update(&never, &max_days(30), now()),
            Err(UpdateRefused::Expiry(LifetimeError::BeyondMaximum { .. }))
        ));
        assert_eq!(
            t.update(&never, &LifetimePolicy::UNLIMITED, now()),
            Ok(ChangedFields::NONE.with(TokenField::ExpiresAt))
        );
        assert_eq!(t.expires_at(), None);
    }

    #[test]
    fn an_ended_token_is_not_updated_and_a_suspended_one_is() {
        let rename = TokenUpdate {
            name: Some(name("renamed")),
            ..TokenUpdate::default()
        };
        let mut revoked = token(None);
        revoked.revoke(now());
        let expired = token(Some(Duration::ZERO));
        let mut rotated = token(None);
        let grace = GracePeriod::from_seconds(3600).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            rotated.rotate(TokenId::from_uuid(Uuid::from_u128(5)), now(), grace),
            Ok(())
        );
        for (mut t, status) in [
            (revoked, TokenStatus::Revoked),
            (expired, TokenStatus::Expired),
            (rotated, TokenStatus::Rotated),
        ] {
            let before = t.clone();
            assert_eq!(
                t.update(&rename, &LifetimePolicy::UNLIMITED, now()),
                Err(UpdateRefused::Ended(status))
            );
            assert_eq!(t, before);
        }
        let mut suspended = token(None);
        assert_eq!(suspended.suspend(now()), Ok(true));
        assert_eq!(
            suspended.update(&rename, &LifetimePolicy::UNLIMITED, now()),
            Ok(ChangedFields::NONE.with(TokenField::Name))
        );
    }

    #[test]
    fn changed_fields_round_trip_through_their_text() {
        for bits in 0u8..8 {
            let set: ChangedFields = TokenField::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, f)| f)
                .collect();
            assert_eq!(ChangedFields::parse(&set.to_text()), Ok(set));
        }
        assert_eq!(
            ChangedFields::NONE
                .with(TokenField::ExpiresAt)
                .with(TokenField::Name)
                .to_text(),
            "name,expires_at"
        );
        assert_eq!(ChangedFields::parse("name,level"), Err(TokenFieldError));
    }
}
