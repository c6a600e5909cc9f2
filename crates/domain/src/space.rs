//! Spaces: the workspaces or tenants that own tokens.

use std::fmt;

use time::OffsetDateTime;

use crate::ids::SpaceId;
use crate::name::{validate, NameError};

/// A space's name, under the name rule (crates/domain/src/name.rs): 1 to 100 characters after
/// trimming, at least one of them visible, no control, bidirectional control or separator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpaceName(String);

impl SpaceName {
    /// Trims and validates a space name.
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

impl AsRef<str> for SpaceName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SpaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A space. Every field is a validated value, so a `Space` is valid by construction.
///
/// A deleted space is kept (soft deletion), so that its tokens and audit events keep the space
/// they name: to every use case but reading its events as an instance admin, it no longer
/// exists. Deletion is final: nothing brings a deleted space back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// UUID v7.
    pub id: SpaceId,
    /// Human-given name.
    pub name: SpaceName,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was deleted; `None` while it lives.
    pub deleted_at: Option<OffsetDateTime>,
}

/// A deleted space was asked to change: deletion is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the space was deleted")]
pub struct SpaceDeleted;

impl Space {
    /// A new, living space.
    #[must_use]
    pub const fn new(id: SpaceId, name: SpaceName, created_at: OffsetDateTime) -> Self {
        Self {
            id,
            name,
            created_at,
            deleted_at: None,
        }
    }

    /// Whether the space was deleted.
    #[must_use]
    pub const fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Renames the space; whether the name changed.
    ///
    /// # Errors
    /// [`SpaceDeleted`], changing nothing, for a deleted space.
    pub fn rename(&mut self, name: SpaceName) -> Result<bool, SpaceDeleted> {
        if self.is_deleted() {
            return Err(SpaceDeleted);
        }
        if self.name == name {
            return Ok(false);
        }
        self.name = name;
        Ok(true)
    }

    /// Deletes the space at `at`; whether it changed (`false` for a space deleted already,
    /// which keeps its first deletion time).
    pub fn delete(&mut self, at: OffsetDateTime) -> bool {
        if self.is_deleted() {
            return false;
        }
        self.deleted_at = Some(at);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_name_is_trimmed_and_validated() {
        assert_eq!(
            SpaceName::parse(" acme ").map(|n| n.to_string()),
            Ok("acme".into())
        );
        assert_eq!(SpaceName::parse(""), Err(NameError::Empty));
        assert!(matches!(
            SpaceName::parse(&"x".repeat(101)),
            Err(NameError::TooLong { .. })
        ));
        assert_eq!(SpaceName::parse("a\u{7}"), Err(NameError::ControlCharacter));
    }

    fn acme() -> Space {
        Space::new(
            SpaceId::from_uuid(uuid::Uuid::from_u128(1)),
            SpaceName::parse("acme").unwrap_or_else(|_| unreachable!()),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_space_is_renamed_while_it_lives_and_says_whether_the_name_changed() {
        let mut space = acme();
        let name = |n: &str| SpaceName::parse(n).unwrap_or_else(|_| unreachable!());
        assert_eq!(space.rename(name("acme")), Ok(false));
        assert_eq!(space.rename(name("acme eu")), Ok(true));
        assert_eq!(space.name.as_str(), "acme eu");
    }

    #[test]
    fn deletion_is_final_and_keeps_its_first_time() {
        let mut space = acme();
        let first = OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(1);
        assert!(space.delete(first));
        assert!(!space.delete(first + time::Duration::minutes(1)));
        assert_eq!(space.deleted_at, Some(first));
        let name = SpaceName::parse("back").unwrap_or_else(|_| unreachable!());
        assert_eq!(space.rename(name), Err(SpaceDeleted));
        assert_eq!(space.name.as_str(), "acme");
    }
}
