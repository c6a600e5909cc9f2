//! The query-string guard's rule: whether a query string carries a tollgate token.
//!
//! A token in a URL ends up in proxy logs and browser history, so every request whose query
//! carries one is refused (the HTTP adapter answers 400 `token_in_query`, forward auth 401).
//! This is the one place that decides; the middleware asks it of the request's own query, and
//! forward auth asks it of the original request's (`X-Forwarded-Uri`, `X-Original-URI`).
//!
//! The rule, on the query as sent and on up to [`DECODE_ROUNDS`] rounds of percent-decoding
//! of it (so `tgc%255F`, encoded twice, is seen as `tgc_`):
//!
//! - a token prefix (`tgc_`, `tga_`, `tgi_`) anywhere, in any case (`TGC_`);
//! - a parameter named like a credential ([`is_token_parameter`]: `token`, `api_key`,
//!   `secret`, `jwt`, `token[]`, ` token `, ...), whatever its value;
//! - a token without its prefix: any run of base62 characters that is a token's id, secret
//!   and checksum ([`crate::token_format::is_token_without_prefix`]), whatever the parameter
//!   is called.
//!
//! It reads bytes and allocates nothing for a query without `%`; each decoding round that is
//! needed makes one copy of the query.

use std::borrow::Cow;

use crate::token_format::is_token_without_prefix;

/// How many rounds of percent-decoding the guard looks through: the query as sent, then up to
/// three decodings of it (a token encoded three times is still caught).
pub const DECODE_ROUNDS: usize = 3;

/// Parameter names that mean "here is my credential", as [`normalize_name`] leaves them:
/// ASCII letters and digits only, lower case.
const TOKEN_PARAMETERS: &[&str] = &[
    "token",
    "apitoken",
    "accesstoken",
    "authtoken",
    "xundbapitoken",
    "xapitoken",
    "xauthtoken",
    "authorization",
    "bearer",
    "auth",
    "jwt",
    "key",
    "apikey",
    "xapikey",
    "accesskey",
    "secret",
    "apisecret",
    "clientsecret",
    "secretkey",
];

/// Whether the query string `query` (without its `?`) carries a token; see the module docs.
#[must_use]
pub fn query_carries_token(query: &str) -> bool {
    let mut text: Cow<'_, [u8]> = Cow::Borrowed(query.as_bytes());
    for round in 0..=DECODE_ROUNDS {
        if text_carries_token(&text) {
            return true;
        }
        if round == DECODE_ROUNDS || !text.contains(&b'%') {
            break;
        }
        text = Cow::Owned(percent_decode(&text));
    }
    false
}

/// Whether a parameter name means "here is my credential": compared on its ASCII letters and
/// digits only, without case, and before any `[`, so `api_key`, `API-KEY`, ` token `,
/// `+token+`, `token[]` and `token[0]` all count.
#[must_use]
pub fn is_token_parameter(name: &[u8]) -> bool {
    let base = name.split(|&b| b == b'[').next().unwrap_or_default();
    TOKEN_PARAMETERS
        .iter()
        .any(|candidate| normalize_name(base).eq(candidate.bytes()))
}

/// One round's check of the (partly decoded) query.
fn text_carries_token(text: &[u8]) -> bool {
    has_token_prefix(text)
        || text
            .split(|&b| b == b'&' || b == b';')
            .any(|pair| is_token_parameter(pair.split(|&b| b == b'=').next().unwrap_or_default()))
        || text
            .split(|b| !b.is_ascii_alphanumeric())
            .any(is_token_without_prefix)
}

/// A token prefix anywhere in `text`, compared without case.
fn has_token_prefix(text: &[u8]) -> bool {
    text.windows(4).any(|w| {
        w[0].eq_ignore_ascii_case(&b't')
            && w[1].eq_ignore_ascii_case(&b'g')
            && matches!(w[2].to_ascii_lowercase(), b'c' | b'a' | b'i')
            && w[3] == b'_'
    })
}

/// A name's ASCII letters and digits, lower-cased.
fn normalize_name(name: &[u8]) -> impl Iterator<Item = u8> + '_ {
    name.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
}

/// One round of percent-decoding: each `%XX` becomes its byte; a `%` not followed by two hex
/// digits stays as it is. `+` is left alone: the checks ignore it wherever a space would be.
fn percent_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let decoded = match text.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex_value(*hi).zip(hex_value(*lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        if let Some(byte) = decoded {
            out.push(byte);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::ids::TokenId;
    use crate::token_format::{TokenKind, TokenSecret, TokenString};

    const TOKEN: &str =
        "tgc_02xpJoYNrCxzBhoNyj9xqJ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg4Hg5Jn";

    /// Percent-encodes every byte but ASCII letters, digits, `-`, `.` and `~` (so `_` too).
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-.~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    /// Percent-encodes every byte, letters included.
    fn encode_all(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn the_parameter_names_of_the_issue_are_refused() {
        for query in [
            "token=abc",
            "api_token=abc",
            "access_token=abc",
            "apiToken=abc",
            "x-undb-api-token=abc",
            "X-UNDB-API-TOKEN=abc",
            "limit=5&TOKEN=",
            "key=abc",
            "api_key=abc",
            "apikey=abc",
            "secret=abc",
            "auth=abc",
            "jwt=abc",
            "token[]=abc",
            "token[0]=abc",
            "limit=5;token=abc",
            "+token+=abc",
            " token =abc",
            "%20token%20=abc",
            "%74oken=abc",
            "API%5FKEY=abc",
            "api%255Fkey=abc",
            "token",
        ] {
            assert!(query_carries_token(query), "{query}");
        }
    }

    #[test]
    fn token_prefixes_are_refused_in_any_case_and_encoding() {
        for query in [
            "q=tgc_abc",
            "q=tga_abc",
            "tgi_abc",
            "q=TGC_abc",
            "q=Tga_abc",
            "q=%74gc%5Fabc",
            "q=tgc%5Fabc",
            "q=tgc%255Fabc",
            "q=tgc%25255Fabc",
            "q=TGC%255fabc",
        ] {
            assert!(query_carries_token(query), "{query}");
        }
    }

    #[test]
    fn a_token_without_its_prefix_is_refused_whatever_the_parameter_is_called() {
        let body = &TOKEN[4..];
        for query in [
            format!("q={body}"),
            format!("x={body}&limit=5"),
            format!("q=Bearer+{body}"),
            format!("q={}", encode_all(body)),
            body.to_owned(),
        ] {
            assert!(query_carries_token(&query), "{query}");
        }
        // One character changed: the checksum fails, and it is just text.
        let typo = format!("q={}X", &body[..70]);
        assert!(!query_carries_token(&typo), "{typo}");
    }

    #[test]
    fn ordinary_queries_pass() {
        for query in [
            "",
            "limit=5",
            "cursor=c1abc&level=admin",
            "tokens_total=1",
            "status=revoked,expired",
            "space=0192f6c8-b2a7-7d41-9e5f-0a1b2c3d4e5f&level=client",
            "q=100%25",
            "q=%",
            "q=%zz",
            "monkey=1",
            "keyboard=1",
            "tg_=1&tgx_=2",
        ] {
            assert!(!query_carries_token(query), "{query}");
        }
    }

    #[test]
    fn a_token_encoded_four_times_is_past_the_rounds() {
        let four = encode(&encode(&encode(&encode("tgc_abc"))));
        assert!(!query_carries_token(&format!("q={four}")));
        let three = encode(&encode(&encode("tgc_abc")));
        assert!(query_carries_token(&format!("q={three}")));
    }

    fn any_token() -> impl Strategy<Value = String> {
        (
            prop::sample::select(TokenKind::ALL.to_vec()),
            any::<u128>(),
            "[0-9A-Za-z]{43}",
        )
            .prop_map(|(kind, id, secret)| {
                let secret = TokenSecret::parse(&secret).unwrap();
                TokenString::new(kind, TokenId::from_uuid(Uuid::from_u128(id)), &secret)
                    .into_exposed()
            })
    }

    /// How a token may be written into a query.
    #[derive(Debug, Clone, Copy)]
    enum Encoding {
        Plain,
        UpperCase,
        WithoutPrefix,
        Once,
        Twice,
        Thrice,
        AllBytesOnce,
        PrefixTwice,
    }

    fn apply(encoding: Encoding, token: &str) -> String {
        match encoding {
            Encoding::Plain => token.to_owned(),
            Encoding::UpperCase => token.to_ascii_uppercase(),
            Encoding::WithoutPrefix => token[4..].to_owned(),
            Encoding::Once => encode(token),
            Encoding::Twice => encode(&encode(token)),
            Encoding::Thrice => encode(&encode(&encode(token))),
            Encoding::AllBytesOnce => encode_all(token),
            Encoding::PrefixTwice => format!("{}%255F{}", &token[..3], &token[4..]),
        }
    }

    fn any_encoding() -> impl Strategy<Value = Encoding> {
        prop::sample::select(vec![
            Encoding::Plain,
            Encoding::UpperCase,
            Encoding::WithoutPrefix,
            Encoding::Once,
            Encoding::Twice,
            Encoding::Thrice,
            Encoding::AllBytesOnce,
            Encoding::PrefixTwice,
        ])
    }

    /// Parameter names: ordinary ones, credential-like ones, and arbitrary text (encoded).
    fn any_name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "q", "x", "limit", "cursor", "page", "token", "api_key"
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,12}",
            "\\PC{0,12}".prop_map(|name| encode(&name)),
        ]
    }

    /// What may stand around a name: nothing, spaces, `+` or an encoded space.
    fn any_padding() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", " ", "+", "++", "%20", "%2B"])
    }

    /// Values that are not tokens: safe text, and arbitrary text percent-encoded.
    fn any_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9A-Za-z.,-]{0,100}",
            "[0-9A-Za-z]{71}",
            "[0-9A-Za-z]{75}",
            "\\PC{0,40}".prop_map(|value| encode(&value)),
        ]
    }

    /// Ordinary parameter names, which the guard lets through.
    fn ordinary_name() -> impl Strategy<Value = String> {
        "(q|limit|cursor|level|status|space|page|x[a-z]{0,3})"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_token_in_any_encoding_under_any_name_is_refused(
            token in any_token(),
            encoding in any_encoding(),
            name in any_name(),
            (before, after) in (any_padding(), any_padding()),
            (prefix, suffix) in (any_value(), any_value()),
        ) {
            let value = apply(encoding, &token);
            let query = format!("a={prefix}&{before}{name}{after}={value}&b={suffix}");
            prop_assert!(query_carries_token(&query), "{}", query);
        }

        #[test]
        fn ordinary_parameters_with_non_token_values_pass(
            pairs in prop::collection::vec((ordinary_name(), any_value()), 0..6),
        ) {
            // A 71-character run is a token only with a matching checksum (about one in 2^30);
            // the values hold no `_`, or arbitrary text encoded, so no token prefix.
            let query = pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&");
            prop_assert!(!query_carries_token(&query), "{}", query);
        }

        #[test]
        fn the_guard_never_panics(query in "\\PC{0,200}") {
            let _ = query_carries_token(&query);
            let _ = query_carries_token(&encode(&query));
        }
    }
}
