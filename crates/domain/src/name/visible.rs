//! Which characters show something: the definition of a "visible" character that the name rule
//! ([`super::validate_text`]) requires at least one of.
//!
//! A character is invisible when it is White_Space, Default_Ignorable_Code_Point, of general
//! category Cc, Cf, Zl or Zp, or U+2800 BRAILLE PATTERN BLANK (a symbol that draws nothing).
//! [`INVISIBLE`] is the union of those sets, as ranges, from the Unicode Character Database
//! (UCD 16.0; the sets are stable: Unicode adds to them rarely, and never in assigned letters).
//! Every other character counts as visible, including unassigned and private-use code points:
//! the rule is that a name shows *something*, not that it is a known word.

/// Invisible characters, as sorted, disjoint, inclusive ranges.
///
/// Written out rather than taken from a crate so that the domain stays free of dependencies;
/// the tests below check the ranges against `char::is_whitespace` (White_Space) and
/// `char::is_control` (Cc), and the Postgres and SQLite migrations `visible_names` hold a copy
/// that their adapter tests compare against this one.
pub const INVISIBLE: &[(char, char)] = &[
    // Cc U+0000–U+001F (with the White_Space tab to carriage return), and SPACE.
    ('\u{0000}', '\u{0020}'),
    // Cc U+007F–U+009F (with NEL, U+0085), and NO-BREAK SPACE.
    ('\u{007F}', '\u{00A0}'),
    // SOFT HYPHEN (Cf, ignorable).
    ('\u{00AD}', '\u{00AD}'),
    // COMBINING GRAPHEME JOINER (ignorable).
    ('\u{034F}', '\u{034F}'),
    // Arabic number signs and end of ayah (Cf).
    ('\u{0600}', '\u{0605}'),
    // ARABIC LETTER MARK (Cf).
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    // HANGUL CHOSEONG and JUNGSEONG FILLER (ignorable).
    ('\u{115F}', '\u{1160}'),
    // OGHAM SPACE MARK.
    ('\u{1680}', '\u{1680}'),
    // KHMER VOWEL INHERENT AQ and AA (ignorable).
    ('\u{17B4}', '\u{17B5}'),
    // Mongolian free variation selectors and vowel separator.
    ('\u{180B}', '\u{180F}'),
    // EN QUAD to HAIR SPACE, ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM.
    ('\u{2000}', '\u{200F}'),
    // LINE and PARAGRAPH SEPARATOR, the bidirectional embeddings and overrides, NARROW NBSP.
    ('\u{2028}', '\u{202F}'),
    // MEDIUM MATHEMATICAL SPACE, WORD JOINER, invisible operators, the isolates, deprecated
    // format characters.
    ('\u{205F}', '\u{206F}'),
    // BRAILLE PATTERN BLANK.
    ('\u{2800}', '\u{2800}'),
    // IDEOGRAPHIC SPACE.
    ('\u{3000}', '\u{3000}'),
    // HANGUL FILLER.
    ('\u{3164}', '\u{3164}'),
    // Variation selectors 1–16.
    ('\u{FE00}', '\u{FE0F}'),
    // ZERO WIDTH NO-BREAK SPACE (byte order mark).
    ('\u{FEFF}', '\u{FEFF}'),
    // HALFWIDTH HANGUL FILLER.
    ('\u{FFA0}', '\u{FFA0}'),
    // Unassigned ignorables and the interlinear annotation characters.
    ('\u{FFF0}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    // Egyptian hieroglyph format controls.
    ('\u{13430}', '\u{1343F}'),
    // Shorthand format controls.
    ('\u{1BCA0}', '\u{1BCA3}'),
    // Musical symbol beam and tie controls.
    ('\u{1D173}', '\u{1D17A}'),
    // Tags and variation selectors 17–256, and the ignorable rest of plane 14's first block.
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Whether `c` shows something (see the [module](self) documentation).
#[must_use]
pub fn is_visible(c: char) -> bool {
    INVISIBLE
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_are_sorted_disjoint_and_not_adjacent() {
        for pair in INVISIBLE.windows(2) {
            let ((_, last), (next, _)) = (pair[0], pair[1]);
            assert!(
                u32::from(last) + 1 < u32::from(next),
                "{last:?} and {next:?} overlap or touch: merge them"
            );
        }
        assert!(INVISIBLE.iter().all(|(first, last)| first <= last));
    }

    #[test]
    fn every_white_space_and_control_character_is_invisible() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if c.is_whitespace() || c.is_control() {
                assert!(!is_visible(c), "{c:?} is White_Space or Cc");
            }
        }
    }

    #[test]
    fn visibility_follows_the_issue_cases_and_their_neighbours() {
        let invisible = [
            '\u{200B}',
            '\u{FEFF}',
            '\u{2060}',
            '\u{3164}',
            '\u{2800}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{FE0F}',
            '\u{115F}',
            '\u{FFA0}',
            ' ',
            '\t',
            '\u{85}',
            '\u{1BCA0}',
            '\u{1343F}',
        ];
        let visible = [
            'a',
            'é',
            '✓',
            '€',
            '中',
            '\u{2801}',
            '\u{27FF}',
            '\u{3165}',
            '\u{3163}',
            '\u{FFFD}',
            '\u{FFFC}',
            '\u{2070}',
            '\u{2030}',
            '\u{E1000}',
            '\u{1F600}',
            '\u{0301}',
            '\u{00AE}',
            '\u{1BCA4}',
            '\u{1342F}',
        ];
        for c in invisible {
            assert!(!is_visible(c), "{c:?} should be invisible");
        }
        for c in visible {
            assert!(is_visible(c), "{c:?} should be visible");
        }
    }
}
