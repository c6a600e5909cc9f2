//! A token's description: optional free text beside its name, validated like a name but longer.

use std::fmt;

/// The longest description accepted, in characters (Unicode scalar values), after trimming.
pub const MAX_DESCRIPTION_LEN: usize = 500;

/// Why a description was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    /// Nothing left after trimming white space (send `null` to remove a description).
    #[error("description must not be empty; send null to remove it")]
    Empty,
    /// More than [`MAX_DESCRIPTION_LEN`] characters after trimming.
    #[error("description must be at most {MAX_DESCRIPTION_LEN} characters")]
    TooLong,
    /// Holds a control character (newline, tab, NUL, escape, ...).
    #[error("description must not contain control characters")]
    ControlCharacter,
}

/// What a token is for, in a sentence or two: 1 to 500 characters after trimming, no control
/// characters (the rules of a name, with room for more).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDescription(String);

impl TokenDescription {
    /// Trims and validates a description.
    ///
    /// # Errors
    /// [`DescriptionError`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, DescriptionError> {
        // The same checks, in the same order, as `name::validate`, which is fixed at a name's
        // length: trimmed, not empty, not too long, no control character.
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DescriptionError::Empty);
        }
        if trimmed.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(DescriptionError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DescriptionError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The description as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TokenDescription {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_follow_the_name_rules_up_to_500_characters() {
        let cases: &[(&str, Result<&str, DescriptionError>)] = &[
            ("  deploys from CI  ", Ok("deploys from CI")),
            ("", Err(DescriptionError::Empty)),
            (" \t ", Err(DescriptionError::Empty)),
            ("two\nlines", Err(DescriptionError::ControlCharacter)),
            ("esc\u{1b}[31m", Err(DescriptionError::ControlCharacter)),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                TokenDescription::parse(raw)
                    .as_ref()
                    .map(TokenDescription::as_str),
                expected.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
        let longest = "é".repeat(MAX_DESCRIPTION_LEN);
        assert_eq!(
            TokenDescription::parse(&format!(" {longest} ")).map(|d| d.as_str().len()),
            Ok(longest.len())
        );
        assert_eq!(
            TokenDescription::parse(&"é".repeat(MAX_DESCRIPTION_LEN + 1)),
            Err(DescriptionError::TooLong)
        );
    }
}
