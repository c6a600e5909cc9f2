//! The regular expression docs/security.md gives secret scanners matches every token tollgate
//! mints, of every kind and wherever it sits in a text, and none of the near misses. The pattern
//! is read from the document itself, so the two cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use regex::Regex;
use tollgate_domain::{TokenId, TokenKind, TokenSecret, TokenString};
use uuid::Uuid;

/// The pattern in the document's one ```regex block.
fn documented_pattern() -> Regex {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/security.md"
    ))
    .expect("docs/security.md exists");
    let (_, after) = doc.split_once("```regex\n").expect("a ```regex block");
    let (pattern, _) = after.split_once("\n```").expect("the block ends");
    assert!(!pattern.contains('\n'), "one line: {pattern}");
    Regex::new(pattern).expect("the documented pattern compiles")
}

fn token(kind: TokenKind, id: u128, secret: &str) -> String {
    let secret = TokenSecret::parse(secret).unwrap();
    TokenString::new(kind, TokenId::from_uuid(Uuid::from_u128(id)), &secret).into_exposed()
}

/// A token of every kind, the smallest and largest ids included.
fn tokens() -> Vec<String> {
    let secret = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
    TokenKind::ALL
        .into_iter()
        .flat_map(|kind| {
            [0, u128::MAX, 0x0192_3f6c_8b2a_7d41_9e5f_0a1b_2c3d_4e5f]
                .map(|id| token(kind, id, secret))
        })
        .collect()
}

/// Where a leaked token is found: a shell line, JSON, YAML, a URL, a header, a sentence.
fn settings(token: &str) -> Vec<String> {
    vec![
        token.to_owned(),
        format!("export TOLLGATE_TOKEN={token}"),
        format!(r#"{{"token": "{token}"}}"#),
        format!("token: '{token}'\n"),
        format!("https://example.com/?api_token={token}&x=1"),
        format!("x-undb-api-token: {token}\r\n"),
        format!("the token ({token}), then more."),
    ]
}

#[test]
fn the_pattern_finds_every_kind_of_token_wherever_it_sits() {
    let pattern = documented_pattern();
    for token in tokens() {
        for text in settings(&token) {
            let found: Vec<&str> = pattern.find_iter(&text).map(|m| m.as_str()).collect();
            assert_eq!(found, [token.as_str()], "in {text:?}");
        }
    }
}

#[test]
fn the_pattern_misses_the_near_misses() {
    let pattern = documented_pattern();
    let token = tokens().remove(0);
    let body = &token[4..];
    let near_misses = [
        format!("tgx_{body}"),
        format!("TGC_{body}"),
        format!("tg_{body}"),
        format!("tgc-{body}"),
        format!("tgc_{}", &body[1..]),
        format!("{token}0"),
        format!("x{token}"),
        format!("{}-{}", &token[..40], &token[41..]),
        format!("{}é{}", &token[..40], &token[41..]),
        format!("ghp_{}", &body[..36]),
    ];
    for text in &near_misses {
        assert!(!pattern.is_match(text), "matched {text:?}");
    }
}

fn any_kind() -> impl Strategy<Value = TokenKind> {
    prop::sample::select(TokenKind::ALL.to_vec())
}

proptest! {
    #[test]
    fn every_minted_token_is_matched_whole(
        kind in any_kind(),
        id in any::<u128>(),
        secret in "[0-9A-Za-z]{43}",
    ) {
        let token = token(kind, id, &secret);
        let text = format!("leaked: {token}\n");
        let found = documented_pattern().find(&text).map(|m| m.as_str().to_owned());
        prop_assert_eq!(found, Some(token));
    }
}
