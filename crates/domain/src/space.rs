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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// UUID v7.
    pub id: SpaceId,
    /// Human-given name.
    pub name: SpaceName,
    /// When it was created.
    pub created_at: OffsetDateTime,
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
}
