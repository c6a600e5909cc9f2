//! Fixed-width base62 (`0-9A-Za-z`) encoding of unsigned integers, used by the token string
//! format for the token id and the checksum.
//!
//! Fixed width keeps every token the same length, so a length check alone rejects most
//! non-tokens, and it makes the encoding a bijection on the values that fit: the digits of a
//! value are unique, so comparing decoded values is the same as comparing the text.

/// The 62 digits, in order of their value: `0-9`, then `A-Z`, then `a-z`.
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The number base.
const BASE: u128 = 62;

/// The value of one base62 digit, or `None` for any byte outside the alphabet (including every
/// byte of a multi-byte UTF-8 character).
pub(crate) const fn digit_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'Z' => Some(byte - b'A' + 10),
        b'a'..=b'z' => Some(byte - b'a' + 36),
        _ => None,
    }
}

/// Whether `byte` is one of the 62 digits.
pub(crate) const fn is_digit(byte: u8) -> bool {
    digit_value(byte).is_some()
}

/// Encodes `value` as exactly `N` digits, most significant first, padded with `'0'`.
///
/// The caller chooses `N` large enough for every value it passes (the token format proves
/// this at compile time); a value too large for `N` digits would lose its high digits, which a
/// debug build reports.
pub(crate) fn encode_fixed<const N: usize>(value: u128) -> [u8; N] {
    let mut digits = [ALPHABET[0]; N];
    let mut rest = value;
    for slot in digits.iter_mut().rev() {
        // `rest % BASE` is below 62, so the index is in range and the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = (rest % BASE) as usize;
        *slot = ALPHABET[index];
        rest /= BASE;
    }
    debug_assert_eq!(rest, 0, "value does not fit in {N} base62 digits");
    digits
}

/// How many digits the largest value `max` needs: the least `n` with `62^n > max`.
pub(crate) const fn digits_needed(max: u128) -> usize {
    let mut rest = max;
    let mut digits = 1;
    while rest >= BASE {
        rest /= BASE;
        digits += 1;
    }
    digits
}

/// Decodes big-endian base62 digits. `None` if a byte is not a digit or the value exceeds
/// `u128::MAX`.
pub(crate) fn decode(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |acc, &byte| {
        let digit = digit_value(byte)?;
        acc.checked_mul(BASE)?.checked_add(u128::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_is_digits_then_upper_then_lower_case() {
        for (value, &byte) in ALPHABET.iter().enumerate() {
            assert_eq!(digit_value(byte).map(usize::from), Some(value));
        }
        assert!(ALPHABET.is_ascii());
    }

    #[test]
    fn bytes_outside_the_alphabet_have_no_value() {
        for byte in 0..=u8::MAX {
            assert_eq!(is_digit(byte), ALPHABET.contains(&byte), "byte {byte}");
        }
    }

    #[test]
    fn encoding_pads_with_zeros_to_the_fixed_width() {
        assert_eq!(&encode_fixed::<4>(0), b"0000");
        assert_eq!(&encode_fixed::<4>(61), b"000z");
        assert_eq!(&encode_fixed::<4>(62), b"0010");
        assert_eq!(&encode_fixed::<22>(u128::MAX), b"7n42DGM5Tflk9n8mt7Fhc7");
    }

    #[test]
    fn digits_needed_counts_the_digits_of_the_largest_value() {
        assert_eq!(digits_needed(0), 1);
        assert_eq!(digits_needed(61), 1);
        assert_eq!(digits_needed(62), 2);
        assert_eq!(digits_needed(u128::from(u32::MAX)), 6);
        assert_eq!(digits_needed(u128::MAX), 22);
    }

    #[test]
    fn decoding_inverts_encoding() {
        for value in [0, 1, 61, 62, 3843, u128::from(u32::MAX), u128::MAX] {
            assert_eq!(decode(&encode_fixed::<22>(value)), Some(value));
        }
    }

    #[test]
    fn decoding_rejects_bad_digits_and_overflow() {
        assert_eq!(decode(b"12-3"), None);
        assert_eq!(decode("12é".as_bytes()), None);
        assert_eq!(decode(b"7n42DGM5Tflk9n8mt7Fhc8"), None);
        assert_eq!(decode(b"zzzzzzzzzzzzzzzzzzzzzz"), None);
        assert_eq!(decode(b""), Some(0));
    }
}
