//! The one rule for human-given text: space and token names, and any description, through
//! [`validate_text`] with their own [`TextLimits`].
//!
//! A name is shown to people who decide on it (revoke this token? delete that space?), so it
//! must be what it looks like:
//! - white space at either end is trimmed (`str::trim`: Unicode White_Space);
//! - what is left holds at least one visible character ([`is_visible`]): `"\u{200b}"`,
//!   `"\u{3164}"` or `"\u{2800}"` are not names;
//! - no control character (Cc);
//! - no bidirectional embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), which
//!   reorder what is shown ("Trojan Source", CVE-2021-42574): `"admin\u{202e}txt.exe"` would
//!   read as `admintxe.exe`;
//! - no line or paragraph separator (U+2028, U+2029), which break a one-line display;
//! - at most [`TextLimits::max_chars`] characters, counted as Unicode scalar values (what Rust's
//!   `chars()`, Postgres' `char_length` and SQLite's `length` count), and at most
//!   [`TextLimits::max_bytes`] bytes of UTF-8.
//!
//! The databases check what SQL can express of this (length, bytes and the refused code
//! points); only the domain checks visibility.

mod visible;

pub use visible::is_visible;

/// How long one kind of text may be, after trimming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimits {
    /// Most characters (Unicode scalar values).
    pub max_chars: usize,
    /// Most bytes of UTF-8.
    pub max_bytes: usize,
}

/// The limits of a space's or a token's name: 100 characters, 400 bytes. A character takes at
/// most 4 bytes, so the byte cap never refuses a name of 100 characters or fewer; it is stated
/// so that whatever budgets in bytes (columns, headers, logs) has a bound, and the databases
/// check it as well.
pub const NAME_LIMITS: TextLimits = TextLimits {
    max_chars: MAX_NAME_LEN,
    max_bytes: 4 * MAX_NAME_LEN,
};

/// The longest name accepted, in characters (Unicode scalar values), after trimming.
pub const MAX_NAME_LEN: usize = 100;

/// Why a name (or any text under [`validate_text`]) was rejected. The messages name no
/// subject ("must not be empty"), so that a caller can say which field it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming white space.
    #[error("must not be empty")]
    Empty,
    /// More characters or bytes than its limits allow, after trimming.
    #[error("must be at most {max_chars} characters and {max_bytes} bytes of UTF-8")]
    TooLong {
        /// The character limit broken or not.
        max_chars: usize,
        /// The byte limit.
        max_bytes: usize,
    },
    /// Holds a control character (newline, tab, NUL, escape, ...).
    #[error("must not contain control characters")]
    ControlCharacter,
    /// Holds a bidirectional embedding, override or isolate (U+202A–U+202E, U+2066–U+2069).
    #[error("must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069)")]
    BidiControl,
    /// Holds a line or paragraph separator (U+2028, U+2029) between other characters.
    #[error("must not contain line or paragraph separators (U+2028, U+2029)")]
    LineSeparator,
    /// Shows nothing: every character left is white space, a format or ignorable character.
    #[error("must contain at least one visible character")]
    NoVisibleCharacter,
}

/// Whether `c` reorders the text around it: U+202A–U+202E and U+2066–U+2069.
#[must_use]
pub const fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` is refused anywhere in a text once it is trimmed: a control character, a
/// bidirectional control or a line or paragraph separator. (The rest of the rule is the length
/// and [`is_visible`].)
#[must_use]
pub fn is_refused_in_text(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Trims `raw` and checks it against the rule of the [module](self), within `limits`.
///
/// # Errors
/// [`NameError`] says which part of the rule the input broke, checked in the order of its
/// variants.
pub fn validate_text(raw: &str, limits: TextLimits) -> Result<String, NameError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.len() > limits.max_bytes || trimmed.chars().count() > limits.max_chars {
        return Err(NameError::TooLong {
            max_chars: limits.max_chars,
            max_bytes: limits.max_bytes,
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    if trimmed.chars().any(is_bidi_control) {
        return Err(NameError::BidiControl);
    }
    if trimmed.contains(['\u{2028}', '\u{2029}']) {
        return Err(NameError::LineSeparator);
    }
    if !trimmed.chars().any(is_visible) {
        return Err(NameError::NoVisibleCharacter);
    }
    Ok(trimmed.to_owned())
}

/// The name rule with [`NAME_LIMITS`].
pub(crate) fn validate(raw: &str) -> Result<String, NameError> {
    validate_text(raw, NAME_LIMITS)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TOO_LONG: NameError = NameError::TooLong {
        max_chars: 100,
        max_bytes: 400,
    };

    #[test]
    fn the_characters_refused_anywhere_are_the_ones_validate_text_refuses() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let text = format!("a{c}a");
            let refused = matches!(
                validate(&text),
                Err(NameError::ControlCharacter
                    | NameError::BidiControl
                    | NameError::LineSeparator)
            );
            assert_eq!(is_refused_in_text(c), refused, "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn names_follow_the_rule() {
        let cases: &[(&str, Result<&str, NameError>)] = &[
            ("ci", Ok("ci")),
            ("  padded  ", Ok("padded")),
            ("zürich ünïcode ✓", Ok("zürich ünïcode ✓")),
            ("", Err(NameError::Empty)),
            ("   \t ", Err(NameError::Empty)),
            ("\u{3000}\u{2028}", Err(NameError::Empty)),
            ("a\nb", Err(NameError::ControlCharacter)),
            ("nul\0", Err(NameError::ControlCharacter)),
            ("esc\u{1b}[31m", Err(NameError::ControlCharacter)),
            ("c1\u{85}control", Err(NameError::ControlCharacter)),
            // Names that show nothing (issue 18, item 5).
            ("\u{200b}\u{200b}", Err(NameError::NoVisibleCharacter)),
            ("\u{feff}", Err(NameError::NoVisibleCharacter)),
            ("\u{2060}", Err(NameError::NoVisibleCharacter)),
            ("\u{3164}", Err(NameError::NoVisibleCharacter)),
            ("\u{2800}", Err(NameError::NoVisibleCharacter)),
            ("\u{ad}\u{034f}\u{fe0f}", Err(NameError::NoVisibleCharacter)),
            ("\u{200b} \u{200b}", Err(NameError::NoVisibleCharacter)),
            ("\u{e0041}\u{e0042}", Err(NameError::NoVisibleCharacter)),
            // Reordering and line breaking characters, wherever they are.
            ("admin\u{202e}txt.exe", Err(NameError::BidiControl)),
            ("\u{202a}ltr", Err(NameError::BidiControl)),
            ("rtl\u{202b}", Err(NameError::BidiControl)),
            ("pop\u{202c}", Err(NameError::BidiControl)),
            ("\u{202d}lro", Err(NameError::BidiControl)),
            ("iso\u{2066}late", Err(NameError::BidiControl)),
            ("iso\u{2067}late", Err(NameError::BidiControl)),
            ("iso\u{2068}late", Err(NameError::BidiControl)),
            ("iso\u{2069}late", Err(NameError::BidiControl)),
            ("line\u{2028}break", Err(NameError::LineSeparator)),
            ("para\u{2029}graph", Err(NameError::LineSeparator)),
            // At the ends they are white space, and trimmed like any.
            ("\u{2028}ends\u{2029}", Ok("ends")),
            // Invisible characters inside a visible name are allowed: emoji need ZWJ and
            // variation selectors, and some scripts need ZWNJ.
            ("👩\u{200d}💻 ops", Ok("👩\u{200d}💻 ops")),
            ("✔\u{fe0f}", Ok("✔\u{fe0f}")),
            ("\u{200b}a", Ok("\u{200b}a")),
            // Neighbours of invisible ranges are visible.
            ("\u{2801}", Ok("\u{2801}")),
            ("\u{3165}", Ok("\u{3165}")),
            ("\u{fffd}", Ok("\u{fffd}")),
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
    fn length_counts_characters_after_trimming_under_a_byte_cap() {
        assert!(validate(&"é".repeat(100)).is_ok());
        assert_eq!(validate(&"é".repeat(101)), Err(TOO_LONG));
        assert!(validate(&format!("  {}  ", "a".repeat(100))).is_ok());
        // 100 characters of 4 bytes each: exactly the byte cap.
        let widest = "😀".repeat(100);
        assert_eq!(widest.len(), NAME_LIMITS.max_bytes);
        assert!(validate(&widest).is_ok());
        assert_eq!(validate(&"😀".repeat(101)), Err(TOO_LONG));
    }

    #[test]
    fn the_byte_cap_refuses_on_its_own_when_it_is_the_tighter_limit() {
        let limits = TextLimits {
            max_chars: 10,
            max_bytes: 12,
        };
        assert_eq!(validate_text("ééééé", limits).as_deref(), Ok("ééééé"));
        let refused = Err(NameError::TooLong {
            max_chars: 10,
            max_bytes: 12,
        });
        assert_eq!(validate_text("ééééééé", limits), refused);
        assert_eq!(validate_text("aaaaaaaaaaa", limits), refused);
    }

    #[test]
    fn messages_name_the_limits_and_no_subject() {
        assert_eq!(
            TOO_LONG.to_string(),
            "must be at most 100 characters and 400 bytes of UTF-8"
        );
        assert_eq!(NameError::Empty.to_string(), "must not be empty");
    }

    /// Any character, with the ones the rule cares about much more often than chance.
    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            prop::sample::select(visible::INVISIBLE.to_vec())
                .prop_flat_map(|(first, last)| proptest::char::range(first, last)),
            prop::sample::select(vec!['a', 'Z', '7', 'é', '中', '😀', ' ', '\u{2028}']),
            prop::sample::select(vec!['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}']),
        ]
    }

    fn visible_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("visible", |c| is_visible(*c))
    }

    proptest! {
        #[test]
        fn an_accepted_name_is_trimmed_visible_within_limits_and_stable(
            chars in prop::collection::vec(any_char(), 0..120)
        ) {
            let raw: String = chars.into_iter().collect();
            if let Ok(name) = validate(&raw) {
                prop_assert_eq!(name.as_str(), raw.trim());
                prop_assert!(name.chars().any(is_visible));
                prop_assert!(!name.chars().any(|c| c.is_control() || is_bidi_control(c)));
                prop_assert!(!name.contains(['\u{2028}', '\u{2029}']), "separator in {:?}", name);
                prop_assert!(name.chars().count() <= MAX_NAME_LEN);
                prop_assert!(name.len() <= NAME_LIMITS.max_bytes);
                let again = validate(&name);
                prop_assert_eq!(again.as_deref(), Ok(name.as_str()));
            }
        }

        #[test]
        fn a_name_of_invisible_characters_only_is_refused(
            chars in prop::collection::vec(
                prop::sample::select(visible::INVISIBLE.to_vec())
                    .prop_flat_map(|(first, last)| proptest::char::range(first, last)),
                0..50,
            )
        ) {
            let raw: String = chars.into_iter().collect();
            prop_assert!(validate(&raw).is_err());
        }

        #[test]
        fn one_visible_character_makes_a_name_of_otherwise_invisible_ones(
            before in prop::collection::vec(prop::sample::select(vec!['\u{200b}', '\u{feff}', '\u{3164}', '\u{2800}', '\u{fe0f}']), 0..20),
            shown in visible_char().prop_filter("not a control", |c| !c.is_control()),
            after in prop::collection::vec(prop::sample::select(vec!['\u{200b}', '\u{2060}', '\u{ad}']), 0..20),
        ) {
            let raw: String = before.into_iter().chain([shown]).chain(after).collect();
            let accepted = validate(&raw);
            prop_assert_eq!(accepted.as_deref(), Ok(raw.as_str()));
        }

        #[test]
        fn a_reordering_or_separator_character_inside_a_name_is_refused_wherever_it_is(
            name in "[a-z]{1,40}",
            at in any::<prop::sample::Index>(),
            bad in prop::sample::select(vec![
                '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
                '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
            ]),
        ) {
            let at = at.index(name.len() + 1);
            let raw = format!("x{}{bad}{}x", &name[..at], &name[at..]);
            let expected = if is_bidi_control(bad) {
                NameError::BidiControl
            } else {
                NameError::LineSeparator
            };
            prop_assert_eq!(validate(&raw), Err(expected));
        }
    }
}
