//! The contract of a name search (`q=`): a case-insensitive substring, its wildcards taken as
//! characters, combined with the other filters and with pagination.

use tollgate_domain::{ApiToken, NameSearch, NewApiToken, TokenId, TokenLevel, TokenName};

use super::{ids, insert, query, Repositories};
use crate::ports::{ListOrder, StatusFilter, TokenQuery};
use crate::testing::fixtures::{new_token, space, space_id, token_id};

fn named(n: u128, name: &str, level: TokenLevel) -> ApiToken {
    ApiToken::issue(NewApiToken {
        name: TokenName::parse(name).unwrap_or_else(|e| panic!("{e}")),
        ..new_token(n, space_id(1), level)
    })
}

fn search(term: &str) -> Option<NameSearch> {
    Some(NameSearch::parse(term).unwrap_or_else(|e| panic!("{e}")))
}

/// A name search lists exactly the tokens whose name contains the term, ignoring case (ASCII
/// and beyond), with `%`, `_` and `\` matching only themselves; with a level and in pages.
pub async fn a_name_search_lists_the_names_that_contain_it_ignoring_case(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    ok!(r.spaces.insert(&space(2)).await);
    for t in [
        named(1, "ci deploy", TokenLevel::Client),
        named(2, "CI DEPLOY eu", TokenLevel::Admin),
        named(3, "Grande École sync", TokenLevel::Client),
        named(4, "backup", TokenLevel::Client),
        named(5, "50%_off", TokenLevel::Client),
        named(6, "50 off", TokenLevel::Client),
        named(7, "a\\b deploy", TokenLevel::Client),
    ] {
        assert!(insert(&r, &t).await);
    }
    let other = ApiToken::issue(NewApiToken {
        name: TokenName::parse("deploy elsewhere").unwrap_or_else(|e| panic!("{e}")),
        ..new_token(8, space_id(2), TokenLevel::Client)
    });
    assert!(insert(&r, &other).await);
    let find = |term: &str| TokenQuery {
        statuses: StatusFilter::ALL,
        name: search(term),
        ..query(1)
    };
    let cases: [(&str, &[u128]); 7] = [
        ("deploy", &[1, 2, 7]),
        ("DePlOy e", &[2]),
        ("ÉCOLE", &[3]),
        ("école", &[3]),
        ("%_o", &[5]),
        ("a\\b", &[7]),
        ("nothing", &[]),
    ];
    for (term, expected) in cases {
        let expected: Vec<TokenId> = expected.iter().map(|n| token_id(*n)).collect();
        assert_eq!(
            ids(ok!(r.tokens.list(&find(term)).await)),
            expected,
            "{term}"
        );
    }
    let admins = TokenQuery {
        level: Some(TokenLevel::Admin),
        ..find("deploy")
    };
    assert_eq!(ids(ok!(r.tokens.list(&admins).await)), [token_id(2)]);
    // In pages of one, both ways.
    for order in [ListOrder::OldestFirst, ListOrder::NewestFirst] {
        let mut seen = Vec::new();
        loop {
            let page = ids(ok!(r
                .tokens
                .list(&TokenQuery {
                    limit: 1,
                    after: seen.last().copied(),
                    order,
                    ..find("deploy")
                })
                .await));
            if page.is_empty() {
                break;
            }
            seen.extend(page);
        }
        if order == ListOrder::NewestFirst {
            seen.reverse();
        }
        assert_eq!(seen, [1, 2, 7].map(token_id), "{order:?}");
    }
}
