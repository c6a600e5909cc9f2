//! The token string format: `tg{c|a|i}_` + id (22 base62) + secret (43 base62) + CRC32 (6 base62).
//!
//! A token string is built once, when a token is issued, and parsed on every request. Parsing
//! is pure and cheap: it rejects a typo or a non-token by its length, prefix, alphabet and
//! checksum before anything else (a database read, an argon2 verification) happens, and it
//! yields the token id, so the row is found by primary key. See `docs/token-format.md`.
//!
//! Nothing here prints a secret: [`TokenSecret`], [`TokenString`] and [`ParsedToken`] have a
//! redacting `Debug`, no `Display`, and errors never quote their input.

use std::fmt;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::base62;
use crate::ids::TokenId;

/// Length of a kind prefix such as `tgc_`.
const PREFIX_LEN: usize = 4;
/// Base62 digits of the token id: the least `n` with `62^n > u128::MAX`.
const ID_LEN: usize = 22;
/// Base62 digits of the CRC32: the least `n` with `62^n > u32::MAX`.
const CHECKSUM_LEN: usize = 6;
/// Base62 characters of the id as shown in a [`hint`].
const HINT_ID_LEN: usize = 12;

const ID_START: usize = PREFIX_LEN;
const SECRET_START: usize = ID_START + ID_LEN;
const CHECKSUM_START: usize = SECRET_START + TokenSecret::LEN;

/// Length in bytes (all ASCII) of every token string.
pub const TOKEN_LEN: usize = CHECKSUM_START + CHECKSUM_LEN;

// The fixed widths hold every value they must: 22 digits any u128, 6 digits any u32. So
// encoding never loses digits, and a decoded checksum that matches is the one encoding of it.
const _: () = assert!(base62::digits_needed(u128::MAX) == ID_LEN);
const _: () = assert!(base62::digits_needed(u32::MAX as u128) == CHECKSUM_LEN);
const _: () = assert!(TOKEN_LEN == 75);

/// What a token is for; each kind has its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A space's client token (`tgc_`).
    Client,
    /// A space's admin token (`tga_`).
    SpaceAdmin,
    /// An instance admin token, bound to no space (`tgi_`).
    InstanceAdmin,
}

impl TokenKind {
    /// Every kind, in a fixed order.
    pub const ALL: [TokenKind; 3] = [
        TokenKind::Client,
        TokenKind::SpaceAdmin,
        TokenKind::InstanceAdmin,
    ];

    /// The prefix that starts every token string of this kind: `tgc_`, `tga_` or `tgi_`.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Client => "tgc_",
            TokenKind::SpaceAdmin => "tga_",
            TokenKind::InstanceAdmin => "tgi_",
        }
    }

    /// The kind whose prefix is exactly `bytes`.
    fn from_prefix(bytes: &[u8]) -> Option<TokenKind> {
        TokenKind::ALL
            .into_iter()
            .find(|kind| kind.prefix().as_bytes() == bytes)
    }
}

/// Why a string is not a well-formed token (or secret). The messages never contain the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// Not the expected number of bytes.
    #[error("token has the wrong length")]
    Length,
    /// Does not start with `tgc_`, `tga_` or `tgi_`.
    #[error("token does not start with a known prefix")]
    Prefix,
    /// Holds a character outside `0-9A-Za-z` after the prefix (any non-ASCII character counts).
    #[error("token contains a character outside the base62 alphabet")]
    Alphabet,
    /// The checksum does not match the rest of the token: a typo, or not a token at all.
    #[error("token checksum does not match")]
    Checksum,
    /// The id part encodes a number larger than any UUID.
    #[error("token id is out of range")]
    IdOutOfRange,
}

/// The secret part of a token: exactly 43 base62 characters (43 × log2 62 ≈ 256.03 bits).
///
/// Only an argon2id hash of it is ever stored. `Debug` prints `TokenSecret(<redacted>)`, there
/// is no `Display`, and [`TokenSecret::expose`] is the only way to read it. Its memory is wiped
/// when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(Zeroizing<String>);

impl TokenSecret {
    /// Number of base62 characters in a secret.
    pub const LEN: usize = 43;

    /// Builds a uniformly distributed secret from a source of random bytes; the caller passes
    /// the OS CSPRNG (the domain has no randomness of its own).
    ///
    /// Rejection sampling keeps it unbiased: a byte `b < 248` (248 = 4 × 62) gives the
    /// character `ALPHABET[b % 62]`, each of the 62 equally likely; larger bytes are discarded.
    /// On average 43 × 256 / 248 ≈ 44.4 bytes are drawn.
    #[must_use]
    pub fn from_random_bytes(mut next_byte: impl FnMut() -> u8) -> TokenSecret {
        const LIMIT: u8 = 248;
        let mut secret = String::with_capacity(Self::LEN);
        while secret.len() < Self::LEN {
            let byte = next_byte();
            if byte < LIMIT {
                secret.push(char::from(base62::ALPHABET[usize::from(byte % 62)]));
            }
        }
        TokenSecret(Zeroizing::new(secret))
    }

    /// Accepts exactly 43 base62 characters.
    ///
    /// # Errors
    /// [`TokenFormatError::Length`] if `raw` is not 43 bytes long, then
    /// [`TokenFormatError::Alphabet`] if a character is not base62 (non-ASCII included).
    pub fn parse(raw: &str) -> Result<TokenSecret, TokenFormatError> {
        if raw.len() != Self::LEN {
            return Err(TokenFormatError::Length);
        }
        if !raw.bytes().all(base62::is_digit) {
            return Err(TokenFormatError::Alphabet);
        }
        Ok(TokenSecret(Zeroizing::new(raw.to_owned())))
    }

    /// The secret's text, to hash it or to hand it to its owner once. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

/// A whole token string, such as `tgc_` + 22 id chars + 43 secret chars + 6 checksum chars.
///
/// It carries the secret, so `Debug` shows only the non-secret hint
/// (`TokenString(tgc_0Abc12345678…<redacted>)`), there is no `Display`, and its memory is wiped
/// when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenString(Zeroizing<String>);

impl TokenString {
    /// Assembles the token string of a token: prefix, id, secret and the checksum of those.
    #[must_use]
    pub fn new(kind: TokenKind, id: TokenId, secret: &TokenSecret) -> TokenString {
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(kind.prefix());
        push_digits(
            &mut token,
            &base62::encode_fixed::<ID_LEN>(id.as_uuid().as_u128()),
        );
        token.push_str(secret.expose());
        let checksum = crc32fast::hash(token.as_bytes());
        push_digits(
            &mut token,
            &base62::encode_fixed::<CHECKSUM_LEN>(u128::from(checksum)),
        );
        debug_assert_eq!(token.len(), TOKEN_LEN);
        TokenString(Zeroizing::new(token))
    }

    /// The token's text, to give to its owner once. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The token's text, by value, for a response body; that copy is no longer wiped on drop.
    /// Never log it.
    #[must_use]
    pub fn into_exposed(mut self) -> String {
        std::mem::take(&mut *self.0)
    }
}

impl fmt::Debug for TokenString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The string is all ASCII and TOKEN_LEN long, so this prefix always exists.
        let hint = self.0.get(..PREFIX_LEN + HINT_ID_LEN).unwrap_or_default();
        write!(f, "TokenString({hint}…<redacted>)")
    }
}

/// A token string that has passed every offline check: its length, prefix, alphabet and
/// checksum are right and its id is a UUID. Whether the token exists, is live and has this
/// secret is for the verifier to find out.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedToken {
    kind: TokenKind,
    id: TokenId,
    secret: TokenSecret,
}

impl ParsedToken {
    /// Parses a token string. The input is taken as is: the caller strips a `Bearer ` scheme
    /// or surrounding white space.
    ///
    /// Checks run in this order, each on bytes so that no input can panic: the length (75
    /// bytes), the prefix, the alphabet of the rest, the checksum, and last the id's range.
    ///
    /// # Errors
    /// The first check that fails: [`TokenFormatError::Length`], [`TokenFormatError::Prefix`],
    /// [`TokenFormatError::Alphabet`] (non-ASCII included), [`TokenFormatError::Checksum`] or
    /// [`TokenFormatError::IdOutOfRange`].
    pub fn parse(raw: &str) -> Result<ParsedToken, TokenFormatError> {
        let bytes = raw.as_bytes();
        if bytes.len() != TOKEN_LEN {
            return Err(TokenFormatError::Length);
        }
        let (prefix, body) = bytes.split_at(PREFIX_LEN);
        let kind = TokenKind::from_prefix(prefix).ok_or(TokenFormatError::Prefix)?;
        if !body.iter().copied().all(base62::is_digit) {
            return Err(TokenFormatError::Alphabet);
        }

        let (checked, checksum) = bytes.split_at(CHECKSUM_START);
        let expected = u128::from(crc32fast::hash(checked));
        if base62::decode(checksum) != Some(expected) {
            return Err(TokenFormatError::Checksum);
        }

        // Every byte is now an ASCII base62 digit, so these byte ranges are char boundaries.
        let id =
            base62::decode(&bytes[ID_START..SECRET_START]).ok_or(TokenFormatError::IdOutOfRange)?;
        let secret = raw
            .get(SECRET_START..CHECKSUM_START)
            .ok_or(TokenFormatError::Alphabet)?;
        Ok(ParsedToken {
            kind,
            id: TokenId::from_uuid(Uuid::from_u128(id)),
            secret: TokenSecret(Zeroizing::new(secret.to_owned())),
        })
    }

    /// The kind named by the prefix.
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The token id, the primary key to look the token up by.
    #[must_use]
    pub fn id(&self) -> TokenId {
        self.id
    }

    /// The secret, to verify against the stored hash.
    #[must_use]
    pub fn secret(&self) -> &TokenSecret {
        &self.secret
    }
}

impl fmt::Debug for ParsedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedToken")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Whether `body` is a token without its prefix: the 71 base62 characters of id, secret and
/// checksum whose checksum matches under one of the three prefixes, and whose id is a UUID.
/// The query-string guard asks it of every run of base62 characters, so a token pasted
/// without its `tgc_` is refused too. It reads bytes and allocates nothing.
#[must_use]
pub fn is_token_without_prefix(body: &[u8]) -> bool {
    if body.len() != TOKEN_LEN - PREFIX_LEN || !body.iter().copied().all(base62::is_digit) {
        return false;
    }
    let (checked, checksum) = body.split_at(CHECKSUM_START - PREFIX_LEN);
    let Some(checksum) = base62::decode(checksum) else {
        return false;
    };
    if base62::decode(&checked[..ID_LEN]).is_none() {
        return false;
    }
    TokenKind::ALL.into_iter().any(|kind| {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(kind.prefix().as_bytes());
        hasher.update(checked);
        u128::from(hasher.finalize()) == checksum
    })
}

/// The non-secret hint shown in lists: the kind prefix and the first 12 characters of the
/// base62 id, e.g. `tgc_01J8ZkQx3Tb2`. It is the start of the token string, so a person can
/// match a token they hold to its entry in a list.
#[must_use]
pub fn hint(kind: TokenKind, id: TokenId) -> String {
    let digits = base62::encode_fixed::<ID_LEN>(id.as_uuid().as_u128());
    let mut hint = String::with_capacity(PREFIX_LEN + HINT_ID_LEN);
    hint.push_str(kind.prefix());
    push_digits(&mut hint, &digits[..HINT_ID_LEN]);
    hint
}

/// Appends base62 digits (ASCII bytes) to a string.
fn push_digits(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().copied().map(char::from));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A UUID v7 (version nibble 7, variant bits 10) written out so the vector never changes.
    const VECTOR_ID: u128 = 0x0192_3f6c_8b2a_7d41_9e5f_0a1b_2c3d_4e5f;
    const VECTOR_SECRET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
    /// Computed independently (Python: `zlib.crc32` and a base62 encoder), not by this code.
    const VECTOR_CLIENT: &str =
        "tgc_02xpJoYNrCxzBhoNyj9xqJ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg4Hg5Jn";

    fn vector_id() -> TokenId {
        TokenId::from_uuid(Uuid::from_u128(VECTOR_ID))
    }

    fn vector_secret() -> TokenSecret {
        TokenSecret::parse(VECTOR_SECRET).unwrap()
    }

    /// Builds a token string with a correct checksum around any 22-character id part.
    fn with_checksum(prefix: &str, id_part: &str, secret: &str) -> String {
        let mut token = format!("{prefix}{id_part}{secret}");
        let checksum = crc32fast::hash(token.as_bytes());
        push_digits(
            &mut token,
            &base62::encode_fixed::<CHECKSUM_LEN>(u128::from(checksum)),
        );
        token
    }

    #[test]
    fn the_fixed_test_vector_encodes_to_the_expected_string() {
        let token = TokenString::new(TokenKind::Client, vector_id(), &vector_secret());
        assert_eq!(token.expose(), VECTOR_CLIENT);
        assert_eq!(token.expose().len(), TOKEN_LEN);
        assert_eq!(token.into_exposed(), VECTOR_CLIENT);
    }

    #[test]
    fn the_fixed_test_vector_parses_back() {
        let parsed = ParsedToken::parse(VECTOR_CLIENT).unwrap();
        assert_eq!(parsed.kind(), TokenKind::Client);
        assert_eq!(parsed.id(), vector_id());
        assert_eq!(parsed.secret().expose(), VECTOR_SECRET);
    }

    #[test]
    fn each_kind_has_its_own_prefix_and_its_own_checksum() {
        let secret = vector_secret();
        let tokens: Vec<String> = TokenKind::ALL
            .into_iter()
            .map(|kind| TokenString::new(kind, vector_id(), &secret).into_exposed())
            .collect();
        assert!(tokens[0].starts_with("tgc_"));
        assert!(tokens[1].starts_with("tga_"));
        assert!(tokens[2].starts_with("tgi_"));
        assert_eq!(
            tokens[1],
            with_checksum("tga_", &tokens[0][4..26], VECTOR_SECRET)
        );
        assert_ne!(tokens[0][69..], tokens[1][69..]);
        assert_ne!(tokens[1][69..], tokens[2][69..]);
    }

    #[test]
    fn the_smallest_and_largest_ids_round_trip() {
        for id in [0, u128::MAX] {
            let id = TokenId::from_uuid(Uuid::from_u128(id));
            let token = TokenString::new(TokenKind::InstanceAdmin, id, &vector_secret());
            assert_eq!(ParsedToken::parse(token.expose()).unwrap().id(), id);
        }
    }

    #[test]
    fn a_token_of_the_wrong_length_is_rejected() {
        assert_eq!(ParsedToken::parse(""), Err(TokenFormatError::Length));
        assert_eq!(
            ParsedToken::parse(&VECTOR_CLIENT[..74]),
            Err(TokenFormatError::Length)
        );
        assert_eq!(
            ParsedToken::parse(&format!("{VECTOR_CLIENT}0")),
            Err(TokenFormatError::Length)
        );
        assert_eq!(
            ParsedToken::parse(&format!(" {VECTOR_CLIENT}")),
            Err(TokenFormatError::Length)
        );
    }

    #[test]
    fn a_non_ascii_character_that_changes_the_byte_length_is_a_length_error() {
        // "é" is two bytes: 75 characters, 76 bytes.
        let token = format!("é{}", &VECTOR_CLIENT[1..]);
        assert_eq!(token.chars().count(), TOKEN_LEN);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Length));
    }

    #[test]
    fn a_token_with_an_unknown_prefix_is_rejected() {
        for prefix in ["tgx_", "TGC_", "ghp_", "tgc-", "tg__"] {
            let token = format!("{prefix}{}", &VECTOR_CLIENT[4..]);
            assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Prefix));
        }
    }

    #[test]
    fn a_non_ascii_character_in_the_prefix_is_a_prefix_error() {
        // Two bytes in place of "c_": the byte length stays 75.
        let token = format!("tgé{}", &VECTOR_CLIENT[4..]);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Prefix));
    }

    #[test]
    fn a_token_with_a_character_outside_base62_is_rejected() {
        for bad in ["-", "_", "+", "/", "=", " ", "\0"] {
            let token = format!("{}{bad}{}", &VECTOR_CLIENT[..30], &VECTOR_CLIENT[31..]);
            assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Alphabet));
        }
    }

    #[test]
    fn a_non_ascii_character_in_the_body_at_the_right_byte_length_is_an_alphabet_error() {
        // "é" (two bytes) replaces two characters, so the byte length stays 75.
        let token = format!("{}é{}", &VECTOR_CLIENT[..40], &VECTOR_CLIENT[42..]);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Alphabet));
        // "€" is three bytes and "😀" four; neither can make parse slice inside a character.
        for (wide, keep) in [("€", 72), ("😀", 71)] {
            let token = format!("{}{wide}", &VECTOR_CLIENT[..keep]);
            assert_eq!(token.len(), TOKEN_LEN);
            assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Alphabet));
        }
    }

    #[test]
    fn a_token_with_a_typo_fails_its_checksum() {
        let mut typo = VECTOR_CLIENT.to_owned();
        typo.replace_range(40..41, "X");
        assert_ne!(typo, VECTOR_CLIENT);
        assert_eq!(ParsedToken::parse(&typo), Err(TokenFormatError::Checksum));
    }

    #[test]
    fn a_token_whose_kind_letter_was_changed_fails_its_checksum() {
        let token = format!("tga_{}", &VECTOR_CLIENT[4..]);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Checksum));
    }

    #[test]
    fn a_checksum_part_above_u32_max_is_a_checksum_error() {
        let token = format!("{}zzzzzz", &VECTOR_CLIENT[..69]);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Checksum));
    }

    #[test]
    fn an_id_part_above_u128_max_is_out_of_range() {
        for id_part in ["7n42DGM5Tflk9n8mt7Fhc8", "zzzzzzzzzzzzzzzzzzzzzz"] {
            let token = with_checksum("tgc_", id_part, VECTOR_SECRET);
            assert_eq!(token.len(), TOKEN_LEN);
            assert_eq!(
                ParsedToken::parse(&token),
                Err(TokenFormatError::IdOutOfRange)
            );
        }
    }

    #[test]
    fn checks_run_in_order_length_prefix_alphabet_checksum() {
        // Wrong prefix and a bad character: the prefix is reported.
        let token = format!("xxx_{}-{}", &VECTOR_CLIENT[4..30], &VECTOR_CLIENT[31..]);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Prefix));
        // A bad character and a wrong checksum: the alphabet is reported.
        let token = format!("{}-{}", &VECTOR_CLIENT[..69], &VECTOR_CLIENT[70..]);
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Alphabet));
        // An id out of range with a wrong checksum: the checksum is reported.
        let token = format!("tgc_{}{VECTOR_SECRET}000000", "z".repeat(22));
        assert_eq!(ParsedToken::parse(&token), Err(TokenFormatError::Checksum));
    }

    #[test]
    fn error_messages_never_contain_the_input() {
        let inputs = [
            VECTOR_CLIENT[..74].to_owned(),
            format!("tgx_{}", &VECTOR_CLIENT[4..]),
            format!("{}-{}", &VECTOR_CLIENT[..40], &VECTOR_CLIENT[41..]),
            format!("{}0000zz", &VECTOR_CLIENT[..69]),
        ];
        for input in inputs {
            let err = ParsedToken::parse(&input).unwrap_err();
            let message = err.to_string();
            assert!(!message.contains(VECTOR_SECRET), "{message}");
            assert!(!message.contains(&VECTOR_CLIENT[4..16]), "{message}");
        }
        assert_eq!(
            TokenFormatError::Length.to_string(),
            "token has the wrong length"
        );
    }

    #[test]
    fn a_secret_must_be_43_base62_characters() {
        assert_eq!(
            vector_secret().expose(),
            VECTOR_SECRET,
            "a valid secret parses"
        );
        assert_eq!(
            TokenSecret::parse(&VECTOR_SECRET[..42]),
            Err(TokenFormatError::Length)
        );
        assert_eq!(
            TokenSecret::parse(&format!("{VECTOR_SECRET}0")),
            Err(TokenFormatError::Length)
        );
        assert_eq!(
            TokenSecret::parse(&format!("{}-", &VECTOR_SECRET[..42])),
            Err(TokenFormatError::Alphabet)
        );
        assert_eq!(
            TokenSecret::parse(&format!("{}é", &VECTOR_SECRET[..41])),
            Err(TokenFormatError::Alphabet)
        );
    }

    #[test]
    fn from_random_bytes_discards_bytes_of_248_and_above() {
        let script = [248, 0, 255, 61, 250, 62, 247, 10, 36, 123];
        let mut bytes = script.into_iter().cycle();
        let secret = TokenSecret::from_random_bytes(|| bytes.next().unwrap());
        assert_eq!(secret.expose().len(), TokenSecret::LEN);
        // Per cycle of the script: 0 → '0', 61 → 'z', 62 → '0', 247 → 'z', 10 → 'A', 36 → 'a',
        // 123 → 'z'; the three bytes of 248 and above give nothing.
        let per_cycle: String = script
            .iter()
            .filter(|&&b| b < 248)
            .map(|&b| char::from(base62::ALPHABET[usize::from(b % 62)]))
            .collect();
        assert_eq!(per_cycle, "0z0zAaz");
        let expected: String = per_cycle.chars().cycle().take(TokenSecret::LEN).collect();
        assert_eq!(secret.expose(), expected);
    }

    #[test]
    fn from_random_bytes_never_yields_a_character_for_a_discarded_byte() {
        // Only discarded bytes, then a single usable one repeated: all 43 come from the latter.
        let mut calls = 0u32;
        let secret = TokenSecret::from_random_bytes(|| {
            calls += 1;
            if calls <= 1000 {
                248 + u8::try_from(calls % 8).unwrap()
            } else {
                5
            }
        });
        assert_eq!(secret.expose(), "5".repeat(TokenSecret::LEN));
        assert_eq!(calls, 1000 + 43);
    }

    #[test]
    fn from_random_bytes_uses_every_character_equally_for_each_usable_byte() {
        let mut counts = [0u32; 62];
        for byte in 0..248u8 {
            counts[usize::from(byte % 62)] += 1;
        }
        assert!(counts.iter().all(|&c| c == 4));
    }

    #[test]
    fn a_token_body_is_recognised_without_its_prefix() {
        assert!(is_token_without_prefix(&VECTOR_CLIENT.as_bytes()[4..]));
        for kind in TokenKind::ALL {
            let token = TokenString::new(kind, vector_id(), &vector_secret());
            assert!(is_token_without_prefix(&token.expose().as_bytes()[4..]));
        }
        let mut typo = VECTOR_CLIENT.as_bytes()[4..].to_vec();
        typo[30] = if typo[30] == b'X' { b'Y' } else { b'X' };
        assert!(!is_token_without_prefix(&typo));
        assert!(!is_token_without_prefix(VECTOR_CLIENT.as_bytes()));
        assert!(!is_token_without_prefix(&VECTOR_CLIENT.as_bytes()[5..]));
        assert!(!is_token_without_prefix(b""));
    }

    #[test]
    fn the_hint_is_the_prefix_and_the_first_12_id_characters() {
        let hint = hint(TokenKind::Client, vector_id());
        assert_eq!(hint, "tgc_02xpJoYNrCxz");
        assert_eq!(hint, VECTOR_CLIENT[..16]);
        assert!(!hint.contains(&VECTOR_SECRET[..6]));
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = vector_secret();
        let token = TokenString::new(TokenKind::SpaceAdmin, vector_id(), &secret);
        let parsed = ParsedToken::parse(token.expose()).unwrap();
        let outputs = [
            format!("{secret:?}"),
            format!("{token:?}"),
            format!("{parsed:?}"),
            format!("{parsed:#?}"),
        ];
        for output in &outputs {
            assert!(!output.contains(VECTOR_SECRET), "{output}");
            assert!(!output.contains(&VECTOR_SECRET[..8]), "{output}");
            assert!(!output.contains(&token.expose()[20..]), "{output}");
        }
        assert_eq!(outputs[0], "TokenSecret(<redacted>)");
        assert_eq!(outputs[1], "TokenString(tga_02xpJoYNrCxz…<redacted>)");
        assert!(outputs[2].contains("SpaceAdmin"));
    }

    fn any_kind() -> impl Strategy<Value = TokenKind> {
        prop::sample::select(TokenKind::ALL.to_vec())
    }

    fn any_secret() -> impl Strategy<Value = TokenSecret> {
        "[0-9A-Za-z]{43}".prop_map(|raw| TokenSecret::parse(&raw).unwrap())
    }

    fn any_token() -> impl Strategy<Value = TokenString> {
        (any_kind(), any::<u128>(), any_secret()).prop_map(|(kind, id, secret)| {
            TokenString::new(kind, TokenId::from_uuid(Uuid::from_u128(id)), &secret)
        })
    }

    /// Replacement characters: base62 digits (caught only by the checksum), other ASCII, and
    /// any Unicode scalar (multi-byte ones change the byte length).
    fn any_replacement() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(base62::ALPHABET.to_vec()).prop_map(char::from),
            (0u8..=127).prop_map(char::from),
            any::<char>(),
        ]
    }

    /// Strings that get past some of the checks, so every later check is exercised too.
    fn near_tokens() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC*",
            "\\PC{75}",
            "[\\x00-\\x7f]{75}",
            "tg[cai]_[0-9A-Za-z]{71}",
            "tg[cai]_[0-9A-Za-z]{70}\\PC",
            ".{0,80}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_token_parses_back_to_its_kind_id_and_secret(
            kind in any_kind(),
            id in any::<u128>(),
            secret in any_secret(),
        ) {
            let id = TokenId::from_uuid(Uuid::from_u128(id));
            let token = TokenString::new(kind, id, &secret);
            prop_assert_eq!(token.expose().len(), TOKEN_LEN);
            prop_assert!(token.expose().starts_with(&hint(kind, id)));
            let parsed = ParsedToken::parse(token.expose()).unwrap();
            prop_assert_eq!(parsed.kind(), kind);
            prop_assert_eq!(parsed.id(), id);
            prop_assert_eq!(parsed.secret().expose(), secret.expose());
        }

        #[test]
        fn any_single_character_change_is_rejected(
            token in any_token(),
            position in 0..TOKEN_LEN,
            replacement in any_replacement(),
        ) {
            let original = char::from(token.expose().as_bytes()[position]);
            prop_assume!(replacement != original);
            let changed: String = token
                .expose()
                .chars()
                .enumerate()
                .map(|(i, c)| if i == position { replacement } else { c })
                .collect();
            prop_assert!(ParsedToken::parse(&changed).is_err(), "accepted {:?}", changed);
        }

        #[test]
        fn parsing_arbitrary_input_never_panics(raw in near_tokens()) {
            let _ = ParsedToken::parse(&raw);
            let _ = TokenSecret::parse(&raw);
        }

        #[test]
        fn debug_output_of_any_token_never_contains_its_secret(token in any_token()) {
            let parsed = ParsedToken::parse(token.expose()).unwrap();
            let secret = parsed.secret().expose();
            for output in [
                format!("{token:?}"),
                format!("{parsed:?}"),
                format!("{:?}", parsed.secret()),
            ] {
                prop_assert!(!output.contains(secret));
            }
        }
    }
}
