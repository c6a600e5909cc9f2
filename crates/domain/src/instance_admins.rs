//! The one rule that keeps an instance manageable: the last active instance admin token is
//! never ended through the API, since nothing else could then manage the instance (regaining
//! access needs the operator at the store, docs/operations.md). Every store applies it to the
//! instance tokens as it holds them, under the lock its revocation takes.

use time::OffsetDateTime;

use crate::{ApiToken, TokenScope, TokenStatus};

/// Whether ending `target` at `at` (revoking it) leaves at least one active instance admin
/// token among `instance_tokens` (every instance admin token of the store; `target` among them
/// or not). Ending a token that is not active itself (revoked, expired, rotated, suspended)
/// takes nothing away, so it is always allowed, as is ending any space token.
pub fn leaves_an_active_instance_admin<'a>(
    target: &ApiToken,
    instance_tokens: impl IntoIterator<Item = &'a ApiToken>,
    at: OffsetDateTime,
) -> bool {
    if target.scope() != TokenScope::Instance || target.status_at(at) != TokenStatus::Active {
        return true;
    }
    instance_tokens.into_iter().any(|other| {
        other.id() != target.id()
            && other.scope() == TokenScope::Instance
            && other.status_at(at) == TokenStatus::Active
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::{
        CreatedBy, NewApiToken, SecretHash, SpaceId, TokenId, TokenLevel, TokenName, TokenRecord,
    };

    fn at() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn token(n: u128, scope: TokenScope) -> ApiToken {
        ApiToken::issue(NewApiToken {
            id: TokenId::from_uuid(Uuid::from_u128(n)),
            scope,
            name: TokenName::parse("t").unwrap(),
            created_at: at() - Duration::days(1),
            created_by: CreatedBy::System,
            expires_at: None,
            replaces: None,
            secret_hash: SecretHash::new("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$x".to_owned()),
        })
    }

    fn edited(token: &ApiToken, edit: impl FnOnce(&mut TokenRecord)) -> ApiToken {
        let mut record = token.record();
        edit(&mut record);
        ApiToken::restore(record).unwrap()
    }

    #[test]
    fn the_last_active_instance_token_may_not_end_and_any_other_may() {
        let one = token(1, TokenScope::Instance);
        let two = token(2, TokenScope::Instance);
        assert!(!leaves_an_active_instance_admin(&one, [&one], at()));
        assert!(!leaves_an_active_instance_admin(&one, [], at()));
        assert!(leaves_an_active_instance_admin(&one, [&one, &two], at()));
        assert!(leaves_an_active_instance_admin(&two, [&one, &two], at()));
    }

    #[test]
    fn only_an_active_other_instance_token_counts() {
        let one = token(1, TokenScope::Instance);
        let base = token(2, TokenScope::Instance);
        let ended = [
            edited(&base, |t| t.revoked_at = Some(at() - Duration::hours(1))),
            edited(&base, |t| t.expires_at = Some(at())),
            edited(&base, |t| t.suspended_at = Some(at() - Duration::hours(1))),
            edited(&base, |t| {
                // Rotated and in its grace period: it still verifies, but it is going away.
                t.replaced_by = Some(TokenId::from_uuid(Uuid::from_u128(9)));
                t.rotated_at = Some(at() - Duration::hours(1));
                t.expires_at = Some(at() + Duration::hours(1));
            }),
        ];
        for other in &ended {
            assert!(
                !leaves_an_active_instance_admin(&one, [&one, other], at()),
                "{:?}",
                other.status_at(at())
            );
        }
        let space = token(
            3,
            TokenScope::Space {
                space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
                level: TokenLevel::Admin,
            },
        );
        assert!(
            !leaves_an_active_instance_admin(&one, [&one, &space], at()),
            "a space admin token manages no instance"
        );
    }

    #[test]
    fn a_token_that_is_not_active_or_not_an_instance_token_may_always_end() {
        let revoked = edited(&token(1, TokenScope::Instance), |t| {
            t.revoked_at = Some(at() - Duration::hours(1));
        });
        assert!(leaves_an_active_instance_admin(&revoked, [&revoked], at()));
        let space = token(
            2,
            TokenScope::Space {
                space_id: SpaceId::from_uuid(Uuid::from_u128(1)),
                level: TokenLevel::Client,
            },
        );
        assert!(leaves_an_active_instance_admin(&space, [], at()));
    }
}
