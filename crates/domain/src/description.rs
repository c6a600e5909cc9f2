//! A token's description: optional free text beside its name, validated like a name but longer.

use std::fmt;

use crate::name::{validate_text, NameError, TextLimits};

/// The longest description accepted, in characters (Unicode scalar values), after trimming.
pub const MAX_DESCRIPTION_LEN: usize = 500;

/// A description's limits under the name rule: 500 characters, 2000 bytes of UTF-8 (which,
/// as for names, 500 characters never exceed).
pub const DESCRIPTION_LIMITS: TextLimits = TextLimits {
    max_chars: MAX_DESCRIPTION_LEN,
    max_bytes: 4 * MAX_DESCRIPTION_LEN,
};

/// Why a description was rejected: the part of the name rule it broke. (An empty one is
/// refused like an empty name; to remove a description, an adapter sends none.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DescriptionError(pub NameError);

/// What a token is for, in a sentence or two: the rule of a name ([`validate_text`]: trimmed,
/// not empty, a visible character, no control, bidirectional control or separator), with room
/// for 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDescription(String);

impl TokenDescription {
    /// Trims and validates a description.
    ///
    /// # Errors
    /// [`DescriptionError`] says which part of the rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, DescriptionError> {
        validate_text(raw, DESCRIPTION_LIMITS)
            .map(Self)
            .map_err(DescriptionError)
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
    fn descriptions_follow_the_name_rule_up_to_500_characters() {
        let cases: &[(&str, Result<&str, NameError>)] = &[
            ("  deploys from CI  ", Ok("deploys from CI")),
            ("", Err(NameError::Empty)),
            (" \t ", Err(NameError::Empty)),
            ("two\nlines", Err(NameError::ControlCharacter)),
            ("esc\u{1b}[31m", Err(NameError::ControlCharacter)),
            ("\u{200b}\u{200b}", Err(NameError::NoVisibleCharacter)),
            ("admin\u{202e}txt.exe", Err(NameError::BidiControl)),
            ("line\u{2028}separator", Err(NameError::LineSeparator)),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                TokenDescription::parse(raw)
                    .as_ref()
                    .map(TokenDescription::as_str)
                    .map_err(|e| e.0),
                expected.as_ref().map(|s| *s).map_err(|e| *e),
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
            Err(DescriptionError(NameError::TooLong {
                max_chars: 500,
                max_bytes: 2000
            }))
        );
    }
}
