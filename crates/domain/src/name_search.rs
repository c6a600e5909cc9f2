//! A search of token names: a case-insensitive substring, as a listing's `q=` asks for it.

use std::fmt;

/// The fewest characters a search may have: a shorter one matches too much to be useful, and
/// gives a trigram index nothing to look up.
pub const MIN_SEARCH_LEN: usize = 3;
/// The most characters a search may have: a name has at most 100.
pub const MAX_SEARCH_LEN: usize = 100;

/// A validated search term: 3 to 100 characters after trimming, no control character. It
/// matches a name that contains it, ignoring case (both lowercased by Unicode's mapping).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NameSearch {
    term: String,
    folded: String,
}

/// Why a search term was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameSearchError {
    /// Fewer than [`MIN_SEARCH_LEN`] characters after trimming.
    #[error("must have at least {MIN_SEARCH_LEN} characters")]
    TooShort,
    /// More than [`MAX_SEARCH_LEN`] characters after trimming.
    #[error("must have at most {MAX_SEARCH_LEN} characters")]
    TooLong,
    /// A control character.
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl NameSearch {
    /// Trims and validates a search term.
    ///
    /// # Errors
    /// [`NameSearchError`] says which rule the term broke.
    pub fn parse(raw: &str) -> Result<Self, NameSearchError> {
        let term = raw.trim();
        let chars = term.chars().count();
        if chars < MIN_SEARCH_LEN {
            return Err(NameSearchError::TooShort);
        }
        if chars > MAX_SEARCH_LEN {
            return Err(NameSearchError::TooLong);
        }
        if term.chars().any(char::is_control) {
            return Err(NameSearchError::ControlCharacter);
        }
        Ok(Self {
            term: term.to_owned(),
            folded: term.to_lowercase(),
        })
    }

    /// The term as given (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.term
    }

    /// Whether `name` contains the term, ignoring case.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        name.to_lowercase().contains(&self.folded)
    }
}

impl fmt::Debug for NameSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NameSearch").field(&self.term).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_and_needs_three_to_a_hundred_characters() {
        assert_eq!(
            NameSearch::parse("  ci ").map(|s| s.as_str().to_owned()),
            Err(NameSearchError::TooShort)
        );
        assert_eq!(
            NameSearch::parse(" dep ").map(|s| s.as_str().to_owned()),
            Ok("dep".to_owned())
        );
        assert_eq!(
            NameSearch::parse(&"x".repeat(101)),
            Err(NameSearchError::TooLong)
        );
        assert_eq!(
            NameSearch::parse("ab\u{7}c"),
            Err(NameSearchError::ControlCharacter)
        );
    }

    #[test]
    fn a_search_matches_a_substring_ignoring_case() {
        let search = NameSearch::parse("DePl").unwrap_or_else(|e| panic!("{e}"));
        assert!(search.matches("ci deploy"));
        assert!(search.matches("CI DEPLOY"));
        assert!(!search.matches("ci dep loy"));
        let accented = NameSearch::parse("école").unwrap_or_else(|e| panic!("{e}"));
        assert!(accented.matches("Grande ÉCOLE sync"));
        // LIKE's wildcards are characters like any other.
        let wild = NameSearch::parse("a%_").unwrap_or_else(|e| panic!("{e}"));
        assert!(wild.matches("xa%_y"));
        assert!(!wild.matches("abc"));
    }
}
