//! The one rule for human-given names (spaces and tokens), shared by their newtypes.

/// Why a name was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming white space.
    #[error("name must not be empty")]
    Empty,
    /// More than [`MAX_NAME_LEN`] characters after trimming.
    #[error("name must be at most {MAX_NAME_LEN} characters")]
    TooLong,
    /// Holds a control character (newline, tab, NUL, escape, ...).
    #[error("name must not contain control characters")]
    ControlCharacter,
}

/// The longest name accepted, in characters (Unicode scalar values), after trimming.
pub const MAX_NAME_LEN: usize = 100;

/// Trims `raw` and checks it: 1 to 100 characters, no control characters.
pub(crate) fn validate(raw: &str) -> Result<String, NameError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_rules() {
        let cases: &[(&str, Result<&str, NameError>)] = &[
            ("ci", Ok("ci")),
            ("  padded  ", Ok("padded")),
            ("", Err(NameError::Empty)),
            ("   \t ", Err(NameError::Empty)),
            ("a\nb", Err(NameError::ControlCharacter)),
            ("nul\0", Err(NameError::ControlCharacter)),
            ("esc\u{1b}[31m", Err(NameError::ControlCharacter)),
            ("zürich ünïcode ✓", Ok("zürich ünïcode ✓")),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                validate(raw).as_deref(),
                expected.as_deref(),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes_after_trimming() {
        assert!(validate(&"é".repeat(100)).is_ok());
        assert_eq!(validate(&"é".repeat(101)), Err(NameError::TooLong));
        assert!(validate(&format!("  {}  ", "a".repeat(100))).is_ok());
    }
}
