//! The document's schemas of free text and cursors: names, descriptions, the `q` search and
//! `cursor`. Each `pattern` is written out from the domain's own rule (its characters refused
//! anywhere, the white space `str::trim` removes, its lengths), so that a value the document
//! calls valid is one the server takes; `scripts/fuzz-api` holds the two to it, and the tests
//! below check each pattern against the domain's parser.
//!
//! One part of the name rule is not in its pattern: "at least one visible character". The
//! pattern asks for a character that is neither white space nor refused at both ends of the
//! trimmed text, so `" "` and `"\t"` are outside it, but a name of only format or ignorable
//! characters (`"\u{200b}"`) matches it and is refused with 422 `invalid_name`, as the
//! description says. Spelling out every invisible range (some beyond the Basic Multilingual
//! Plane) in every name's pattern would make the document much longer for names nobody types.

use tollgate_domain::{
    is_refused_in_text, TextLimits, DESCRIPTION_LIMITS, MAX_SEARCH_LEN, MIN_SEARCH_LEN, NAME_LIMITS,
};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Object, Schema};

/// What every name's description says (the rule is the domain's `validate_text`).
const NAME_RULE: &str = "1 to 100 characters (Unicode code points; at most 400 bytes of UTF-8), \
    counted after trimming white space at both ends, at least one of them visible (not white \
    space, not a format, control or default-ignorable character such as U+200B, not U+2800). \
    Refused anywhere in it: control characters, bidirectional controls (U+202A to U+202E, \
    U+2066 to U+2069) and line or paragraph separators (U+2028, U+2029). The `pattern` says \
    all of this but visibility. See docs/api.md, \"Names\".";

/// The schema of a name in a request: a space's or a token's.
pub(crate) fn name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(NAME_RULE))
        .min_length(Some(1))
        .pattern(Some(text_pattern(NAME_LIMITS, 1)))
        .examples(["ci deploy"])
        .build()
}

/// The schema of a token's description in an update: text under the name rule with room for
/// 500 characters, or null to remove it.
pub(crate) fn description() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .description(Some(
                "A new description: the name rule with room for 500 characters (2000 bytes) \
                 after trimming, at least one of them visible, no control characters, \
                 bidirectional controls or line or paragraph separators; null removes it.",
            ))
            .min_length(Some(1))
            .pattern(Some(text_pattern(DESCRIPTION_LIMITS, 1)))
            .examples(["Deploys the EU cluster from CI."])
            .build(),
    )
}

/// The schema of `q`, the name search: 3 to 100 characters after trimming, no control
/// character (`NameSearch::parse`).
pub(crate) fn search() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only tokens whose name contains this, ignoring case: 3 to 100 characters after \
             trimming, no control characters (`%` and `_` are characters like any other).",
        ))
        .min_length(Some(MIN_SEARCH_LEN))
        .pattern(Some(pattern(
            char::is_control,
            MIN_SEARCH_LEN,
            MAX_SEARCH_LEN,
        )))
        .examples(["deploy"])
        .build()
}

/// The pattern of text under `validate_text` with `limits`, at least `min_chars` long.
fn text_pattern(limits: TextLimits, min_chars: usize) -> String {
    pattern(is_refused_in_text, min_chars, limits.max_chars)
}

/// `^W*` (white space, trimmed away), then `min_chars` to `max_chars` characters that are not
/// `refused`, the first and last of them not white space either, then `W*$`.
fn pattern(refused: impl Fn(char) -> bool + Copy, min_chars: usize, max_chars: usize) -> String {
    let white = class(char::is_whitespace);
    let refused_anywhere = class(refused);
    let end = class(|c| refused(c) || c.is_whitespace());
    let middle = if min_chars <= 1 {
        format!("(?:[^{refused_anywhere}]{{0,{}}}[^{end}])?", max_chars - 2)
    } else {
        format!(
            "[^{refused_anywhere}]{{{},{}}}[^{end}]",
            min_chars - 2,
            max_chars - 2
        )
    };
    format!("^[{white}]*[^{end}]{middle}[{white}]*$")
}

/// The body of a character class (`[...]`) holding every character of which `member` holds:
/// ranges of `\uXXXX` escapes, which ECMA-262, Python's `re` and Rust's `regex` read alike.
/// Every set used here lies in the Basic Multilingual Plane (a test checks it).
fn class(member: impl Fn(char) -> bool) -> String {
    let mut out = String::new();
    let mut code = 0_u32;
    while code <= 0xFFFF {
        if char::from_u32(code).is_some_and(&member) {
            let first = code;
            while code < 0xFFFF && char::from_u32(code + 1).is_some_and(&member) {
                code += 1;
            }
            out.push_str(&format!("\\u{first:04X}"));
            if code > first {
                out.push_str(&format!("-\\u{code:04X}"));
            }
        }
        code += 1;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use regex::Regex;
    use tollgate_domain::{validate_text, NameError, NameSearch};

    use super::*;

    /// The form of a `cursor` (`tollgate_app::Cursor::parse`): `c2`, then 64 hexadecimal digits
    /// (the last item's id and the tag that seals it to its listing). Only a `next_cursor` the
    /// server handed out for the same listing is accepted: any other value of this form is 400
    /// `invalid_cursor`, which no pattern can tell. The listings' parameters write it out (an
    /// attribute takes only a literal); the test below compares them with this.
    const CURSOR_PATTERN: &str = "^c2[0-9a-fA-F]{64}$";

    fn compiled(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap()
    }

    #[test]
    fn the_classes_need_nothing_beyond_the_basic_multilingual_plane() {
        let beyond: Vec<u32> = ('\u{10000}'..=char::MAX)
            .filter(|c| is_refused_in_text(*c) || c.is_whitespace())
            .map(u32::from)
            .collect();
        assert!(beyond.is_empty(), "missing from the classes: {beyond:X?}");
        assert_eq!(
            class(|c| c == 'a' || c == 'b' || c == 'd'),
            "\\u0061-\\u0062\\u0064"
        );
    }

    #[test]
    fn the_name_pattern_follows_the_name_rule_at_its_edges() {
        let name = compiled(&text_pattern(NAME_LIMITS, 1));
        let accepted = [
            "a".to_owned(),
            "  padded\t\n".to_owned(),
            "a b".to_owned(),
            "x".repeat(100),
            format!("{}{}\u{3000}", " ".repeat(500), "é".repeat(100)),
        ];
        for text in &accepted {
            assert!(validate_text(text, NAME_LIMITS).is_ok(), "{text:?}");
            assert!(name.is_match(text), "{text:?}");
        }
        let refused = [
            String::new(),
            " ".to_owned(),
            "\t\u{3000}".to_owned(),
            "x".repeat(101),
            "a\nb".to_owned(),
            "admin\u{202e}txt".to_owned(),
            "a\u{2028}b".to_owned(),
            "nul\0".to_owned(),
        ];
        for text in &refused {
            assert!(validate_text(text, NAME_LIMITS).is_err(), "{text:?}");
            assert!(!name.is_match(text), "{text:?}");
        }
        // The one part of the rule the pattern leaves to the description.
        assert_eq!(
            validate_text("\u{200b}", NAME_LIMITS),
            Err(NameError::NoVisibleCharacter)
        );
        assert!(name.is_match("\u{200b}"));
    }

    /// Text drawn to reach every branch of the rule: white space, refused and invisible
    /// characters, and lengths around the limits.
    fn text(max_len: usize) -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zé✓]",
            2 => prop::sample::select(vec![" ", "\t", "\n", "\u{85}", "\u{a0}", "\u{3000}", "\u{2028}"]).prop_map(str::to_owned),
            1 => prop::sample::select(vec!["\0", "\u{1b}", "\u{202e}", "\u{2066}", "\u{200b}", "\u{feff}", "\u{2800}"]).prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..=max_len).prop_map(|pieces| pieces.concat())
    }

    #[test]
    fn every_listing_s_cursor_carries_the_cursor_pattern() {
        let document = serde_json::to_value(crate::openapi()).unwrap();
        let mut listings = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            let parameters = item["get"]["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in parameters.iter().filter(|p| p["name"] == "cursor") {
                assert_eq!(parameter["schema"]["pattern"], CURSOR_PATTERN, "{path}");
                listings += 1;
            }
        }
        assert_eq!(listings, 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_text_matches_the_name_pattern_exactly_when_the_rule_takes_it_or_only_visibility_fails(
            raw in text(104),
        ) {
            let name = compiled(&text_pattern(NAME_LIMITS, 1));
            match validate_text(&raw, NAME_LIMITS) {
                Ok(_) | Err(NameError::NoVisibleCharacter) => prop_assert!(name.is_match(&raw)),
                Err(_) => prop_assert!(!name.is_match(&raw)),
            }
        }

        #[test]
        fn a_text_matches_the_description_pattern_exactly_when_the_rule_takes_it_or_only_visibility_fails(
            raw in text(504),
        ) {
            let description = compiled(&text_pattern(DESCRIPTION_LIMITS, 1));
            match validate_text(&raw, DESCRIPTION_LIMITS) {
                Ok(_) | Err(NameError::NoVisibleCharacter) => prop_assert!(description.is_match(&raw)),
                Err(_) => prop_assert!(!description.is_match(&raw)),
            }
        }

        #[test]
        fn a_search_matches_its_pattern_exactly_when_it_parses(raw in text(104)) {
            let search = compiled(search().pattern.as_deref().unwrap());
            prop_assert_eq!(search.is_match(&raw), NameSearch::parse(&raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn a_cursor_matches_its_pattern_exactly_when_it_has_a_cursor_s_form(
            raw in "c2[0-9a-fA-F+ g-]{62,66}|.{0,70}",
        ) {
            let cursor = compiled(CURSOR_PATTERN);
            prop_assert_eq!(cursor.is_match(&raw), tollgate_app::Cursor::parse(&raw).is_ok(), "{:?}", raw);
        }
    }
}
