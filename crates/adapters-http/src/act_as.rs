//! `X-Tollgate-Act-As`: a platform's backend that authenticates its own users sends its
//! instance admin token and this header naming the member it acts for, and the request is then
//! decided by the policy for that member ([`Actor::act_for`]).
//!
//! The value is `user=<id>; space=<uuid>; role=<role>`: the three parameters once each, in any
//! order, separated by `;`, white space around them ignored. The user id is 1 to 128
//! characters of `[A-Za-z0-9._:@-]` ([`UserId`]), the role `owner`, `admin`, `editor` or
//! `viewer`. The header is sent at most once.

use axum::http::header::HeaderName;
use axum::http::HeaderMap;
use tollgate_app::VerifiedToken;
use tollgate_domain::{ActingFor, Actor, MemberRole, SpaceId, UserId};

use crate::error::{ApiError, ErrorCode};

/// The header's name.
pub const ACT_AS_HEADER: &str = "x-tollgate-act-as";

static ACT_AS_HEADER_NAME: HeaderName = HeaderName::from_static(ACT_AS_HEADER);

/// A parsed `X-Tollgate-Act-As` value: the member a platform acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActAs(pub ActingFor);

impl ActAs {
    /// Parses a header value.
    ///
    /// # Errors
    /// A 400 `invalid_act_as` whose detail says what is wrong (never quoting the value).
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let (mut user, mut space, mut role) = (None, None, None);
        for part in value.split(';') {
            let (key, raw) = part
                .split_once('=')
                .ok_or_else(|| invalid("every parameter must be `name=value`"))?;
            let raw = raw.trim();
            let slot_taken = match key.trim() {
                "user" => user
                    .replace(UserId::parse(raw).map_err(|e| invalid(&format!("`user`: {e}")))?)
                    .is_some(),
                "space" => space
                    .replace(
                        raw.parse::<SpaceId>()
                            .map_err(|_| invalid("`space` must be a space id (a UUID)"))?,
                    )
                    .is_some(),
                "role" => role
                    .replace(
                        raw.parse::<MemberRole>()
                            .map_err(|e| invalid(&format!("`role`: {e}")))?,
                    )
                    .is_some(),
                _ => return Err(invalid("the parameters are `user`, `space` and `role`")),
            };
            if slot_taken {
                return Err(invalid("each parameter must be given once"));
            }
        }
        match (user, space, role) {
            (Some(user_id), Some(space_id), Some(role)) => Ok(Self(ActingFor {
                user_id,
                space_id,
                role,
            })),
            _ => Err(invalid("`user`, `space` and `role` are all required")),
        }
    }
}

/// The value's form in the canonical order, for the OpenAPI document: every value it matches
/// parses. The parser also takes the three parameters in any other order, which the document's
/// description says.
#[must_use]
pub fn canonical_pattern() -> String {
    let roles: Vec<&str> = MemberRole::ALL.iter().map(|r| r.as_str()).collect();
    let hex = |n: usize| format!("[0-9a-fA-F]{{{n}}}");
    let ws = "[ \\t]*";
    format!(
        "^{ws}user{ws}={ws}[A-Za-z0-9._:@-]{{1,{max}}}{ws};{ws}space{ws}={ws}{}-{}-{}-{}-{}{ws};\
         {ws}role{ws}={ws}(?:{}){ws}$",
        hex(8),
        hex(4),
        hex(4),
        hex(4),
        hex(12),
        roles.join("|"),
        max = UserId::MAX_LEN,
    )
}

fn invalid(why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidActAs,
        format!("`X-Tollgate-Act-As` must be `user=<id>; space=<uuid>; role=<role>`: {why}."),
    )
}

/// `verified` as the request's header says: unchanged without `X-Tollgate-Act-As`, else the
/// member it names, acted for by the token (which must be an instance admin token: 403
/// `act_as_forbidden` otherwise, whatever the value).
pub(crate) fn apply(
    headers: &HeaderMap,
    verified: VerifiedToken,
) -> Result<VerifiedToken, ApiError> {
    let mut values = headers.get_all(&ACT_AS_HEADER_NAME).iter();
    let Some(value) = values.next() else {
        return Ok(verified);
    };
    if !tollgate_domain::may_act_for_members(&verified.actor) {
        return Err(forbidden());
    }
    if values.next().is_some() {
        return Err(invalid("send the header once"));
    }
    let value = value
        .to_str()
        .map_err(|_| invalid("the value must be visible ASCII"))?;
    let ActAs(member) = ActAs::parse(value)?;
    let actor: Actor = verified.actor.act_for(member).map_err(|_| forbidden())?;
    Ok(VerifiedToken {
        actor,
        token: verified.token,
    })
}

fn forbidden() -> ApiError {
    ApiError::new(
        ErrorCode::ActAsForbidden,
        "Only an instance admin token may act for a member with `X-Tollgate-Act-As`.",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SPACE: &str = "0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10";

    #[test]
    fn the_three_parameters_parse_in_any_order_with_white_space() {
        let expected = ActingFor {
            user_id: UserId::parse("ada@example.org").unwrap(),
            space_id: SPACE.parse().unwrap(),
            role: MemberRole::Editor,
        };
        for value in [
            format!("user=ada@example.org; space={SPACE}; role=editor"),
            format!("role=editor;user=ada@example.org;space={SPACE}"),
            format!("  space = {SPACE} ;  role= editor ; user =ada@example.org  "),
        ] {
            assert_eq!(
                ActAs::parse(&value).unwrap(),
                ActAs(expected.clone()),
                "{value}"
            );
        }
    }

    #[test]
    fn values_of_the_documented_form_parse_and_others_of_the_tests_do_not_match_it() {
        let pattern = regex::Regex::new(&canonical_pattern()).unwrap();
        let long = "u".repeat(128);
        for value in [
            format!("user=ada@example.org; space={SPACE}; role=editor"),
            format!("user={long};space={};role=owner", SPACE.to_uppercase()),
            format!(" user = a.b_c:d-e ;\tspace= {SPACE} ; role =viewer "),
        ] {
            assert!(pattern.is_match(&value), "{value}");
            assert!(ActAs::parse(&value).is_ok(), "{value}");
        }
        for value in [
            format!("user=ada; space={SPACE}; role=superuser"),
            format!("user=u{long}; space={SPACE}; role=viewer"),
            format!("user=ada; space={SPACE}; role=viewer;"),
        ] {
            assert!(!pattern.is_match(&value), "{value}");
            assert!(ActAs::parse(&value).is_err(), "{value}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_value_the_documented_pattern_matches_parses(
            value in "[ \t]{0,2}user[ \t]?=[ \t]?[A-Za-z0-9._:@-]{1,130}[ \t]?;[ \t]?space=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}; role=(owner|admin|editor|viewer|root)[ \t]{0,2}",
        ) {
            let pattern = regex::Regex::new(&canonical_pattern()).unwrap();
            proptest::prop_assert_eq!(pattern.is_match(&value), ActAs::parse(&value).is_ok(), "{}", value);
        }
    }

    #[test]
    fn malformed_values_are_invalid_act_as_and_never_quoted() {
        let long = "u".repeat(129);
        for value in [
            String::new(),
            "user=ada".to_owned(),
            format!("user=ada; space={SPACE}"),
            format!("user=ada; space={SPACE}; role=superuser"),
            "user=ada; space=not-a-uuid; role=viewer".to_owned(),
            format!("user=; space={SPACE}; role=viewer"),
            format!("user={long}; space={SPACE}; role=viewer"),
            format!("user=a b; space={SPACE}; role=viewer"),
            format!("user=ada, space={SPACE}, role=viewer"),
            format!("user=ada; user=bob; space={SPACE}; role=viewer"),
            format!("user=ada; space={SPACE}; role=viewer; extra=1"),
            format!("user=ada; space={SPACE}; role=viewer;"),
            format!("user ada; space={SPACE}; role=viewer"),
        ] {
            let err = ActAs::parse(&value).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidActAs, "{value}");
            assert!(
                err.detail().starts_with("`X-Tollgate-Act-As` must be"),
                "{value}"
            );
            if value.len() > 20 {
                assert!(!err.detail().contains(&value), "{value}");
            }
        }
    }
}
